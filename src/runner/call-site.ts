// Where role code called into provision: the first stack frame outside this package's own
// modules, as "file:line:column" (source-mapped to the TypeScript where source maps are on).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's module directory (src/ run through tsx, or its build). */
const OWN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..') + path.sep;

/** "file:line:col" of a stack frame line, or undefined for frames without a file. */
function frameLocation(frame: string): string | undefined {
  const m = /\(?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?$/.exec(frame.trim());
  if (!m) return undefined;
  const file = m[1].startsWith('file://') ? fileURLToPath(m[1]) : m[1];
  return `${file}:${m[2]}:${m[3]}`;
}

/** The frames of a stack that belong to role code (not this package, node or node_modules). */
export function userFrames(stack: string | undefined): string[] {
  const out: string[] = [];
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const loc = frameLocation(line);
    if (!loc || loc.startsWith(OWN) || loc.includes(`${path.sep}node_modules${path.sep}`)) continue;
    out.push(loc);
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
  return { location: loc && shortLocation(loc), stack: e instanceof Error && e.name !== 'OpError' ? stack : undefined };
}
