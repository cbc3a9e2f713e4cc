// A position in the build's JavaScript (dist/**/*.js, what `npm ci` compiles with tsc) as the
// TypeScript position it came from, so a failing shipped role names roles/<name>/index.ts:N.
// The .js.map beside the file is read only when a failure is reported: source maps are not
// turned on for the process (that would read a map for every module at start-up).
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

const DIST = path.join(PACKAGE_ROOT, 'dist') + path.sep;
const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  let m = maps.get(file);
  if (m === undefined) {
    try {
      m = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload);
    } catch {
      m = null; // no map (or not ours): the JavaScript position stands
    }
    maps.set(file, m);
  }
  return m;
}

/** "file:line:col" (1-based) of the build mapped to its TypeScript source; anything else unchanged. */
export function sourcePosition(file: string, line: number, col: number): string {
  if (!file.startsWith(DIST) || !file.endsWith('.js')) return `${file}:${line}:${col}`;
  const entry = mapOf(file)?.findEntry(line - 1, col - 1);
  if (!entry || !('originalSource' in entry) || !entry.originalSource) return `${file}:${line}:${col}`;
  const source = entry.originalSource.startsWith('file:') ? new URL(entry.originalSource).pathname : path.resolve(path.dirname(file), entry.originalSource);
  return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
}
