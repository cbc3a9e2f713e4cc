#!/usr/bin/env node
// Entry point for `npx provision`: the CLI bundled ahead of time and run from V8's code cache
// (./compiled.js: rebuilt when a source or a package changes), or the TypeScript sources through
// tsx's loader when that is unavailable, when PROVISION_COMPILE=0, and with PROVISION_DEBUG (its
// stack traces then name the TypeScript source lines).
import { compiledBundle, loadBundle } from './compiled.js';

const argv = process.argv.slice(2);
const bundle = process.env.PROVISION_DEBUG ? undefined : await compiledBundle();
let cli;
let compiled;
if (bundle) {
  compiled = loadBundle(bundle);
  cli = compiled.exports;
} else {
  if (process.env.PROVISION_DEBUG) process.setSourceMapsEnabled(true);
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exitCode = await cli.main(argv);
// The connection keeper (`__ssh-keeper`) outlives the runs: it leaves the code cache alone.
if (compiled && !argv[0]?.startsWith('__')) compiled.saveCache(isPlaybookRun(argv));

/** `provision <inventory> [playbook]`: the command whose code cache helps most. */
function isPlaybookRun(args) {
  const first = args.find((a) => !a.startsWith('-'));
  return first !== undefined && !cli.SUBCOMMANDS.includes(first) && !args.includes('--help') && !args.includes('-h');
}
