#!/usr/bin/env node
// Entry point for `npx provision`: the CLI as built by `npm run build` (run by `npm ci` and
// `npm install` through the `prepare` script) into dist/bundle/ (src/bundle.ts).
// PROVISION_DEBUG=1 maps stack traces to the TypeScript sources.
import { existsSync } from 'node:fs';

const main = new URL('../dist/bundle/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('provision: not built yet; run `npm run build` (or `npm ci`) in the provision directory\n');
  process.exit(1);
}
if (process.env.PROVISION_DEBUG) process.setSourceMapsEnabled(true);
const cli = await import(main.href);
process.exitCode = await cli.main(process.argv.slice(2));
