// The engine end to end: the real CLI against a real sshd on 127.0.0.1, a non-root user
// with passwordless sudo, a small playbook writing only into a temporary directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, rm, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sshdUnavailable, type Sshd } from './helpers/sshd.js';
import { startBoxTarget, runCli, type BoxTarget } from './helpers/box-target.js';

const PLAYBOOK = path.resolve('test/fixtures/engine/playbooks/demo.yaml');
const skip = sshdUnavailable();

let box: BoxTarget | undefined;
let sshd: Sshd;
let dir: string;
let inventory: string;
let root: string;

const provision = runCli;

async function report(file: string) {
  return JSON.parse(await readFile(file, 'utf8')) as {
    hosts: Record<string, { ok: number; changed: number; failed: number; unreachable: number; status: string; message?: string }>;
    tasks: { host: string; task: string; status: string; changed: boolean; diff?: string; message?: string }[];
    check: boolean;
  };
}

before(async () => {
  if (skip) return;
  box = await startBoxTarget('provision-engine-');
  ({ sshd, dir, root, inventory } = box);
});

after(async () => {
  if (!skip) await box?.stop();
});

test('first run changes, second run reports changed=0, files written as root through sudo', { skip }, async () => {
  const r1 = path.join(dir, 'r1.json');
  const first = await provision(inventory, PLAYBOOK, '--json', r1);
  assert.equal(first.code, 0, first.output);
  const j1 = await report(r1);
  assert.ok(j1.hosts.box.changed >= 6, `expected changes, got ${JSON.stringify(j1.hosts.box)}`);
  assert.equal(j1.hosts.box.failed, 0);
  assert.match(first.output, /PLAY RECAP/);
  assert.equal(await readFile(path.join(root, 'etc/app.conf'), 'utf8'), '# app.conf for box\ngreeting = hello\nlisten = 8080\n');
  const st = await stat(path.join(root, 'etc/plain.txt'));
  assert.equal(st.uid, 0, 'become: the file is written by root');
  assert.equal(st.mode & 0o777, 0o640);
  // The handler ran once, after the template changed.
  assert.equal((await readFile(path.join(root, 'handler-runs'), 'utf8')).trim().split('\n').length, 1);

  const r2 = path.join(dir, 'r2.json');
  const second = await provision(inventory, PLAYBOOK, '--json', r2);
  assert.equal(second.code, 0, second.output);
  const j2 = await report(r2);
  assert.equal(j2.hosts.box.changed, 0, JSON.stringify(j2.tasks.filter((t) => t.changed)));
  assert.ok(j2.hosts.box.ok >= 6);
  assert.match(second.output, /box\s+: ok=\d+\s+changed=0/);
  assert.equal((await readFile(path.join(root, 'handler-runs'), 'utf8')).trim().split('\n').length, 1, 'no handler on a no-op run');
});

test('read-ahead: a no-op run answers its reads from one batch; a file edited by hand between runs is still found and repaired', { skip }, async () => {
  type WithReadAhead = { readAhead?: { served: number; live: number; batches: number }; hosts: Record<string, { changed: number }> };
  const noop = path.join(dir, 'ra-noop.json');
  assert.equal((await provision(inventory, PLAYBOOK, '--json', noop)).code, 0);
  const j = JSON.parse(await readFile(noop, 'utf8')) as WithReadAhead;
  assert.equal(j.hosts.box.changed, 0);
  assert.equal(j.readAhead?.batches, 1);
  assert.equal(j.readAhead?.live, 0, 'every read was recorded by the runs before');
  assert.ok(j.readAhead!.served >= 6, JSON.stringify(j.readAhead));
  // A drift made outside provision, after the last run: found, because the batch is taken at the start of the run.
  await writeFile(path.join(root, 'etc/app.conf'), 'greeting = drifted\n');
  const fix = path.join(dir, 'ra-fix.json');
  assert.equal((await provision(inventory, PLAYBOOK, '--json', fix)).code, 0);
  const f = JSON.parse(await readFile(fix, 'utf8')) as WithReadAhead & { tasks: { task: string; changed: boolean }[] };
  assert.deepEqual(f.tasks.filter((t) => t.changed).map((t) => t.task), ['templated config', 'touch marker']);
  assert.equal(await readFile(path.join(root, 'etc/app.conf'), 'utf8'), '# app.conf for box\ngreeting = hello\nlisten = 8080\n');
  assert.ok(f.readAhead!.live > 0, 'reads after the repair went to the host');
  // --no-read-ahead: every read is a round trip; same answers.
  const off = path.join(dir, 'ra-off.json');
  assert.equal((await provision(inventory, PLAYBOOK, '--no-read-ahead', '--json', off)).code, 0);
  const o = JSON.parse(await readFile(off, 'utf8')) as WithReadAhead;
  assert.equal(o.readAhead, undefined);
  assert.equal(o.hosts.box.changed, 0);
});

test('--check --diff shows the planned diff and writes nothing', { skip }, async () => {
  const before = await readFile(path.join(root, 'etc/app.conf'), 'utf8');
  const listing = (await readdir(path.join(root, 'etc'))).sort();
  const rc = path.join(dir, 'check.json');
  const res = await provision(inventory, PLAYBOOK, '--check', '--diff', '-e', 'demo_greeting=bonjour', '--json', rc);
  assert.equal(res.code, 0, res.output);
  const j = await report(rc);
  assert.equal(j.check, true);
  const t = j.tasks.find((x) => x.task === 'templated config')!;
  assert.equal(t.status, 'changed');
  assert.match(t.diff!, /-greeting = hello\n\+greeting = bonjour/);
  assert.match(res.output, /\+greeting = bonjour/);
  assert.match(res.output, /check mode: nothing was changed/);
  assert.equal(await readFile(path.join(root, 'etc/app.conf'), 'utf8'), before);
  assert.deepEqual((await readdir(path.join(root, 'etc'))).sort(), listing);
  // Applying the same change for real, then it is converged again.
  assert.equal((await provision(inventory, PLAYBOOK, '-e', 'demo_greeting=bonjour')).code, 0);
  assert.match(await readFile(path.join(root, 'etc/app.conf'), 'utf8'), /greeting = bonjour/);
  const again = path.join(dir, 'again.json');
  await provision(inventory, PLAYBOOK, '-e', 'demo_greeting=bonjour', '--json', again);
  assert.equal((await report(again)).hosts.box.changed, 0);
});

test('--tags/--skip-tags select tasks; --limit that matches nothing is bad input', { skip }, async () => {
  const rs = path.join(dir, 'skip.json');
  const res = await provision(inventory, PLAYBOOK, '--skip-tags', 'demo', '--json', rs);
  assert.equal(res.code, 0, res.output);
  assert.equal((await report(rs)).tasks.filter((t) => t.status !== 'skipped').length, 0);
  const none = await provision(inventory, PLAYBOOK, '--limit', 'nosuchhost');
  assert.equal(none.code, 3);
  assert.match(none.output, /nosuchhost/);
});

test('an unreachable host is named with its reason and the exit code says so', { skip }, async () => {
  const bad = path.join(dir, 'bad.yaml');
  const text = (await readFile(inventory, 'utf8')).replace(`ansible_port: ${sshd.port}`, 'ansible_port: 1');
  await writeFile(bad, text);
  const rb = path.join(dir, 'bad.json');
  const res = await provision(bad, PLAYBOOK, '--json', rb);
  assert.equal(res.code, 2, res.output);
  const j = await report(rb);
  assert.equal(j.hosts.box.status, 'unreachable');
  assert.match(j.hosts.box.message!, /refused/i);
  assert.match(res.output, /UNREACHABLE/);
});

test('refused, failed auth and a changed host key: each host named with its reason, the good host converges, exit 2', { skip }, async () => {
  const { execFileSync } = await import('node:child_process');
  const base = await readFile(inventory, 'utf8');
  // one host "box" in the base inventory: make three broken copies of it next to a good one
  const hostBlock = base.slice(base.indexOf('    box:'));
  const otherKey = path.join(dir, 'other_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
  const wrongHosts = path.join(dir, 'wrong_known_hosts');
  await writeFile(wrongHosts, `[127.0.0.1]:${sshd.port} ${(await readFile(otherKey + '.pub', 'utf8')).trim().split(' ').slice(0, 2).join(' ')}\n`);
  const variant = (name: string, edit: (b: string) => string) => edit(hostBlock.replace('    box:', `    ${name}:`).replace(root, path.join(dir, name)));
  const mixed = [
    'all:',
    '  hosts:',
    variant('good', (b) => b).trimEnd(),
    variant('refused', (b) => b.replace(`ansible_port: ${sshd.port}`, 'ansible_port: 1')).trimEnd(),
    variant('badauth', (b) => b.replace(sshd.clientKeyPath, otherKey)).trimEnd(),
    variant('newkey', (b) => b.replace(sshd.knownHostsFile, wrongHosts)).trimEnd(),
    '',
  ].join('\n');
  const inv = path.join(dir, 'mixed.yaml');
  await writeFile(inv, mixed);
  const json = path.join(dir, 'mixed.json');
  const res = await provision(inv, PLAYBOOK, '--json', json);
  assert.equal(res.code, 2, res.output);
  const j = await report(json);
  assert.equal(j.hosts.good.status, 'ok');
  assert.ok(j.hosts.good.changed > 0);
  assert.equal(j.hosts.refused.status, 'unreachable');
  assert.match(j.hosts.refused.message!, /refused/i);
  assert.equal(j.hosts.badauth.status, 'unreachable');
  assert.match(j.hosts.badauth.message!, /auth/i);
  assert.equal(j.hosts.newkey.status, 'unreachable');
  assert.match(j.hosts.newkey.message!, /host key/i);
  assert.match(j.hosts.newkey.message!, /SHA256:/);
  for (const h of ['refused', 'badauth', 'newkey']) assert.match(res.output, new RegExp(`${h}\\s.*UNREACHABLE`));
});

test('bad input is reported before any connection, with file:line:col', async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'provision-badpb-'));
  const pb = path.join(d, 'pb.yaml');
  await writeFile(pb, '- name: x\n  hosts: all\n  rolez: [demo]\n');
  const res = await provision('test/fixtures/engine/playbooks/demo.yaml', pb);
  assert.equal(res.code, 3);
  assert.match(res.output, /pb\.yaml:3:3: unknown play key "rolez" \(did you mean "roles"\?\)/);
  assert.doesNotMatch(res.output, /\n\s+at /, 'no stack trace');
  await rm(d, { recursive: true });
});
