// One YAML task on one host: its loop and `when` per item, the module's plan (the operation's),
// apply outside check mode, then changed_when/failed_when and `register`. The runner around it
// (src/runner/run.ts, through a role context) records, notifies and reports as for any role task.
import type { OpContext, Plan } from '../ops/types.js';
import { OpError } from '../ops/types.js';
import type { Transport } from '../transport/types.js';
import { condition, renderValue } from './jinja.js';
import { normalizeArgs, ArgError } from './modules/args.js';
import type { ModuleContext, ModuleDef } from './modules/types.js';
import type { YamlTask } from './parse.js';

/** Run every command and upload with become on or off, whatever the host's default. */
export function withBecome(c: OpContext, become: boolean | undefined): OpContext {
  if (become === undefined) return c;
  const t = c.transport;
  const transport: Transport = {
    host: t.host,
    connect: () => t.connect(),
    exec: (cmd, o) => t.exec(cmd, { sudo: become, ...o }),
    put: (p, content, o) => t.put(p, content, { sudo: become, ...o }),
    close: () => t.close(),
    lostWithin: t.lostWithin ? (ms) => t.lostWithin!(ms) : undefined,
    reconnect: t.reconnect ? () => t.reconnect!() : undefined,
  };
  // Facts too are read with this become (not from the read-ahead, which reads with the host's).
  return { ...c, transport, read: (cmd) => t.exec(cmd, { sudo: become }), fact: undefined };
}

export interface Once {
  changed: boolean;
  skipped: boolean;
  message?: string;
  diff?: string;
  result: Record<string, unknown>;
}

/** Render and check a module's arguments, then plan, and apply when not in check mode. */
export async function runModule(
  def: ModuleDef,
  rawArgs: Record<string, unknown>,
  ctx: Omit<ModuleContext, 'op'> & { op: OpContext },
  opts: { changedWhen?: unknown; failedWhen?: unknown; register?: string; ignoreErrors?: boolean } = {},
): Promise<Once> {
  const rendered = Object.fromEntries(Object.entries(rawArgs).map(([k, v]) => [k, def.expressions?.includes(k) ? v : renderValue(v, ctx.vars)]));
  let args: Record<string, unknown>;
  try {
    args = normalizeArgs(def, rendered);
  } catch (e) {
    throw e instanceof ArgError ? new OpError(e.message) : e;
  }
  const { plan, result, skipInCheck } = await def.run(ctx, args);
  if (plan.skipped) return { changed: false, skipped: true, message: plan.message, result: { ...result, skipped: true, changed: false } };
  if (plan.changed && ctx.op.check && skipInCheck) return { changed: false, skipped: true, message: 'not run in check mode', result: { ...result, skipped: true, changed: false } };
  let message = plan.message;
  if (plan.changed && !ctx.op.check && plan.apply) {
    const out = await plan.apply();
    if (out) message = message ? `${message}: ${out}` : out;
  }
  result.changed = plan.changed;
  const seen = opts.register ? { ...ctx.vars, [opts.register]: result } : ctx.vars;
  const changed = opts.changedWhen !== undefined ? condition(opts.changedWhen, seen) : plan.changed;
  result.changed = changed;
  const failed = opts.failedWhen !== undefined ? condition(opts.failedWhen, seen) : !!result.failed;
  result.failed = failed;
  if (failed && !opts.ignoreErrors) {
    const why = [result.msg, result.stderr || result.stdout].filter((x) => typeof x === 'string' && x).join(': ');
    throw new OpError(`${why || 'failed_when condition true'}${result.rc !== undefined ? ` (rc ${result.rc})` : ''}`);
  }
  return { changed, skipped: false, message, diff: plan.diff, result };
}

/** The items of a loop: a list, a Jinja2 expression giving one, or with_items (flattened one level). */
export function loopItems(loop: unknown, vars: Record<string, unknown>): unknown[] {
  const flatten = typeof loop === 'object' && loop !== null && 'flatten' in loop;
  const v = renderValue(flatten ? (loop as { flatten: unknown }).flatten : loop, vars);
  if (!Array.isArray(v)) throw new OpError(`loop: expected a list, got ${JSON.stringify(v)}`);
  return flatten ? v.flatMap((x) => (Array.isArray(x) ? x : [x])) : v;
}

/**
 * The whole task as one plan for the runner (its loop's items run one after another, each
 * applied before the next is planned, as Ansible does). Returns a plan without apply.
 */
export async function runYamlTask(
  task: YamlTask,
  c: OpContext,
  env: { vars: Record<string, unknown>; baseDir: string; become?: boolean; setFacts(v: Record<string, unknown>): void },
): Promise<Plan> {
  const op0 = withBecome(c, task.become ?? env.become);
  const op = task.checkMode === false ? { ...op0, check: false } : op0;
  const items = task.loop === undefined ? [undefined] : loopItems(task.loop, env.vars);
  const outs: Once[] = [];
  for (const item of items) {
    const vars = task.loop === undefined ? env.vars : { ...env.vars, [task.loopVar]: item };
    if (task.when !== undefined && !condition(task.when, vars)) {
      outs.push({ changed: false, skipped: true, message: 'condition false', result: { skipped: true, changed: false, [task.loopVar]: item } });
      continue;
    }
    const once = await runModule(task.module, task.args, { op, vars, baseDir: env.baseDir, setFacts: env.setFacts }, task);
    if (task.loop !== undefined) once.result[task.loopVar] = item;
    outs.push(once);
  }
  const changed = outs.some((o) => o.changed);
  const skipped = outs.every((o) => o.skipped);
  if (task.register) {
    const reg = task.loop === undefined ? outs[0]?.result ?? { skipped: true } : { results: outs.map((o) => o.result), changed, skipped, msg: 'All items completed' };
    env.setFacts({ [task.register]: reg });
  }
  const label = (i: number) => {
    if (task.loop === undefined) return '';
    const item = items[i];
    const l = task.loopLabel !== undefined ? renderValue(task.loopLabel, { ...env.vars, [task.loopVar]: item }) : item;
    return `(item=${typeof l === 'string' ? l : JSON.stringify(l)}) `;
  };
  const messages = outs.map((o, i) => (o.message ? `${label(i)}${o.message}`.trim() : '')).filter(Boolean);
  const diffs = outs.map((o) => o.diff).filter(Boolean);
  if (skipped) return { changed: false, skipped: true, message: task.loop !== undefined && items.length === 0 ? 'no items' : messages[0] ?? 'condition false' };
  return { changed, message: messages.join('; ') || undefined, diff: diffs.length ? diffs.join('\n') : undefined };
}

