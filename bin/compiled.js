// The CLI's fast start: run src/ and roles/ as JavaScript compiled ahead of time, instead of
// through tsx's loader. tsx transpiles in a loader worker that every import waits on; that costs
// ~0.3 s of each run's start-up here, more than the whole task phase of a no-op run on a host.
//
// The compiled tree lives in node_modules/.cache/provision/<key>/ (src/ and roles/, one .js per
// .ts, same layout), where <key> hashes the path, size and mtime of every source file, the
// esbuild version and BUILD_VERSION. A changed source gives a new key and a rebuild on the next
// run (~0.5 s once: a touched source made --help take 0.75 s instead of 0.24 s), so the compiled
// tree can never be stale. Each file is transpiled on its own by esbuild, as tsx does, so the
// semantics are tsx's. `import.meta.url` is compiled to the source
// file's URL: templates and REPO_ROOT resolve against the source tree as before.
//
// Roles outside the tree are bundled when loaded (src/runner/role-module.ts). Falls back to tsx
// (returns undefined) when esbuild cannot be loaded or the cache cannot be written (a read-only
// install), and when PROVISION_COMPILE=0.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Bump when the way files are compiled changes, so older trees are not reused. */
const BUILD_VERSION = 1;
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOTS = ['src', 'roles'];
const CACHE = join(REPO, 'node_modules', '.cache', 'provision');
/** Trees older than this, other than the current one, are removed after a build. */
const PRUNE_AFTER_MS = 24 * 3600_000;

/** Every .ts file under src/ and roles/ (relative paths, sorted), with size and mtime. */
export function sourceFiles(repo = REPO) {
  const files = [];
  for (const root of ROOTS) {
    const base = join(repo, root);
    if (!existsSync(base)) continue;
    for (const e of readdirSync(base, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) continue;
      const abs = join(e.parentPath ?? e.path, e.name);
      const st = statSync(abs);
      files.push({ rel: relative(repo, abs), size: st.size, mtimeMs: st.mtimeMs });
    }
  }
  return files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** The key of the compiled tree for these sources: any change to any file changes it. */
export function buildKey(files, esbuildVersion, repo = REPO) {
  const h = createHash('sha256').update(`v${BUILD_VERSION}\0${esbuildVersion}\0${repo}\0`);
  for (const f of files) h.update(`${f.rel}\0${f.size}\0${f.mtimeMs}\0`);
  return h.digest('hex').slice(0, 16);
}

function esbuildVersion(repo) {
  return JSON.parse(readFileSync(join(repo, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
}

/**
 * Compile the sources into `out` (written to a temporary directory first, then renamed, so a
 * concurrent run never sees half a tree). Returns false when another run renamed its tree first.
 */
export async function compileTree(files, out, repo = REPO) {
  const { transform } = await import('esbuild');
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  try {
    await Promise.all(
      files.map(async (f) => {
        const src = join(repo, f.rel);
        const code = readFileSync(src, 'utf8');
        const r = await transform(code, {
          loader: 'ts',
          format: 'esm',
          target: 'node20',
          sourcefile: src,
          sourcemap: 'inline',
          define: {
            'import.meta.url': JSON.stringify(pathToFileURL(src).href),
            __PROVISION_REPO__: JSON.stringify(repo),
            __PROVISION_BUILD__: JSON.stringify(out),
          },
        });
        const dst = join(tmp, f.rel.replace(/\.ts$/, '.js'));
        mkdirSync(dirname(dst), { recursive: true });
        writeFileSync(dst, r.code);
      }),
    );
    writeFileSync(join(tmp, 'BUILD'), JSON.stringify({ built: new Date().toISOString(), files: files.length }) + '\n');
    try {
      renameSync(tmp, out);
    } catch (e) {
      if (existsSync(out)) return false; // another run built the same tree first
      throw e;
    }
    return true;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Remove other compiled trees (and abandoned temporary ones) older than a day (best effort). */
function prune(keep) {
  try {
    for (const name of readdirSync(CACHE)) {
      const p = join(CACHE, name);
      if (p === keep) continue;
      const st = statSync(p);
      // Temporary trees too only when old: a younger one may be another run's build in progress.
      if (Date.now() - st.mtimeMs > PRUNE_AFTER_MS) rmSync(p, { recursive: true, force: true });
    }
  } catch {
    /* another run may be pruning too */
  }
}

/**
 * The compiled CLI entry (file URL of src/cli/main.js in the current tree), building the tree
 * first when the sources changed. Undefined when the CLI should run through tsx instead.
 */
export async function compiledEntry(env = process.env) {
  if (env.PROVISION_COMPILE === '0') return undefined;
  try {
    const files = sourceFiles();
    const out = join(CACHE, buildKey(files, esbuildVersion(REPO)));
    const main = join(out, 'src', 'cli', 'main.js');
    if (!existsSync(main)) {
      mkdirSync(CACHE, { recursive: true });
      await compileTree(files, out);
      prune(out);
    }
    return pathToFileURL(main).href;
  } catch (e) {
    if (env.PROVISION_DEBUG) process.stderr.write(`provision: running through tsx (compiled start-up unavailable: ${e instanceof Error ? e.message : e})\n`);
    return undefined;
  }
}
