#!/usr/bin/env node
// Entry point for `npx provision`: the CLI compiled ahead of time (./compiled.js: rebuilt when a
// source changes), or the TypeScript sources through tsx's loader when that is unavailable.
import { compiledEntry } from './compiled.js';

// Stack traces (PROVISION_DEBUG) then name the TypeScript source lines, not the compiled ones.
if (process.env.PROVISION_DEBUG) process.setSourceMapsEnabled(true);
let entry = await compiledEntry();
if (!entry) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../src/cli/main.ts', import.meta.url).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
