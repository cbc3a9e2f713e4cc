// YAML tasks end to end: the real CLI against a loopback sshd (a non-root user with sudo), a
// playbook of Ansible-shaped tasks writing only into a temporary directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { sshdUnavailable } from './helpers/sshd.js';
import { startBoxTarget, runCli, type BoxTarget } from './helpers/box-target.js';

const PLAYBOOK = path.resolve('test/fixtures/tasks/local/play.yaml');
const skip = sshdUnavailable();
let box: BoxTarget | undefined;
let dir: string;
let inventory: string;
let root: string;

const provision = runCli;

async function report(file: string) {
  return JSON.parse(await readFile(file, 'utf8')) as {
    hosts: Record<string, { ok: number; changed: number; failed: number; skipped: number }>;
    tasks: { task: string; status: string; message?: string; diff?: string }[];
  };
}

before(async () => {
  if (skip) return;
  box = await startBoxTarget('provision-tasks-');
  ({ dir, root, inventory } = box);
});

after(async () => {
  if (!skip) await box?.stop();
});

test('a play of YAML tasks converges, then a second run and a --check --diff run change nothing', { skip }, async () => {
  const r1 = path.join(dir, 'r1.json');
  const first = await provision(inventory, PLAYBOOK, '--json', r1);
  assert.equal(first.code, 0, first.output);
  const j1 = await report(r1);
  assert.ok(j1.hosts.box.changed >= 8, first.output);
  assert.equal(await readFile(path.join(root, 'etc/app.conf'), 'utf8'), '# app.conf for box\ngreeting = hello\nuser = alice\nuser = bob\n');
  assert.equal((await stat(path.join(root, 'etc/app.conf'))).mode & 0o777, 0o640);
  assert.equal((await stat(path.join(root, 'etc/app.conf'))).uid, 0, 'become: written by root');
  assert.equal(await readFile(path.join(root, 'etc/bob.txt'), 'utf8'), 'user BOB\n');
  assert.match(await readFile(path.join(root, 'etc/os.txt'), 'utf8'), /^family = (Debian|RedHat)\n$/);
  assert.equal(await readFile(path.join(root, 'etc/block.txt'), 'utf8'), '# BEGIN ANSIBLE MANAGED BLOCK\na = alice,bob\nb = 2\n# END ANSIBLE MANAGED BLOCK\n');
  assert.equal(await readlink(path.join(root, 'app.conf')), path.join(root, 'etc/app.conf'));
  assert.equal(await readFile(path.join(root, 'handler-runs'), 'utf8'), 'run\n');
  assert.ok(j1.tasks.some((t) => t.task === 'never' && t.status === 'skipped'));
  assert.ok(j1.tasks.some((t) => t.task === 'debug' && t.message === 'alice-bob on Debian 12' || /alice-bob on \w+ \d+/.test(t.message ?? '')));

  const r2 = path.join(dir, 'r2.json');
  const second = await provision(inventory, PLAYBOOK, '--json', r2);
  assert.equal(second.code, 0, second.output);
  assert.equal((await report(r2)).hosts.box.changed, 0, second.output);
  assert.equal(await readFile(path.join(root, 'handler-runs'), 'utf8'), 'run\n', 'no handler on a no-op run');

  await writeFile(path.join(root, 'etc/bob.txt'), 'edited\n');
  const r3 = path.join(dir, 'r3.json');
  const check = await provision(inventory, PLAYBOOK, '--check', '--diff', '--json', r3);
  assert.equal(check.code, 0, check.output);
  const j3 = await report(r3);
  assert.equal(j3.hosts.box.changed, 1, check.output);
  assert.match(j3.tasks.find((t) => t.task === 'one file per user')!.diff ?? '', /-edited\n\+user BOB/);
  assert.equal(await readFile(path.join(root, 'etc/bob.txt'), 'utf8'), 'edited\n', 'check mode changes nothing');
});

test('an unknown module argument is an error at the task line before connecting (exit 3)', { skip }, async () => {
  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, '- hosts: all\n  tasks:\n    - name: typo\n      copy:\n        contnet: x\n        dest: /tmp/x\n');
  const r = await provision(inventory, bad);
  assert.equal(r.code, 3, r.output);
  assert.match(r.output, /bad\.yaml:5:\d+: copy: unsupported argument "contnet" \(did you mean "content"\?\)/);
  await writeFile(bad, '- hosts: all\n  tasks:\n    - name: typo\n      ansible.builtin.fille: path=/tmp/x\n');
  const r2 = await provision(inventory, bad);
  assert.equal(r2.code, 3, r2.output);
  assert.match(r2.output, /bad\.yaml:4:\d+: unknown module or task keyword "ansible\.builtin\.fille" \(did you mean "file"\?\)/);
  await writeFile(bad, '- hosts: all\n  tasks:\n    - service: name=x state=restart\n');
  const r3 = await provision(inventory, bad);
  assert.equal(r3.code, 3, r3.output);
  assert.match(r3.output, /bad\.yaml:3:\d+: service: state="restart" is not supported \(did you mean "restarted"\?\)/);
});
