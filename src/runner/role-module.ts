// Where a role's code is loaded from. Run through tsx (tests, `npm run bench`), a role is its
// index.ts. Run by the compiled CLI (bin/compiled.js: one bundle of src/, roles/ and packages,
// which defines the two constants below and registers every source file in
// globalThis.__provisionModules), a role of this repository is its module in the bundle; any
// other role (a user's, a test fixture's, the scale bench's) is bundled by esbuild with its
// imports of this repository's modules taken from that registry, so that there is one copy of
// each module.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { importModule } from '../dynamic-import.js';

declare const __PROVISION_REPO__: string | undefined;
declare const __PROVISION_BUILD__: string | undefined;

/** The repository and the bundle's directory, when this module runs compiled (else undefined). */
export const COMPILED: { repo: string; build: string } | undefined =
  typeof __PROVISION_REPO__ === 'string' && typeof __PROVISION_BUILD__ === 'string' ? { repo: __PROVISION_REPO__, build: __PROVISION_BUILD__ } : undefined;

type ModuleRegistry = Record<string, () => Record<string, unknown>>;
const REGISTRY = '__provisionModules';
const modules = (): ModuleRegistry | undefined => (globalThis as Record<string, unknown>)[REGISTRY] as ModuleRegistry | undefined;

/** A source file of this repository (src/, roles/) that the bundle holds: its registry key. */
function bundledModule(source: string, c: { repo: string }): string | undefined {
  const rel = path.relative(c.repo, source).split(path.sep).join('/');
  return modules()?.[rel] ? rel : undefined;
}

/**
 * A role from outside the repository, bundled by esbuild into one module: its own files are
 * compiled into it, while its imports of this repository's src/ and roles/ are taken from the
 * CLI's bundle (its module registry) and packages from their files, so there is one copy of
 * each module (one Shell class: the transport's instanceof check holds). No loader hooks:
 * tsx's worker cost ~1 s per run here.
 */
async function bundleOutsideRole(ts: string, c: { repo: string; build: string }): Promise<string> {
  // The bundle is kept beside the CLI's (so a change to src/ gives a new build and new
  // bundles), with the size and mtime of every file of the role it was built from: a run
  // whose role files are unchanged imports it without starting esbuild (~0.1 s per role here).
  const id = createHash('sha256').update(ts).digest('hex').slice(0, 16);
  const dir = path.join(c.build, 'outside-roles');
  const stampFile = path.join(dir, `${id}.json`);
  const stamp = (files: string[]) =>
    files.map((f) => {
      const st = statSync(f);
      return `${f}\0${st.size}\0${st.mtimeMs}`;
    });
  let old: { bundle: string; inputs: string[]; stamp: string[] } | undefined;
  try {
    old = JSON.parse(readFileSync(stampFile, 'utf8')) as { bundle: string; inputs: string[]; stamp: string[] };
    const file = path.join(dir, old.bundle);
    if (existsSync(file) && JSON.stringify(stamp(old.inputs)) === JSON.stringify(old.stamp)) return pathToFileURL(file).href;
  } catch {
    // no bundle yet, or a role file is gone: build it
  }
  const started = Date.now();
  const { build } = await importModule<typeof import('esbuild')>('esbuild');
  const cwd = path.dirname(ts);
  const out = await build({
    absWorkingDir: cwd,
    entryPoints: [ts],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'silent',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(ts).href) },
    plugins: [
      {
        name: 'provision-compiled-tree',
        setup(b) {
          b.onResolve({ filter: /.*/ }, async (a) => {
            if (a.kind === 'entry-point' || a.pluginData === 'inner') return undefined;
            const r = await b.resolve(a.path, { resolveDir: a.resolveDir, kind: a.kind, importer: a.importer, pluginData: 'inner' });
            if (r.errors.length) return { errors: r.errors };
            if (r.external || !r.path) return { path: a.path, external: true }; // node builtins
            const rel = bundledModule(r.path, c);
            if (rel) return { path: rel, namespace: REGISTRY };
            if (r.path.split(path.sep).includes('node_modules')) return { path: pathToFileURL(r.path).href, external: true };
            return { path: r.path }; // the role's own files
          });
          // A module of this repository: the CLI bundle's own instance, from its registry.
          b.onLoad({ filter: /.*/, namespace: REGISTRY }, (a) => ({ contents: `module.exports = globalThis.${REGISTRY}[${JSON.stringify(a.path)}]();`, loader: 'js' }));
        },
      },
    ],
  }).catch((e: { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }) => {
    // "file:line:column: message" per error, the file absolute (esbuild's are relative to cwd).
    const messages = e.errors?.map((m) => (m.location ? `${path.resolve(cwd, m.location.file)}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text));
    throw messages?.length ? new Error(messages.join('\n')) : e;
  });
  const code = out.outputFiles[0].contents;
  // Named by content: a process that imported the old bundle gets the new one as a new module.
  const bundle = `${id}-${createHash('sha256').update(code).digest('hex').slice(0, 12)}.mjs`;
  const file = path.join(dir, bundle);
  // The role's own files (the registry's modules are the CLI bundle's, stamped by its key).
  const inputs = Object.keys(out.metafile.inputs).filter((f) => !f.startsWith(`${REGISTRY}:`)).map((f) => path.resolve(cwd, f));
  const now = stamp(inputs);
  mkdirSync(dir, { recursive: true });
  const tmp = `.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(file + tmp, code);
  renameSync(file + tmp, file);
  // A file edited while it was being bundled may be newer than what the bundle holds: no stamp
  // then (the next run builds again). Otherwise the stamp vouches for the bundle.
  if (inputs.every((f) => statSync(f).mtimeMs < started - 1000)) {
    writeFileSync(stampFile + tmp, JSON.stringify({ bundle, inputs, stamp: now }) + '\n');
    renameSync(stampFile + tmp, stampFile);
    if (old && old.bundle !== bundle) rmSync(path.join(dir, old.bundle), { force: true });
  }
  return pathToFileURL(file).href;
}

/** Import the module of the role in `dir` (its index.ts, or that file compiled). */
export async function importRole(dir: string): Promise<Record<string, unknown>> {
  const ts = path.join(dir, 'index.ts');
  if (COMPILED) {
    const rel = bundledModule(ts, COMPILED);
    return rel ? modules()![rel]() : importModule(await bundleOutsideRole(ts, COMPILED));
  }
  return importModule(pathToFileURL(ts).href);
}
