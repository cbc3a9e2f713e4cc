#!/usr/bin/env node
// Entry point for `npx provision`: the CLI compiled ahead of time (./compiled.js: rebuilt when a
// source changes), or the TypeScript sources through tsx's loader when that is unavailable.
import { compiledEntry } from './compiled.js';

let entry = await compiledEntry();
if (!entry) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../src/cli/main.ts', import.meta.url).href;
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
