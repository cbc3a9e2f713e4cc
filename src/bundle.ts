// The CLI's build step after tsc: the CLI and the public entries ('provision', 'provision/ha')
// bundled into dist/bundle/ as ES modules, with this package's small pure-JS dependencies
// inside. Why: a run loaded ~140 modules of dist/src and ~100 files of `yaml` one by one; the
// bundle does the same work from a few files, about a fifth less CPU per no-op run (measured in
// docs/benchmarks.md). It is one module graph: the bin, the shipped roles and a user's roles
// all import 'provision', which package.json's exports point here. Lazily loaded parts stay
// their own chunks. tsc's output (dist/src) stays for the types and the shipped roles.
import { build } from 'esbuild';
import path from 'node:path';
import { PACKAGE_ROOT } from './package-root.js';

/** The bundle's directory, relative to the package root. */
export const BUNDLE_DIR = path.join('dist', 'bundle');

/** Entry name -> source. role-hooks runs on node's hooks thread, registered by its URL. */
const ENTRIES = {
  main: 'src/cli/main.ts',
  index: 'src/index.ts',
  ha: 'src/ha.ts',
  'role-hooks': 'src/runner/role-hooks.ts',
};

/** Loaded from node_modules as they are: native or optional parts (ssh2), large and lazy ones. */
const EXTERNAL = ['ssh2', 'esbuild', 'typescript', 'tsx', 'nunjucks', 'listr2', 'zx'];

export async function bundle(root = PACKAGE_ROOT): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: ENTRIES,
    outdir: BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    sourcemap: true,
    // Bundled CommonJS packages call require() for node's modules: give the ES module one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(PACKAGE_ROOT, 'dist', 'src', 'bundle.js')) await bundle();
