// Where role code called into provision: the first stack frame outside this package's own
// modules, as "file:line:column" of the TypeScript (a shipped role's build is mapped back by
// ./build-map.ts; an outside role's compiled code carries an inline map node applies).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourcePosition } from './build-map.js';
import { PACKAGE_ROOT } from '../package-root.js';

/** This package's module directories: src/ (through tsx, or as source maps name it) and the bundle. */
const OWN = [path.join(PACKAGE_ROOT, 'src'), path.join(PACKAGE_ROOT, 'dist', 'bundle'), path.join(PACKAGE_ROOT, 'dist', 'src')].map((d) => d + path.sep);

const FRAME = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?$/;

/** The file (a path) of a stack frame line, and its line and column; undefined for frames without a file. */
function frameParts(frame: string): { file: string; line: number; col: number } | undefined {
  const m = FRAME.exec(frame.trim());
  if (!m) return undefined;
  return { file: m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1], line: Number(m[2]), col: Number(m[3]) };
}

/** A stack with each frame in the build shown at its TypeScript file:line:col. */
export function mappedStack(stack: string): string {
  return stack.split('\n').map((line, i) => {
    const p = i > 0 ? frameParts(line) : undefined;
    return p ? line.replace(/(?:file:\/\/)?\/[^()]*?:\d+:\d+(?=\)?\s*$)/, () => sourcePosition(p.file, p.line, p.col)) : line;
  }).join('\n');
}

/** The frames of a stack that belong to role code (not this package, node or node_modules). */
export function userFrames(stack: string | undefined): string[] {
  const out: string[] = [];
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const p = frameParts(line);
    if (!p || OWN.some((d) => p.file.startsWith(d)) || p.file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    out.push(sourcePosition(p.file, p.line, p.col));
  }
  return out;
}

/** A call's location, worked out only when asked (a failure): the stack is captured now, formatted then. */
export type Site = () => string | undefined;

/** The role code's location that called the function calling this (undefined when none). */
export function callSite(): Site {
  const e = new Error();
  let loc: string | undefined | null = null;
  return () => (loc === null ? (loc = userFrames(e.stack)[0]) : loc);
}

/** A path shown relative to the working directory when it is below it. */
export function shortLocation(loc: string): string {
  const rel = path.relative(process.cwd(), loc);
  return rel.startsWith('..') ? loc : rel;
}

/**
 * Where a failure comes from, for the report: the first role-code frame of the error's stack,
 * else the task call's site; the stack itself for an exception of code (not for an operation's
 * own failure, whose message is the whole story).
 */
export function failureOf(e: unknown, where?: Site): { location?: string; stack?: string } {
  const stack = e instanceof Error ? e.stack : undefined;
  const loc = userFrames(stack)[0] ?? where?.();
  return { location: loc && shortLocation(loc), stack: e instanceof Error && e.name !== 'OpError' && stack ? mappedStack(stack) : undefined };
}
