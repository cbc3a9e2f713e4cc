// The CLI's fast start: src/, roles/ and the packages they use, bundled ahead of time into one
// CommonJS file that V8 runs from its code cache, instead of ~170 ES modules (through tsx's
// loader, or compiled one by one) that V8 parses and compiles on every run.
//
// Why: on a no-op run of the lab the CLI's own CPU time was ~0.85 s, ~0.3 s of it before its
// first line of work: node resolving, reading, parsing and linking modules, then compiling the
// functions the run calls, all again in every process. One file loads in one read and one parse;
// V8's code cache (made after a run, so it holds the functions that run compiled, not only the
// top level) skips the compiling: the same no-op used ~0.62 s of CLI CPU, 0.16 s less wall time.
//
// The bundle lives in node_modules/.cache/provision/<key>/cli.cjs, where <key> hashes the path,
// size and mtime of every source file, the installed packages (npm's node_modules/.package-lock.json),
// the esbuild version and BUILD_VERSION: a changed source or `npm install` gives a new key and a
// rebuild on the next run (~1 s once), so the bundle is never stale. esbuild compiles each file as
// tsx does (per file, no type checks); `import.meta.url` is compiled to the source file's URL, so
// templates and paths resolve against the source tree as before. Native addons and the packages
// loaded on demand for rare paths (esbuild, listr2, zx, tsx) stay outside, loaded from node_modules.
//
// Every source file is also reachable by its path relative to the repository through
// `globalThis.__provisionModules` (initialised when first asked for): the runner takes the
// repository's roles from there, and a role outside the repository, bundled when loaded
// (src/runner/role-module.ts), takes its imports of this repository's modules from there, so
// there is one copy of each module (one Shell class: the transport's instanceof check holds).
//
// The code cache (cli.cjs.cache beside the bundle) is written at the end of the first run that
// finds none or finds it refused by V8 (another node), and once more by the first playbook run
// when a lighter command (--help, check) wrote it. Falls back to tsx (returns undefined) when
// esbuild cannot be loaded or the cache directory cannot be written (a read-only install), and
// when PROVISION_COMPILE=0.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

/** Bump when the way files are compiled changes, so older bundles are not reused. */
const BUILD_VERSION = 4;
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOTS = ['src', 'roles'];
const CACHE = join(REPO, 'node_modules', '.cache', 'provision');
/** Bundles older than this, other than the current one, are removed after a build. */
const PRUNE_AFTER_MS = 24 * 3600_000;
/** Loaded from node_modules when asked for: tools for rare paths, or packages that are ES modules only. */
const EXTERNAL = ['esbuild', 'listr2', 'zx', 'tsx', 'cpu-features'];
export const BUNDLE = 'cli.cjs';
/** The global through which the bundle's src/dynamic-import.ts imports. */
const IMPORT = '__provisionImport';

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

/** What npm installed: its record of node_modules (rewritten by every npm install and npm ci). */
export function packagesStamp(repo = REPO) {
  const st = statSync(join(repo, 'node_modules', '.package-lock.json'), { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}` : '-';
}

/** The key of the bundle for these sources and packages: any change to any of them changes it. */
export function buildKey(files, esbuildVersion, repo = REPO, packages = packagesStamp(repo)) {
  const h = createHash('sha256').update(`v${BUILD_VERSION}\0${esbuildVersion}\0${repo}\0${packages}\0`);
  for (const f of files) h.update(`${f.rel}\0${f.size}\0${f.mtimeMs}\0`);
  return h.digest('hex').slice(0, 16);
}

function esbuildVersion(repo) {
  return JSON.parse(readFileSync(join(repo, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
}

/**
 * The bundle's entry: the module registry (every source file, initialised when first asked
 * for) and everything `entry` exports.
 */
function entrySource(files, repo, entry) {
  const registry = files.map((f) => `  ${JSON.stringify(f.rel.split('\\').join('/'))}: () => require(${JSON.stringify(join(repo, f.rel))}),`);
  return `globalThis.__provisionModules = {\n${registry.join('\n')}\n};\nexport * from ${JSON.stringify(join(repo, entry))};\n`;
}

/**
 * Bundle the sources into `out`/cli.cjs (written in a temporary directory first, then renamed,
 * so a concurrent run never sees half a build). Returns false when another run renamed its
 * build first. `entry`: the module whose exports the bundle exports (the CLI's main).
 */
export async function bundleTree(files, out, repo = REPO, entry = 'src/cli/main.ts') {
  const { build } = await import('esbuild');
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(tmp, { recursive: true });
    await build({
      stdin: { contents: entrySource(files, repo, entry), resolveDir: repo, sourcefile: 'provision-bundle-entry.js', loader: 'js' },
      outfile: join(tmp, BUNDLE),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      // Without spaces and comments: a third smaller, ~30 ms less to read and load per run.
      // Names are kept (stack traces name functions; the line numbers are the bundle's anyway).
      minifyWhitespace: true,
      minifySyntax: true,
      define: { __PROVISION_REPO__: JSON.stringify(repo), __PROVISION_BUILD__: JSON.stringify(out) },
      plugins: [
        {
          name: 'provision-bundle',
          setup(b) {
            // Native addons keep their place in node_modules (required by absolute path).
            b.onResolve({ filter: /\.node$/ }, (a) => ({ path: resolve(a.resolveDir, a.path), external: true }));
            b.onResolve({ filter: new RegExp(`^(${EXTERNAL.join('|')})(/.*)?$`) }, (a) => ({ path: a.path, external: true }));
            // ssh2's HTTP(S) agents (HTTP over SSH) are never used here; loading them loads
            // node's http, https and tls (~7 ms per run).
            b.onResolve({ filter: /^\.\/http-agents\.js$/ }, (a) =>
              a.importer.endsWith(join('node_modules', 'ssh2', 'lib', 'index.js')) ? { path: 'ssh2-http-agents', namespace: 'provision-stub' } : undefined,
            );
            b.onLoad({ filter: /.*/, namespace: 'provision-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
            b.onLoad({ filter: /\.ts$/ }, (a) => {
              // src/dynamic-import.ts: the bundle asks bin/compiled.js to import (see there).
              if (a.path === join(repo, 'src', 'dynamic-import.ts')) return { contents: `export const importModule = (s) => globalThis.${IMPORT}(s);`, loader: 'js' };
              // Each source's import.meta.url is its own file's URL, as when it runs from source
              // (the expression only: not where the text is quoted).
              const url = JSON.stringify(pathToFileURL(a.path).href);
              return { contents: readFileSync(a.path, 'utf8').replace(/(?<!['"`])\bimport\.meta\.url\b(?!['"`])/g, url), loader: 'ts' };
            });
          },
        },
      ],
    });
    // The bundle runs from V8's code cache, where node 20 has no dynamic-import hook: an
    // import() left in it would fail at run time, so it fails the build instead.
    const left = readFileSync(join(tmp, BUNDLE), 'utf8').match(/\bimport\(\s*[^)]{0,80}/g);
    if (left) throw Object.assign(new Error(`import() left in the bundle (use src/dynamic-import.ts): ${left.join(', ')}`), { errors: left });
    writeFileSync(join(tmp, 'BUILD'), JSON.stringify({ built: new Date().toISOString(), files: files.length }) + '\n');
    try {
      renameSync(tmp, out);
    } catch (e) {
      if (existsSync(out)) return false; // another run built the same key first
      throw e;
    }
    return true;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Remove other builds (and abandoned temporary ones) older than a day (best effort). */
function prune(keep) {
  try {
    for (const name of readdirSync(CACHE)) {
      const p = join(CACHE, name);
      if (p === keep) continue;
      const st = statSync(p);
      // Temporary builds too only when old: a younger one may be another run's build in progress.
      if (Date.now() - st.mtimeMs > PRUNE_AFTER_MS) rmSync(p, { recursive: true, force: true });
    }
  } catch {
    /* another run may be pruning too */
  }
}

/**
 * The path of the current bundle, building it first when the sources or packages changed.
 * Undefined when the CLI should run through tsx instead.
 */
export async function compiledBundle(env = process.env) {
  if (env.PROVISION_COMPILE === '0') return undefined;
  try {
    const files = sourceFiles();
    const out = join(CACHE, buildKey(files, esbuildVersion(REPO)));
    const file = join(out, BUNDLE);
    if (!existsSync(file)) {
      mkdirSync(CACHE, { recursive: true });
      await bundleTree(files, out);
      prune(out);
    }
    return file;
  } catch (e) {
    // A source esbuild cannot bundle is worth saying (each run then starts slower); a cache
    // directory that cannot be written (a read-only install) is not.
    if (e && typeof e === 'object' && 'errors' in e) process.stderr.write(`provision: running from source, slower to start (the bundle could not be built: ${e.message})\n`);
    return undefined;
  }
}

/**
 * Run a bundle and return its exports, with V8's code cache. `saveCache(playbookRun)`, at the
 * end of a command, writes the cache when it is missing, was refused, or was made by a lighter
 * command than a playbook run.
 */
export function loadBundle(file) {
  // The bundle's import() (src/dynamic-import.ts): node's, from this real ES module; specifiers
  // are packages (found from here, as from the sources) or absolute file URLs.
  globalThis[IMPORT] = (specifier) => import(specifier);
  const cacheFile = `${file}.cache`;
  const fromRun = `${cacheFile}.run`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // none yet
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  const cache = !cachedData ? 'none' : script.cachedDataRejected ? 'refused' : 'used';
  return {
    exports: module.exports,
    cache,
    saveCache(playbookRun) {
      if (cache === 'used' && (!playbookRun || existsSync(fromRun))) return false;
      try {
        const tmp = `${cacheFile}.tmp-${process.pid}`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
        if (playbookRun) writeFileSync(fromRun, '');
        else rmSync(fromRun, { force: true });
        return true;
      } catch {
        return false; // a read-only install runs without the cache
      }
    },
  };
}
