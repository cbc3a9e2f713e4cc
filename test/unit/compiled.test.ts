// The compiled CLI (bin/compiled.js): the tree is rebuilt whenever a source changes, compiled
// modules behave as their sources do under tsx, and a role from outside the tree shares the
// compiled modules (one Shell class, so the transport's instanceof check accepts its commands).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error plain JavaScript module without type declarations
import { buildKey, compileTree, compiledEntry, sourceFiles, REPO } from '../../bin/compiled.js';

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
export const url: string = import.meta.url;
export const repo = typeof __PROVISION_REPO__ === 'string' ? __PROVISION_REPO__ : undefined;
const n: Named = { name: 'x' };
export const v: number = b + n.name.length;
`,
  );
  writeFileSync(path.join(repo, 'src', 'lib', 'b.ts'), 'export interface Named { name: string }\nexport const b: number = 41;\n');
  return repo;
}

test('the tree key changes with any source change and only then', () => {
  const repo = tempRepo();
  try {
    const k1 = buildKey(files(repo), '0.0.0', repo);
    assert.equal(buildKey(files(repo), '0.0.0', repo), k1, 'same sources, same key');
    const later = new Date(Date.now() + 10_000);
    utimesSync(path.join(repo, 'src', 'lib', 'b.ts'), later, later);
    const k2 = buildKey(files(repo), '0.0.0', repo);
    assert.notEqual(k2, k1, 'a touched file changes the key');
    writeFileSync(path.join(repo, 'src', 'c.ts'), 'export {};\n');
    assert.notEqual(buildKey(files(repo), '0.0.0', repo), k2, 'a new file changes the key');
    assert.notEqual(buildKey(files(repo), '0.0.1', repo), buildKey(files(repo), '0.0.0', repo), 'another esbuild changes the key');
    assert.deepEqual(files(repo).map((f) => f.rel), ['src/a.ts', 'src/c.ts', 'src/lib/b.ts']);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('a compiled module keeps its source URL, its imports and the build constants', async () => {
  const repo = tempRepo();
  try {
    const out = path.join(repo, 'out', 'k1');
    assert.equal(await compileTree(files(repo), out, repo), true);
    const mod = await import(pathToFileURL(path.join(out, 'src', 'a.js')).href);
    assert.equal(mod.url, pathToFileURL(path.join(repo, 'src', 'a.ts')).href, 'import.meta.url is the source file');
    assert.equal(mod.v, 42, 'the import of ./lib/b.js resolved inside the tree');
    assert.equal(mod.repo, repo);
    // A second builder of the same key finds the tree there and leaves no temporary directory.
    assert.equal(await compileTree(files(repo), out, repo), false);
    assert.deepEqual(readdirSync(path.dirname(out)), ['k1']);
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
  assert.match(compiled.stdout, /Usage:/);
  assert.equal(compiled.stdout, viaTsx.stdout);
});

test('a role outside the compiled tree uses the compiled modules (one Shell class)', async () => {
  const entry: string | undefined = await compiledEntry({});
  assert.ok(entry, 'the compiled tree could be built');
  const tree = path.resolve(path.dirname(fileURLToPath(entry)), '..', '..');
  assert.ok(existsSync(path.join(tree, 'roles', 'common', 'index.js')), 'the repository roles are compiled');
  const roleDir = mkdtempSync(path.join(tmpdir(), 'provision-outside-role-'));
  try {
    const quoteTs = path.join(REPO, 'src', 'transport', 'quote.js'); // resolved by tsx to quote.ts
    // No package.json here: to tsx alone this file would be CommonJS; the bundle is ESM anyway.
    writeFileSync(
      path.join(roleDir, 'index.ts'),
      `import { sh } from ${JSON.stringify(quoteTs)};
const probe: string = 'x';
export default { name: 'outside', async tasks() {}, cmd: sh\`echo \${probe}\` };
`,
    );
    const roleModule = await import(pathToFileURL(path.join(tree, 'src', 'runner', 'role-module.js')).href);
    const quote = await import(pathToFileURL(path.join(tree, 'src', 'transport', 'quote.js')).href);
    assert.deepEqual(roleModule.COMPILED, { repo: REPO, build: tree });
    const mod = (await roleModule.importRole(roleDir)) as { default: { cmd: unknown } };
    assert.ok(mod.default.cmd instanceof quote.Shell, "the role's sh`` built the compiled tree's Shell");
    assert.equal((mod.default.cmd as { text: string }).text, 'echo x', 'the role code ran as written');
    // A syntax error in such a role is reported with its file, line and column.
    const broken = path.join(roleDir, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'index.ts'), 'export default { name: "broken",\n  tasks( {}\n');
    await assert.rejects(roleModule.importRole(broken), (e: Error) => e.message.startsWith(`${path.join(broken, 'index.ts')}:3:1: Expected`));
    // The tree's own roles load compiled, not through tsx.
    const common = (await roleModule.importRole(path.join(REPO, 'roles', 'common'))) as { default: { name: string } };
    assert.equal(common.default.name, 'common');
  } finally {
    rmSync(roleDir, { recursive: true, force: true });
  }
});

test("an outside role's bundle is kept while its files are unchanged, and rebuilt when one changes", async () => {
  const entry: string | undefined = await compiledEntry({});
  assert.ok(entry);
  const tree = path.resolve(path.dirname(fileURLToPath(entry)), '..', '..');
  const roleModule = await import(pathToFileURL(path.join(tree, 'src', 'runner', 'role-module.js')).href);
  const roleDir = mkdtempSync(path.join(tmpdir(), 'provision-outside-cache-'));
  const bundles = () => readdirSync(path.join(tree, 'outside-roles')).filter((f) => f.endsWith('.mjs'));
  const past = (s: number) => new Date(Date.now() - s * 1000);
  try {
    writeFileSync(path.join(roleDir, 'helper.ts'), 'export const word: string = "one";\n');
    writeFileSync(path.join(roleDir, 'index.ts'), 'import { word } from "./helper.js";\nexport default { name: "cached", word, async tasks() {} };\n');
    for (const f of ['helper.ts', 'index.ts']) utimesSync(path.join(roleDir, f), past(60), past(60));
    const before = new Set(bundles());
    const a = (await roleModule.importRole(roleDir)) as { default: { word: string } };
    assert.equal(a.default.word, 'one');
    const built = bundles().filter((f) => !before.has(f));
    assert.equal(built.length, 1, 'one bundle written');
    const ino = statSync(path.join(tree, 'outside-roles', built[0])).ino;
    const b = (await roleModule.importRole(roleDir)) as { default: { word: string } };
    assert.equal(b, a, 'unchanged files: the same bundle (the same module)');
    assert.equal(statSync(path.join(tree, 'outside-roles', built[0])).ino, ino, 'and it was not built again');
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
