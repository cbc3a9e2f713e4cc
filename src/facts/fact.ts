// A fact, as pyinfra has them: one read-only command built with `sh` from the fact's arguments,
// plus a pure parser of what it printed. `file(path)`, `sysctl(name)`, `service(name)`, ...
// An operation asks `ctx.fact(file, '/etc/x')`; the runner may answer from the run's read-ahead
// (src/runner/read-ahead.ts), which records and replays (fact name, arguments), never command
// text: a record can only ask facts this registry defines, with arguments each fact checks.
import type { Shell } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';

/** A fact's arguments: strings (paths, unit names, keys), so a record holds them as JSON. */
export type FactArgs = readonly string[];

export interface Fact<A extends FactArgs = FactArgs, T = unknown> {
  readonly name: string;
  /** How many arguments it takes, -1: one or more (a record with another count is ignored). */
  readonly arity: number;
  /** The read-only command that answers the fact for these arguments. */
  command(...args: A): Shell;
  /** The answer, from what the command printed (pure). */
  parse(r: ExecResult, ...args: A): T;
  /**
   * Many instances of the fact in one command (e.g. one `stat` for many paths), when that is
   * cheaper than one command each: per argument list, its answer when the output is certain.
   */
  many?(argLists: readonly A[]): { script: Shell; parse(stdout: string): Map<string, T> };
}

const registry = new Map<string, Fact>();

/** Define (and register by name) a fact. Names are unique. */
export function defineFact<A extends FactArgs, T>(def: Fact<A, T>): Fact<A, T> {
  if (registry.has(def.name)) throw new Error(`fact ${def.name} is defined twice`);
  registry.set(def.name, def as unknown as Fact);
  return def;
}

/** The fact a record names, or undefined (unknown name or wrong arity: the entry is dropped). */
export function factNamed(name: unknown, args: unknown): Fact | undefined {
  if (typeof name !== 'string' || !Array.isArray(args) || !args.every((a) => typeof a === 'string')) return undefined;
  const f = registry.get(name);
  return f && (f.arity === args.length || (f.arity === -1 && args.length > 0)) ? f : undefined;
}

/** The cache key of one fact instance: its name and arguments. */
export function factKey(name: string, args: FactArgs): string {
  return JSON.stringify([name, ...args]);
}

/** A fact asked with arguments, as the read-ahead records it. */
export interface FactCall {
  fact: string;
  args: string[];
}
