// Small helpers shared by the operations: run a command and fail with its output; ask a fact.
import type { Shell } from '../transport/quote.js';
import type { ExecResult, ExecOptions } from '../transport/types.js';
import type { Fact, FactArgs } from '../facts/fact.js';
import type { OpContext } from './types.js';
import { OpError } from './types.js';

/** Run a command; a non-zero exit becomes an OpError carrying stderr (or stdout). */
export async function run(ctx: OpContext, cmd: Shell, what: string, opts?: ExecOptions): Promise<ExecResult> {
  const r = await ctx.transport.exec(cmd, opts);
  if (r.code !== 0) {
    const out = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-12).join('\n');
    throw new OpError(`${what} failed (exit ${r.code ?? r.signal}): ${out}`);
  }
  return r;
}

/** Run a command whose exit code is an answer (0 yes, non-zero no). */
export async function test(ctx: OpContext, cmd: Shell, opts?: ExecOptions): Promise<boolean> {
  const r = await ctx.transport.exec(cmd, opts);
  return r.code === 0;
}

/** chown's "owner:group" argument (either may be missing); undefined when both are. */
export function chownArg(owner?: string, group?: string): string | undefined {
  return owner || group ? `${owner ?? ''}${group ? ':' + group : ''}` : undefined;
}

/**
 * A fact of the host (src/facts/fact.ts) with its arguments: through the runner, which may
 * answer from the run's read-ahead, else one read. A fact that cannot answer is an OpError.
 */
export async function fact<A extends FactArgs, T>(ctx: OpContext, f: Fact<A, T>, ...args: A): Promise<T> {
  try {
    if (ctx.fact) return await ctx.fact(f, ...args);
    return f.parse(await ctx.read(f.command(...args)), ...args);
  } catch (e) {
    throw e instanceof OpError ? e : new OpError((e as Error).message);
  }
}
