// Mistakes in a TypeScript role are found as early as the kind of mistake allows, and point at
// the role's code: `check` type-checks the roles (exit 4, file:line:column, no connection); a
// role that does not compile stops a run before connecting (exit 3); a misspelled option that
// gets past the type check fails its task at run time with file:line and the closest name,
// sending nothing of that task; an exception in role code names the role, the task and the
// TypeScript file:line in the recap and the JSON report, with the stack under -v; so does one
// in a shipped role run from the build (dist/, mapped back through tsc's source maps).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT } from '../src/errors.js';
import { CountingListener } from './helpers/bad-input.js';
import { startSshd, sshdUnavailable, boxInventory, TEST_USER, type Sshd } from './helpers/sshd.js';

const FIXTURE = path.resolve('test/fixtures/role-errors');
const listener = new CountingListener();
let dir = '';
let deadInventory = '';

before(async () => {
  await listener.start();
  dir = mkdtempSync(path.join(tmpdir(), 'provision-role-errors-'));
  cpSync(FIXTURE, dir, { recursive: true });
  deadInventory = path.join(dir, 'dead.yaml');
  writeFileSync(deadInventory, `all:\n  hosts:\n    h1:\n      ansible_host: 127.0.0.1\n      ansible_port: ${listener.port}\n`);
});
after(async () => {
  await listener.close();
  rmSync(dir, { recursive: true, force: true });
});

test('check type-checks the roles: a misspelled option and a state outside the enum, at file:line:column, exit 4, no connection', async () => {
  const r = await listener.provision(['check', deadInventory, path.join(dir, 'typo.yaml')]);
  assert.equal(r.code, EXIT.CHECK_FAILED, r.out + r.err);
  assert.equal(r.connections, 0);
  const role = path.join(dir, 'roles/typo/index.ts');
  assert.match(r.out, new RegExp(`${role}:12:\\d+: ERROR \\[role-type\\] TS\\d+: .*'contnet' does not exist`));
  assert.match(r.out, new RegExp(`${role}:13:\\d+: ERROR \\[role-type\\] TS\\d+: Type '"restart"' is not assignable to type .*"restarted"`));
  assert.match(r.out, /2 error\(s\)/);
});

test('a role that does not compile stops the run before any connection: exit 3 at file:line:column', async () => {
  const r = await listener.provision([deadInventory, path.join(dir, 'broken.yaml')]);
  assert.equal(r.code, EXIT.BAD_INPUT, r.out + r.err);
  assert.equal(r.connections, 0);
  assert.match(r.err, new RegExp(`^provision: ${path.join(dir, 'roles/broken/index.ts')}:6:\\d+: `));
});

const skip = sshdUnavailable();
let sshd: Sshd;
test('run time, over sshd: a misspelled option fails its task naming file:line and the suggestion; nothing of it reaches the host', { skip }, async () => {
  sshd = await startSshd({ users: [TEST_USER] });
  const root = path.join(dir, 'target');
  const inv = path.join(dir, 'box.yaml');
  writeFileSync(inv, boxInventory(sshd, { root: JSON.stringify(root) }));
  try {
    const json = path.join(dir, 'typo.json');
    const r = await listener.provision([inv, path.join(dir, 'typo.yaml'), '--json', json]);
    assert.equal(r.code, EXIT.HOST_FAILED, r.out + r.err);
    assert.match(r.out, /typo : motd \(.*roles\/typo\/index\.ts:12:\d+\): file: unknown option "contnet" \(did you mean "content"\?\)/);
    assert.ok(!existsSync(path.join(root, 'motd')));
    const report = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(report.hosts.box.status, 'failed');

    const json2 = path.join(dir, 'throws.json');
    const t = await listener.provision([inv, path.join(dir, 'throws.yaml'), '--json', json2, '-v']);
    assert.equal(t.code, EXIT.HOST_FAILED, t.out + t.err);
    const at = /throws : role code after "root directory" \((.*roles\/throws\/index\.ts):15:(\d+)\): Cannot read properties of undefined \(reading 'listen'\)/;
    assert.match(t.out, at, 'the recap names role, task and the TypeScript line');
    const task = JSON.parse(readFileSync(json2, 'utf8')).tasks.find((x: { status: string }) => x.status === 'failed');
    assert.equal(task.role, 'throws');
    assert.match(task.location, /roles\/throws\/index\.ts:15:\d+$/);
    assert.match(t.err, /TypeError: Cannot read properties of undefined[\s\S]*roles\/throws\/index\.ts:15:/, '-v prints the stack');
  } finally {
    await sshd.stop();
  }
});

test('a shipped role that throws, run from the build without PROVISION_DEBUG: the TypeScript file:line in the recap, the JSON report and the -v stack', { skip: skip || (existsSync('dist/roles/nginx_lb/index.js.map') ? false : 'no build: npm run build') }, async () => {
  const box = await startSshd({ users: [TEST_USER] });
  const inv = path.join(dir, 'shipped.yaml');
  const play = path.join(dir, 'shipped-play.yaml');
  const json = path.join(dir, 'shipped.json');
  // nginx_lb derives the HA model first; with no `ha` variable that throws from role code.
  writeFileSync(inv, boxInventory(box, {}));
  writeFileSync(play, '- hosts: all\n  roles: [nginx_lb]\n');
  const env = { ...process.env };
  delete env.PROVISION_DEBUG;
  delete env.NODE_OPTIONS;
  try {
    const r = await promisify(execFile)(process.execPath, ['bin/provision.js', inv, play, '--json', json, '-v'], { env }).then(
      () => assert.fail('the run succeeded'),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(r.code, EXIT.HOST_FAILED, r.stdout + r.stderr);
    assert.match(r.stdout, /nginx_lb : role code after the start \(roles\/nginx_lb\/index\.ts:13:\d+\): ha: no "ha" variable/);
    const task = JSON.parse(readFileSync(json, 'utf8')).tasks.find((x: { status: string }) => x.status === 'failed');
    assert.match(task.location, /^roles\/nginx_lb\/index\.ts:13:\d+$/);
    assert.match(r.stderr, /at Object\.tasks \(.*\/roles\/nginx_lb\/index\.ts:13:\d+\)/, '-v prints the stack mapped');
    assert.doesNotMatch(r.stdout + r.stderr, /dist\//, 'no position in the build is shown');
  } finally {
    await box.stop();
  }
});
