// `provision init`: the new project installs from this checkout without network access,
// type-checks (npx tsc --noEmit), passes `provision check`, catches a misspelled option in
// `check`, and converges a loopback sshd target twice, the second run changing nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSshd, sshdUnavailable, boxInventory, TEST_USER } from './helpers/sshd.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/provision.js');
const skip = sshdUnavailable() ?? (existsSync(path.resolve('dist/src/cli/main.js')) ? undefined : 'no build (npm run build)');
const dir = mkdtempSync(path.join(tmpdir(), 'provision-init-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function sh(cmd: string, args: string[], cwd: string) {
  try {
    const r = await run(cmd, args, { cwd, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' }, maxBuffer: 16 << 20 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}

test('init, npm install (offline), tsc, check, then two runs against a loopback sshd: changed=0 the second time', { skip, timeout: 600_000 }, async () => {
  const proj = path.join(dir, 'myproj');
  const init = await sh(process.execPath, [BIN, 'init', proj], dir);
  assert.equal(init.code, 0, init.out);
  assert.equal((await sh(process.execPath, [BIN, 'init', proj], dir)).code, 3, 'init refuses to overwrite');
  const install = await sh('npm', ['install', '--offline', '--ignore-scripts'], proj);
  assert.equal(install.code, 0, install.out);
  const tsc = await sh(path.join(proj, 'node_modules/.bin/tsc'), ['--noEmit'], proj);
  assert.equal(tsc.code, 0, tsc.out);
  const provision = path.join(proj, 'node_modules/.bin/provision');
  const check = await sh(provision, ['check', 'inventory/hosts.yaml'], proj);
  assert.equal(check.code, 0, check.out);

  // A misspelled option: the editor's error, from check, at the role's line.
  const roleFile = path.join(proj, 'roles/example/index.ts');
  const role = readFileSync(roleFile, 'utf8');
  writeFileSync(roleFile, role.replace("mode: '0755'", "mdoe: '0755'"));
  const bad = await sh(provision, ['check', 'inventory/hosts.yaml'], proj);
  assert.equal(bad.code, 4, bad.out);
  assert.match(bad.out, /roles\/example\/index\.ts:\d+:\d+: ERROR \[role-type\] TS\d+: .*'mdoe'/);
  writeFileSync(roleFile, role);

  const sshd = await startSshd({ users: [TEST_USER] });
  try {
    const appRoot = path.join(dir, 'app');
    writeFileSync(path.join(proj, 'inventory/hosts.yaml'), boxInventory(sshd, { app_root: JSON.stringify(appRoot), greeting: 'hi' }));
    const reports = [];
    for (const n of [1, 2]) {
      const json = path.join(dir, `r${n}.json`);
      const r = await sh(provision, ['inventory/hosts.yaml', '--json', json], proj);
      assert.equal(r.code, 0, r.out);
      reports.push(JSON.parse(readFileSync(json, 'utf8')));
    }
    assert.ok(reports[0].hosts.box.changed >= 4, JSON.stringify(reports[0].hosts.box));
    assert.equal(reports[1].hosts.box.changed, 0, JSON.stringify(reports[1].tasks.filter((t: { changed: boolean }) => t.changed)));
    assert.match(readFileSync(path.join(appRoot, 'app.conf'), 'utf8'), /^# app\.conf for box[\s\S]*greeting = hi\ndebug = false\n$/);
    assert.equal(readFileSync(path.join(appRoot, 'changes.log'), 'utf8').trim().split('\n').length, 1, 'the handler ran once, on the first run');
  } finally {
    await sshd.stop();
  }
});
