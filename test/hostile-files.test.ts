// Every file the CLI reads from its input goes through one bounded reader (src/input-file.ts):
// a FIFO, /dev/zero, a directory or a file over the size limit is refused with exit 3 and a
// message naming the path, at once (no hang, no memory growth) and before any connection.
// Each path that reads a file is one case here (issue 19, finding 4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { CountingListener, assertBoundedBadInput } from './helpers/bad-input.js';
import { InputError } from '../src/errors.js';
import { renderTemplateFile } from '../src/ops/source.js';
import { renderTemplate } from '../src/topology/render.js';
import { connectionSpecForDestination } from '../src/transport/connection.js';
import { loadKnownHosts } from '../src/transport/known-hosts.js';

const listener = new CountingListener();
const run = (args: string[]) => listener.provision(args);
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

let sock = '';
let unixServer: Server;

before(async () => {
  await listener.start();
  dir = mkdtempSync(path.join(tmpdir(), 'provision-input-files-'));
  fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  sock = path.join(dir, 'sock');
  unixServer = createServer(() => {});
  await new Promise<void>((resolve) => unixServer.listen(sock, resolve));
  symlinkSync(path.join(dir, 'loop-b'), path.join(dir, 'loop-a'));
  symlinkSync(path.join(dir, 'loop-a'), path.join(dir, 'loop-b'));
  symlinkSync(fifo, path.join(dir, 'to-fifo.yaml'));
  sparse('big.yaml', 1024 ** 3); // 1 GiB long, no disk used
  inv = inventory('ok', {});
  pb = put('play.yaml', '- name: p\n  hosts: all\n  roles: [common]\n');
  inventory('gv', {});
  mkdirSync(path.join(dir, 'gv/group_vars'));
  execFileSync('mkfifo', [path.join(dir, 'gv/group_vars/all.yaml')]);
  inventory('hv', {});
  mkdirSync(path.join(dir, 'hv/host_vars'));
  symlinkSync('/dev/zero', path.join(dir, 'hv/host_vars/h1.yaml'));
  inventory('gvbig', {});
  sparse('gvbig/group_vars/all.yaml', 1024 ** 3);
  // Load the CLI's modules once, so the first case's time is its own.
  await run([inv, pb, '-e', `@${put('warm.yaml', 'x: [\n')}`]);
  await run(['check', put('warm-inv/hosts.yaml', 'all: [\n')]);
});

after(async () => {
  await listener.close();
  await new Promise<void>((resolve) => unixServer.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const FIFO_MSG = /is a FIFO \(named pipe\), not a regular file/;
const DEV_MSG = /is a character device, not a regular file/;

/** Write a file under the test directory (parents made); returns its path. */
function put(rel: string, text: string): string {
  const f = path.join(dir, rel);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
}

function sparse(rel: string, bytes: number): string {
  const f = put(rel, '');
  const fd = openSync(f, 'r+');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return f;
}

const deepFlow = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepMap = (n: number) => '{a: '.repeat(n) + '1' + '}'.repeat(n);
/** 101 block mappings, one per line: the limit is passed on line 102 of the text. */
const deepBlock = (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' 1\n';

interface FileCase {
  name: string;
  /** The CLI arguments (made once the test directory exists). */
  args: () => string[];
  msg: RegExp;
  /** The path the message starts with, and for YAML errors its :line:col. */
  at: () => string;
}

const CASES: FileCase[] = [
  // Not a regular file, or too big: refused by the input reader before a byte is read.
  { name: '-e @/dev/zero', args: () => [inv, pb, '-e', '@/dev/zero'], msg: /extra-vars file is a character device/, at: () => '/dev/zero' },
  { name: '-e @/dev/urandom', args: () => [inv, pb, '-e', '@/dev/urandom'], msg: /extra-vars file is a character device/, at: () => '/dev/urandom' },
  { name: '-e @/dev/null', args: () => [inv, pb, '-e', '@/dev/null'], msg: /extra-vars file is a character device/, at: () => '/dev/null' },
  { name: '-e @fifo', args: () => [inv, pb, '-e', `@${fifo}`], msg: /extra-vars file is a FIFO/, at: () => fifo },
  { name: '-e @directory', args: () => [inv, pb, '-e', `@${dir}`], msg: /extra-vars file is a directory, not a file/, at: () => dir },
  { name: '-e @socket', args: () => [inv, pb, '-e', `@${sock}`], msg: /extra-vars file is a socket, not a regular file/, at: () => sock },
  { name: '-e @symlink loop', args: () => [inv, pb, '-e', `@${path.join(dir, 'loop-a')}`], msg: /extra-vars file is a symlink loop/, at: () => path.join(dir, 'loop-a') },
  { name: '-e @symlink to a FIFO', args: () => [inv, pb, '-e', `@${path.join(dir, 'to-fifo.yaml')}`], msg: /extra-vars file is a FIFO/, at: () => path.join(dir, 'to-fifo.yaml') },
  { name: '-e @sparse 1 GiB file', args: () => [inv, pb, '-e', `@${path.join(dir, 'big.yaml')}`], msg: /extra-vars file is 1073741824 bytes, larger than the 4194304-byte limit/, at: () => path.join(dir, 'big.yaml') },
  { name: 'playbook: a FIFO', args: () => [inv, fifo], msg: /playbook is a FIFO/, at: () => fifo },
  { name: 'playbook: /dev/zero', args: () => [inv, '/dev/zero'], msg: /playbook is a character device/, at: () => '/dev/zero' },
  { name: 'playbook: sparse 1 GiB', args: () => [inv, path.join(dir, 'big.yaml')], msg: /playbook is 1073741824 bytes, larger than the 4194304-byte limit/, at: () => path.join(dir, 'big.yaml') },
  { name: 'inventory: a FIFO', args: () => [fifo, pb], msg: /inventory file is a FIFO/, at: () => fifo },
  { name: 'check: inventory /dev/zero', args: () => ['check', '/dev/zero'], msg: /inventory file is a character device/, at: () => '/dev/zero' },
  { name: 'inventory: sparse 1 GiB', args: () => [path.join(dir, 'big.yaml'), pb], msg: /inventory file is 1073741824 bytes, larger than the \d+-byte limit/, at: () => path.join(dir, 'big.yaml') },
  { name: 'group_vars/all.yaml: a FIFO', args: () => [path.join(dir, 'gv/hosts.yaml'), pb], msg: /vars file is a FIFO/, at: () => path.join(dir, 'gv/group_vars/all.yaml') },
  { name: 'host_vars/h1.yaml -> /dev/zero', args: () => [path.join(dir, 'hv/hosts.yaml'), pb], msg: /vars file is a character device/, at: () => path.join(dir, 'hv/host_vars/h1.yaml') },
  { name: 'group_vars/all.yaml: sparse 1 GiB', args: () => [path.join(dir, 'gvbig/hosts.yaml'), pb], msg: /vars file is 1073741824 bytes, larger than the \d+-byte limit/, at: () => path.join(dir, 'gvbig/group_vars/all.yaml') },
  // YAML nested too deeply: refused before the document is composed, at the first collection too deep.
  { name: '-e: 5,000-deep flow sequence', args: () => [inv, pb, '-e', `@${put('deep/flow.yaml', `a: ${deepFlow(5000)}\n`)}`], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep/flow.yaml')}:1:103` },
  { name: '-e: 5,000-deep flow mapping', args: () => [inv, pb, '-e', `@${put('deep/map.yaml', `a: ${deepMap(5000)}\n`)}`], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep/map.yaml')}:1:400` },
  { name: '-e: 101-deep block mapping', args: () => [inv, pb, '-e', `@${put('deep/block.yaml', deepBlock(101))}`], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep/block.yaml')}:101:101` },
  { name: 'playbook: 5,000-deep vars', args: () => [inv, put('deep/play.yaml', `- hosts: all\n  roles: [common]\n  vars:\n    x: ${deepFlow(5000)}\n`)], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep/play.yaml')}:4:105` },
  { name: 'inventory: 5,000-deep host vars', args: () => [put('deep-inv/hosts.yaml', `all:\n  hosts:\n    h1: {x: ${deepFlow(5000)}}\n`), pb], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep-inv/hosts.yaml')}:3:109` },
  { name: 'check: 5,000-deep inventory', args: () => ['check', path.join(dir, 'deep-inv/hosts.yaml')], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep-inv/hosts.yaml')}:3:109` },
  { name: 'inventory: 200 nested children groups', args: () => [put('deep-children/hosts.yaml', nestedChildren(200)), pb], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep-children/hosts.yaml')}:` },
  { name: 'group_vars: 5,000-deep', args: () => [inventoryWith('deep-gv', { 'group_vars/all.yaml': `x: ${deepMap(5000)}\n` }), pb], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep-gv/group_vars/all.yaml')}:1:400` },
  { name: 'host_vars: 5,000-deep', args: () => [inventoryWith('deep-hv', { 'host_vars/h1.yaml': `x: ${deepFlow(5000)}\n` }), pb], msg: /YAML nested deeper than 100 levels/, at: () => `${path.join(dir, 'deep-hv/host_vars/h1.yaml')}:1:103` },
  // Connection files named by the inventory: checked before connecting, at the line that named them.
  { name: 'provision_known_hosts_file: a FIFO', args: () => [inventory('kh-fifo', { provision_known_hosts_file: fifo }), pb], msg: /known_hosts file \S+\/fifo is a FIFO \(named pipe\), not a regular file/, at: () => `${path.join(dir, 'kh-fifo/hosts.yaml')}:` },
  { name: 'provision_known_hosts_file: /dev/zero', args: () => [inventory('kh-zero', { provision_known_hosts_file: '/dev/zero' }), pb], msg: /known_hosts file \/dev\/zero is a character device, not a regular file/, at: () => `${path.join(dir, 'kh-zero/hosts.yaml')}:` },
  { name: 'ansible_ssh_private_key_file: a FIFO', args: () => [inventory('key-fifo', { ansible_ssh_private_key_file: fifo }), pb], msg: /private key file \S+\/fifo is a FIFO \(named pipe\), not a regular file/, at: () => `${path.join(dir, 'key-fifo/hosts.yaml')}:` },
  { name: 'ansible_private_key_file: /dev/zero', args: () => [inventory('key-zero', { ansible_private_key_file: '/dev/zero' }), pb], msg: /private key file \/dev\/zero is a character device, not a regular file/, at: () => `${path.join(dir, 'key-zero/hosts.yaml')}:` },
];

function nestedChildren(n: number): string {
  let text = 'all:\n';
  for (let i = 0; i < n; i++) text += `${'  '.repeat(2 * i + 1)}children:\n${'  '.repeat(2 * i + 2)}g${i}:\n`;
  return text;
}

/** An inventory (h1 at the listener) with extra files beside it. */
function inventoryWith(name: string, files: Record<string, string>): string {
  const f = inventory(name, {});
  for (const [rel, text] of Object.entries(files)) put(path.join(name, rel), text);
  return f;
}

test('the file corpus: at least 30 cases, each its own message', () => {
  assert.ok(CASES.length >= 30, `${CASES.length} cases`);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
});

for (const c of CASES) {
  test(`${c.name}: exit 3, named, under 2 s and 200 MB, nothing sent`, async () => {
    const r = await run(c.args());
    assertBoundedBadInput(r, { msg: c.msg }, c.name);
    assert.ok(r.err.startsWith(`provision: ${c.at()}`), `names ${c.at()}: ${r.err.slice(0, 300)}`);
  });
}

test('the transport\'s own known_hosts read is bounded too: a FIFO or /dev/zero is a problem reported, not a hang', async () => {
  const t0 = Date.now();
  const { entries, problems } = await loadKnownHosts([fifo, '/dev/zero']);
  assert.equal(entries.length, 0);
  assert.deepEqual(problems.map((p) => p.message), ['known_hosts file is a FIFO (named pipe), not a regular file; refusing to read it', 'known_hosts file is a character device, not a regular file; refusing to read it']);
  assert.ok(Date.now() - t0 < 1000);
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
