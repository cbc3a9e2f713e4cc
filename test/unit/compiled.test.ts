// The compiled CLI (bin/compiled.js): the bundle is rebuilt whenever a source or the installed
// packages change, its modules behave as their sources do under tsx, V8's code cache is written
// and reused as described there, and a role from outside the repository shares the bundle's
// modules (one Shell class, so the transport's instanceof check accepts its commands).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error plain JavaScript module without type declarations
import { buildKey, bundleTree, compiledBundle, loadBundle, sourceFiles, REPO } from '../../bin/compiled.js';

interface SourceFile {
  rel: string;
  size: number;
  mtimeMs: number;
}
const files = (repo: string): SourceFile[] => sourceFiles(repo);

function tempRepo(): string {
  const repo = mkdtempSync(path.join(tmpdir(), 'provision-compiled-'));
  mkdirSync(path.join(repo, 'src', 'lib'), { recursive: true });
  writeFileSync(
    path.join(repo, 'src', 'a.ts'),
    `import { b, type Named } from './lib/b.js';
declare const __PROVISION_REPO__: string | undefined;
import { shared } from './lib/b.js';
export const url: string = import.meta.url;
export const same = (o: unknown) => o === shared;
export const repo = typeof __PROVISION_REPO__ === 'string' ? __PROVISION_REPO__ : undefined;
const n: Named = { name: 'x' };
export const v: number = b + n.name.length;
`,
  );
  writeFileSync(path.join(repo, 'src', 'lib', 'b.ts'), 'export interface Named { name: string }\nexport const b: number = 41;\nexport const shared = {};\n');
  return repo;
}

test('the bundle key changes with any source change, another esbuild or another package install, and only then', () => {
  const repo = tempRepo();
  try {
    const k1 = buildKey(files(repo), '0.0.0', repo, 'pkgs-1');
    assert.equal(buildKey(files(repo), '0.0.0', repo, 'pkgs-1'), k1, 'same sources, same key');
    const later = new Date(Date.now() + 10_000);
    utimesSync(path.join(repo, 'src', 'lib', 'b.ts'), later, later);
    const k2 = buildKey(files(repo), '0.0.0', repo, 'pkgs-1');
    assert.notEqual(k2, k1, 'a touched file changes the key');
    writeFileSync(path.join(repo, 'src', 'c.ts'), 'export {};\n');
    const k3 = buildKey(files(repo), '0.0.0', repo, 'pkgs-1');
    assert.notEqual(k3, k2, 'a new file changes the key');
    assert.notEqual(buildKey(files(repo), '0.0.1', repo, 'pkgs-1'), k3, 'another esbuild changes the key');
    assert.notEqual(buildKey(files(repo), '0.0.0', repo, 'pkgs-2'), k3, 'another npm install changes the key');
    assert.deepEqual(files(repo).map((f) => f.rel), ['src/a.ts', 'src/c.ts', 'src/lib/b.ts']);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

/** Load a bundle in a new node process (a fresh V8, as each CLI run) and report its code cache. */
function loadInChild(file: string, playbookRun: boolean): { cache: string; saved: boolean; v: number } {
  const code = `import(${JSON.stringify(pathToFileURL(path.join(REPO, 'bin', 'compiled.js')).href)}).then((m) => {
    const b = m.loadBundle(${JSON.stringify(file)});
    console.log(JSON.stringify({ cache: b.cache, v: b.exports.v, saved: b.saveCache(${playbookRun}) }));
  })`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing on stderr (no experimental-feature warning)');
  return JSON.parse(r.stdout);
}

test('a bundled module keeps its source URL, its imports, the build constants, and one instance per module in the registry', async () => {
  const repo = tempRepo();
  const g = globalThis as Record<string, unknown>;
  const before = g.__provisionModules;
  try {
    const out = path.join(repo, 'out', 'k1');
    assert.equal(await bundleTree(files(repo), out, repo, 'src/a.ts'), true);
    const b = loadBundle(path.join(out, 'cli.cjs'));
    const mod = b.exports;
    assert.equal(mod.url, pathToFileURL(path.join(repo, 'src', 'a.ts')).href, 'import.meta.url is the source file');
    assert.equal(mod.v, 42, 'the import of ./lib/b.js resolved inside the bundle');
    assert.equal(mod.repo, repo);
    const registry = g.__provisionModules as Record<string, () => { shared: unknown; v: number }>;
    assert.deepEqual(Object.keys(registry).sort(), ['src/a.ts', 'src/lib/b.ts']);
    assert.ok(mod.same(registry['src/lib/b.ts']().shared), 'the registry gives the instance the bundle uses');
    assert.equal(registry['src/a.ts']().v, 42);
    // A second builder of the same key finds the bundle there and leaves no temporary directory.
    assert.equal(await bundleTree(files(repo), out, repo, 'src/a.ts'), false);
    assert.deepEqual(readdirSync(path.dirname(out)), ['k1']);
  } finally {
    g.__provisionModules = before;
    rmSync(repo, { recursive: true, force: true });
  }
});

test("V8's code cache: written by the first run, used by the next, rewritten once by the first playbook run, and again when V8 refuses it", async () => {
  const repo = tempRepo();
  try {
    const out = path.join(repo, 'out', 'k1');
    await bundleTree(files(repo), out, repo, 'src/a.ts');
    const file = path.join(out, 'cli.cjs');
    const cache = `${file}.cache`;
    assert.deepEqual(loadInChild(file, false), { cache: 'none', saved: true, v: 42 });
    assert.ok(statSync(cache).size > 0);
    assert.deepEqual(loadInChild(file, false), { cache: 'used', saved: false, v: 42 }, 'a later lighter command keeps it');
    assert.deepEqual(loadInChild(file, true), { cache: 'used', saved: true, v: 42 }, 'the first playbook run rewrites it');
    assert.deepEqual(loadInChild(file, true), { cache: 'used', saved: false, v: 42 }, 'and later ones keep it');
    writeFileSync(cache, 'not a code cache');
    assert.deepEqual(loadInChild(file, false), { cache: 'refused', saved: true, v: 42 }, 'a cache V8 refuses is replaced');
    assert.deepEqual(loadInChild(file, false), { cache: 'used', saved: false, v: 42 });
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('the compiled CLI prints what the CLI run through tsx prints', () => {
  const bin = path.join(REPO, 'bin', 'provision.js');
  const compiled = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', env: { ...process.env, PROVISION_COMPILE: '1' } });
  const viaTsx = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', env: { ...process.env, PROVISION_COMPILE: '0' } });
  assert.equal(compiled.status, 0, compiled.stderr);
  assert.equal(viaTsx.status, 0, viaTsx.stderr);
  assert.equal(compiled.stderr, '');
  assert.match(compiled.stdout, /Usage:/);
  assert.equal(compiled.stdout, viaTsx.stdout);
});

/** The CLI's bundle, loaded in this process: its registry and its role loader. */
async function cliBundle() {
  const file: string | undefined = await compiledBundle({});
  assert.ok(file, 'the bundle could be built');
  loadBundle(file);
  const registry = (globalThis as Record<string, unknown>).__provisionModules as Record<string, () => Record<string, unknown>>;
  const roleModule = registry['src/runner/role-module.ts']() as { COMPILED: unknown; importRole(dir: string): Promise<Record<string, unknown>> };
  return { dir: path.dirname(file), registry, roleModule };
}

test("a role outside the repository uses the bundle's modules (one Shell class); the repository's roles come from the bundle", async () => {
  const { dir, registry, roleModule } = await cliBundle();
  const roleDir = mkdtempSync(path.join(tmpdir(), 'provision-outside-role-'));
  try {
    const quoteTs = path.join(REPO, 'src', 'transport', 'quote.js'); // resolved by esbuild to quote.ts
    // No package.json here: to tsx alone this file would be CommonJS; the bundle is ESM anyway.
    writeFileSync(
      path.join(roleDir, 'index.ts'),
      `import { sh } from ${JSON.stringify(quoteTs)};
const probe: string = 'x';
export default { name: 'outside', async tasks() {}, cmd: sh\`echo \${probe}\` };
`,
    );
    const quote = registry['src/transport/quote.ts']() as { Shell: new (...a: never[]) => unknown };
    assert.deepEqual(roleModule.COMPILED, { repo: REPO, build: dir });
    const mod = (await roleModule.importRole(roleDir)) as { default: { cmd: unknown } };
    assert.ok(mod.default.cmd instanceof quote.Shell, "the role's sh`` built the bundle's Shell");
    assert.equal((mod.default.cmd as { text: string }).text, 'echo x', 'the role code ran as written');
    // A syntax error in such a role is reported with its file, line and column.
    const broken = path.join(roleDir, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'index.ts'), 'export default { name: "broken",\n  tasks( {}\n');
    await assert.rejects(roleModule.importRole(broken), (e: Error) => e.message.startsWith(`${path.join(broken, 'index.ts')}:3:1: Expected`));
    // The repository's own roles are the bundle's modules, not bundled again.
    const common = (await roleModule.importRole(path.join(REPO, 'roles', 'common'))) as { default: { name: string } };
    assert.equal(common.default.name, 'common');
    assert.equal(common.default, registry['roles/common/index.ts']().default);
    assert.ok(!existsSync(path.join(dir, 'outside-roles')) || readdirSync(path.join(dir, 'outside-roles')).every((f) => !f.includes('common')));
  } finally {
    rmSync(roleDir, { recursive: true, force: true });
  }
});

test("an outside role's bundle is kept while its files are unchanged, and rebuilt when one changes", async () => {
  const { dir, roleModule } = await cliBundle();
  const roleDir = mkdtempSync(path.join(tmpdir(), 'provision-outside-cache-'));
  const bundles = () => readdirSync(path.join(dir, 'outside-roles')).filter((f) => f.endsWith('.mjs'));
  const past = (s: number) => new Date(Date.now() - s * 1000);
  try {
    writeFileSync(path.join(roleDir, 'helper.ts'), 'export const word: string = "one";\n');
    writeFileSync(path.join(roleDir, 'index.ts'), 'import { word } from "./helper.js";\nexport default { name: "cached", word, async tasks() {} };\n');
    for (const f of ['helper.ts', 'index.ts']) utimesSync(path.join(roleDir, f), past(60), past(60));
    const before = new Set(existsSync(path.join(dir, 'outside-roles')) ? bundles() : []);
    const a = (await roleModule.importRole(roleDir)) as { default: { word: string } };
    assert.equal(a.default.word, 'one');
    const built = bundles().filter((f) => !before.has(f));
    assert.equal(built.length, 1, 'one bundle written');
    const ino = statSync(path.join(dir, 'outside-roles', built[0])).ino;
    const b = (await roleModule.importRole(roleDir)) as { default: { word: string } };
    assert.equal(b, a, 'unchanged files: the same bundle (the same module)');
    assert.equal(statSync(path.join(dir, 'outside-roles', built[0])).ino, ino, 'and it was not built again');
    // A change in a file the role imports (not its index.ts) is seen.
    writeFileSync(path.join(roleDir, 'helper.ts'), 'export const word: string = "two";\n');
    utimesSync(path.join(roleDir, 'helper.ts'), past(30), past(30));
    const c = (await roleModule.importRole(roleDir)) as { default: { word: string } };
    assert.equal(c.default.word, 'two');
    const now = bundles().filter((f) => !before.has(f));
    assert.equal(now.length, 1, 'the old bundle of this role was replaced');
    assert.notEqual(now[0], built[0]);
  } finally {
    rmSync(roleDir, { recursive: true, force: true });
  }
});

test('an import() the bundle would keep fails the build (it runs from the code cache, where node 20 cannot import)', async () => {
  const repo = tempRepo();
  try {
    writeFileSync(path.join(repo, 'src', 'late.ts'), 'export const load = (name: string) => import(name);\n');
    await assert.rejects(bundleTree(files(repo), path.join(repo, 'out', 'k2'), repo, 'src/a.ts'), /import\(\) left in the bundle \(use src\/dynamic-import\.ts\): import\(name/);
    assert.deepEqual(readdirSync(path.join(repo, 'out')), [], 'no build left behind');
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});
