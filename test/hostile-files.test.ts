// Every file the CLI reads from its input goes through one bounded reader (src/input-file.ts):
// a FIFO, /dev/zero, a directory or a file over the size limit is refused with exit 3 and a
// message naming the path, at once (no hang, no memory growth) and before any connection.
// Each path that reads a file is one case here (issue 19, finding 4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CountingListener, assertBoundedBadInput } from './helpers/bad-input.js';
import { InputError } from '../src/errors.js';
import { renderTemplateFile } from '../src/ops/source.js';
import { renderTemplate } from '../src/topology/render.js';
import { connectionSpecForDestination } from '../src/transport/connection.js';
import { loadKnownHosts } from '../src/transport/known-hosts.js';

const listener = new CountingListener();
let dir = '';
let fifo = '';
let inv = '';
let pb = '';

function inventory(name: string, vars: Record<string, string>): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  const extra = Object.entries(vars).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('');
  const f = path.join(d, 'hosts.yaml');
  writeFileSync(f, `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_port: ${listener.port}\n${extra}  hosts:\n    h1:\n`);
  return f;
}

before(async () => {
  await listener.start();
  dir = mkdtempSync(path.join(tmpdir(), 'provision-input-files-'));
  fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  inv = inventory('ok', {});
  pb = path.join(dir, 'play.yaml');
  writeFileSync(pb, '- name: p\n  hosts: all\n  roles: [common]\n');
});

after(async () => {
  await listener.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => listener.provision(args);
const FIFO_MSG = /is a FIFO \(named pipe\), not a regular file/;
const DEV_MSG = /is a character device, not a regular file/;

test('extra vars: -e @/dev/zero, -e @fifo, -e @directory, -e @sparse 1 GiB file', async () => {
  assertBoundedBadInput(await run([inv, pb, '-e', '@/dev/zero']), { msg: /extra-vars file is a character device/, at: '/dev/zero' }, '-e @/dev/zero');
  assertBoundedBadInput(await run([inv, pb, '-e', `@${fifo}`]), { msg: /extra-vars file is a FIFO/, at: fifo }, '-e @fifo');
  assertBoundedBadInput(await run([inv, pb, '-e', `@${dir}`]), { msg: /extra-vars file is a directory, not a file/, at: dir }, '-e @dir');
  // Sparse: 1 GiB long, no disk used; refused by its size before a byte is read.
  const big = path.join(dir, 'big.yaml');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 1024 ** 3);
  closeSync(fd);
  assertBoundedBadInput(await run([inv, pb, '-e', `@${big}`]), { msg: /extra-vars file is 1073741824 bytes, larger than the 4194304-byte limit/, at: big }, '-e @1GiB');
});

test('playbook: a FIFO and /dev/zero', async () => {
  assertBoundedBadInput(await run([inv, fifo]), { msg: /playbook is a FIFO/, at: fifo }, 'playbook fifo');
  assertBoundedBadInput(await run([inv, '/dev/zero']), { msg: /playbook is a character device/, at: '/dev/zero' }, 'playbook /dev/zero');
});

test('inventory: a FIFO and /dev/zero, for a run and for check', async () => {
  assertBoundedBadInput(await run([fifo, pb]), { msg: /inventory file is a FIFO/, at: fifo }, 'inventory fifo');
  assertBoundedBadInput(await run(['check', '/dev/zero']), { msg: /inventory file is a character device/, at: '/dev/zero' }, 'check /dev/zero');
});

test('group_vars and host_vars: a FIFO file and a symlink to /dev/zero', async () => {
  const gv = inventory('gv', {});
  mkdirSync(path.join(dir, 'gv/group_vars'));
  execFileSync('mkfifo', [path.join(dir, 'gv/group_vars/all.yaml')]);
  const at = path.join(dir, 'gv/group_vars/all.yaml');
  assertBoundedBadInput(await run([gv, pb]), { msg: /vars file is a FIFO/, at }, 'group_vars fifo');
  const hv = inventory('hv', {});
  mkdirSync(path.join(dir, 'hv/host_vars'));
  symlinkSync('/dev/zero', path.join(dir, 'hv/host_vars/h1.yaml'));
  assertBoundedBadInput(await run([hv, pb]), { msg: /vars file is a character device/, at: path.join(dir, 'hv/host_vars/h1.yaml') }, 'host_vars /dev/zero');
});

test('provision_known_hosts_file: a FIFO and /dev/zero are refused before connecting', async () => {
  for (const [file, msg] of [[fifo, FIFO_MSG], ['/dev/zero', DEV_MSG]] as const) {
    const f = inventory(`kh-${path.basename(file)}`, { provision_known_hosts_file: file });
    const r = await run([f, pb]);
    assertBoundedBadInput(r, { msg: new RegExp(`known_hosts file ${file} ${msg.source}`) }, `known_hosts ${file}`);
    assert.match(r.err, /hosts\.yaml:\d+:\d+: /, 'names the inventory line that set it');
  }
  // The transport's own read is bounded too: a FIFO is a problem reported, not a hang.
  const t0 = Date.now();
  const { entries, problems } = await loadKnownHosts([fifo, '/dev/zero']);
  assert.equal(entries.length, 0);
  assert.deepEqual(problems.map((p) => p.message), ['known_hosts file is a FIFO (named pipe), not a regular file; refusing to read it', 'known_hosts file is a character device, not a regular file; refusing to read it']);
  assert.ok(Date.now() - t0 < 1000);
});

test('private key file: a FIFO is refused before connecting', async () => {
  const f = inventory('key-fifo', { ansible_ssh_private_key_file: fifo });
  assertBoundedBadInput(await run([f, pb]), { msg: new RegExp(`private key file ${fifo} ${FIFO_MSG.source}`) }, 'key fifo');
});

test('{file:} secret: a FIFO is refused, naming the path', async () => {
  const f = inventory('secret-fifo', {});
  writeFileSync(f, `all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_port: ${listener.port}\n    ha_secret: {file: ${fifo}}\n  hosts:\n    h1:\n`);
  const { Secret } = await import('../src/topology/secret.js');
  const t0 = Date.now();
  assert.throws(() => Secret.resolve({ file: fifo }), new RegExp(`secret file ${fifo} ${FIFO_MSG.source}`));
  assert.throws(() => Secret.resolve({ file: '/dev/zero' }), new RegExp(`secret file /dev/zero ${DEV_MSG.source}`));
  assert.ok(Date.now() - t0 < 1000);
});

test('templates (role templates and topology templates): a FIFO is refused at once', async () => {
  const t0 = Date.now();
  await assert.rejects(renderTemplateFile(fifo, {}), (e: Error) => e instanceof InputError && /template is a FIFO/.test(e.message));
  assert.throws(() => renderTemplate('/dev/zero', {}), (e: Error) => e instanceof InputError && DEV_MSG.test(e.message));
  assert.ok(Date.now() - t0 < 1000);
});

test('~/.ssh/config: a FIFO is refused (exit 3), not waited on', () => {
  assert.throws(
    () => connectionSpecForDestination('127.0.0.1', { sshConfigPath: fifo, home: dir, env: {} }),
    (e: Error) => e instanceof InputError && /ssh config is a FIFO/.test(e.message),
  );
});
