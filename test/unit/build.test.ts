// The build (`npm run build`, run by `npm ci` through `prepare` and before `npm test`): the CLI
// runs from dist/ as ordinary ES modules, `import { defineRole, sh } from 'provision'` works
// with types from outside the repository, and a TypeScript role outside the repository loads
// into the CLI's own module graph (one Shell class), with PROVISION_DEBUG=1 too.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { boxInventory, sshdUnavailable, startSshd, TEST_USER } from '../helpers/sshd.js';

const REPO = PACKAGE_ROOT;
const BIN = path.join(REPO, 'bin', 'provision.js');

/** Every .ts source of the build (src/, roles/), relative to the repository. */
function sources(dir: string): string[] {
  return readdirSync(path.join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(REPO, path.join(e.parentPath, e.name)));
}

/** A directory outside the repository, removed after the test. */
function outside(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  assert.ok(path.relative(REPO, dir).startsWith('..'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Run node on an ES module's text in `cwd`; its stdout parsed as JSON. */
function nodeEval(cwd: string, code: string, env: NodeJS.ProcessEnv = {}): unknown {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('the build is current: every source of src/ and roles/ has its module in dist/, not older than the source', () => {
  const stale = [...sources('src'), ...sources('roles')].filter((rel) => {
    const out = path.join(REPO, 'dist', rel.replace(/\.ts$/, '.js'));
    return !existsSync(out) || statSync(out).mtimeMs < statSync(path.join(REPO, rel)).mtimeMs;
  });
  assert.deepEqual(stale, [], 'run `npm run build` (npm test does it first)');
  // The CLI runs from the bundle (src/bundle.ts): each entry is newer than every source of src/.
  const newest = Math.max(...sources('src').map((rel) => statSync(path.join(REPO, rel)).mtimeMs));
  for (const entry of ['main', 'index', 'ha', 'role-hooks']) {
    const out = path.join(REPO, 'dist', 'bundle', `${entry}.js`);
    assert.ok(existsSync(out) && statSync(out).mtimeMs >= newest, `dist/bundle/${entry}.js is missing or stale: run \`npm run build\``);
  }
});

test('bin/provision.js runs the build from any directory: --help, nothing on stderr', (t) => {
  const cwd = outside(t, 'provision-cwd-');
  const r = spawnSync(process.execPath, [BIN, '--help'], { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^Usage:/m);
});

test("'provision' is the package's public entry: an installed copy imports it, and tsc types a role with it", (t) => {
  const project = outside(t, 'provision-consumer-');
  mkdirSync(path.join(project, 'node_modules'));
  symlinkSync(REPO, path.join(project, 'node_modules', 'provision'));
  writeFileSync(path.join(project, 'package.json'), '{ "type": "module" }\n');
  const got = nodeEval(
    project,
    `import { defineRole, sh, Shell } from 'provision';
     import { haModel } from 'provision/ha';
     const cmd = sh\`echo \${'a b'}\`;
     console.log(JSON.stringify({ url: import.meta.resolve('provision'), role: defineRole({ name: 'x', async tasks() {} }).name, text: cmd.text, shell: cmd instanceof Shell, ha: typeof haModel }));`,
  );
  assert.deepEqual(got, { url: `file://${path.join(REPO, 'dist', 'bundle', 'index.js')}`, role: 'x', text: "echo 'a b'", shell: true, ha: 'function' });
  // The types come with the entry: a misspelled option is an error, the right one is not.
  writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [path.join(REPO, 'node_modules', '@types')] } }),
  );
  writeFileSync(
    path.join(project, 'role.ts'),
    `import { defineRole, sh } from 'provision';
export default defineRole({ name: 'typed', async tasks(r) {
  await r.command('hello', { cmd: sh\`echo hello\` });
  await r.command('typo', { cmd: sh\`true\`, creatse: '/x' });
} });
`,
  );
  const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, encoding: 'utf8' });
  assert.equal(tsc.status, 2, tsc.stdout + tsc.stderr);
  assert.deepEqual(tsc.stdout.trim().split('\n').filter((l) => /error TS/.test(l)).map((l) => l.replace(/\(.*/, '') + l.match(/'creatse'/)?.[0]), ['role.ts' + "'creatse'"]);
});

test('a TypeScript role outside the repository loads into the build: one Shell class, its own imports, errors with file:line:column', (t) => {
  const dir = outside(t, 'provision-outside-role-');
  // No package.json here: the role is an ES module all the same.
  writeFileSync(path.join(dir, 'helper.ts'), 'export const word: string = "one";\n');
  writeFileSync(
    path.join(dir, 'index.ts'),
    `import { defineRole, sh } from 'provision';
import { word } from './helper.js';
const cmd = sh\`echo \${word}\`;
export default Object.assign(defineRole({ name: 'outside', async tasks() {} }), { cmd });
`,
  );
  mkdirSync(path.join(dir, 'broken'));
  writeFileSync(path.join(dir, 'broken', 'index.ts'), 'export default { name: "broken",\n  tasks( {}\n');
  const dist = (rel: string) => JSON.stringify(`file://${path.join(REPO, 'dist', rel)}`);
  const got = nodeEval(
    dir,
    `const { importRole } = await import(${dist('src/runner/role-module.js')});
     const { Shell } = await import(${dist('bundle/index.js')});
     const role = (await importRole(${JSON.stringify(dir)})).default;
     const common = (await importRole(${JSON.stringify(path.join(REPO, 'roles', 'common'))})).default;
     const built = (await import(${dist('roles/common/index.js')})).default;
     const error = await importRole(${JSON.stringify(path.join(dir, 'broken'))}).then(() => '', (e) => e.message);
     console.log(JSON.stringify({ shell: role.cmd instanceof Shell, text: role.cmd.text, common: common === built, error }));`,
  );
  assert.deepEqual(got, { shell: true, text: 'echo one', common: true, error: `${path.join(dir, 'broken', 'index.ts')}:3:1: Expected ")" but found end of file` });
});

test('the built CLI runs a playbook whose role is outside the repository, over SSH, with PROVISION_DEBUG=1 too', { skip: sshdUnavailable() }, async (t) => {
  const sshd = await startSshd({ users: [TEST_USER] });
  t.after(() => sshd.stop());
  const project = outside(t, 'provision-project-');
  mkdirSync(path.join(project, 'roles', 'hello', 'templates'), { recursive: true });
  writeFileSync(path.join(project, 'hosts.yaml'), boxInventory(sshd, { marker: path.join(project, 'marker') }));
  writeFileSync(path.join(project, 'site.yaml'), '- hosts: all\n  roles: [hello]\n');
  writeFileSync(path.join(project, 'roles', 'hello', 'templates', 'greeting.ejs'), 'hello <%- host.name %>\n');
  writeFileSync(
    path.join(project, 'roles', 'hello', 'index.ts'),
    `import { defineRole, sh } from 'provision';
export default defineRole({
  name: 'hello',
  facts: [],
  async tasks(r) {
    const dest = String(r.vars.marker);
    await r.template('greeting', { src: 'greeting.ejs', dest, mode: '0644' });
    await r.command('read back', { cmd: sh\`cat \${dest}\`, readOnly: true });
    if (r.vars.fail) throw new Error('role failed on purpose');
  },
});
`,
  );
  const run = (extra: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [BIN, 'hosts.yaml', 'site.yaml', '--persist', '0', ...extra], { cwd: project, encoding: 'utf8', env: { ...process.env, CI: '1', ...env } });
  const first = run([]);
  assert.equal(first.status, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /box\s.*changed=2/);
  const debug = run([], { PROVISION_DEBUG: '1' });
  assert.equal(debug.status, 0, debug.stdout + debug.stderr);
  assert.match(debug.stdout, /box\s.*changed=1 /);
  const failing = run(['-e', 'fail=1'], { PROVISION_DEBUG: '1' });
  assert.equal(failing.status, 2, failing.stdout + failing.stderr);
  assert.match(failing.stdout + failing.stderr, /role failed on purpose/);
});
