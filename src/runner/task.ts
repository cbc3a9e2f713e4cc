// One task of a role on one host: the tag and `when` decisions, the operation's plan, its apply
// (not in --check), the handlers it notifies, and its result in the run's record. A failure is
// recorded with the role's file:line and ends the host's role (TaskFailed).
import { HostError } from '../errors.js';
import type { OpContext, Plan, TaskResult } from '../ops/types.js';
import { redact } from '../report/redact.js';
import { failureOf, type Site } from './call-site.js';
import type { RunRecorder } from './recorder.js';
import type { TaskOptions } from './role.js';

/** A task failed (already recorded): the host stops here. */
export class TaskFailed extends Error {}
/** The run was interrupted (Ctrl-C) or a fatal failure elsewhere stops it. */
export class Interrupted extends Error {}

/** What the tasks of one role on one host share. */
export interface TaskScope {
  host: string;
  role: string;
  ctx: OpContext;
  check: boolean;
  recorder: RunRecorder;
  /** Whether a task with these tags (its own) runs under the run's tag selection. */
  selected(taskTags: string[]): boolean;
  /** True once the run must stop starting tasks. */
  stopping(): boolean;
  /** Handlers notified by changed tasks. */
  notified: Set<string>;
  /** The name of the last task started (to name a failure of role code between tasks). */
  lastTask?: string;
}

/** Record a failed task (role, task, file:line, message; the stack for -v) and make its error. */
export function taskFailed(s: TaskScope, name: string, e: unknown, t0: number, where?: Site): TaskFailed {
  const msg = redact(e instanceof Error ? e.message : String(e));
  const { location, stack } = failureOf(e, where);
  s.recorder.record({ host: s.host, role: s.role, task: name, status: 'failed', changed: false, duration: Date.now() - t0, message: msg, location, stack: stack && redact(stack) });
  s.recorder.summary(s.host).message = `${s.role} : ${name}${location ? ` (${location})` : ''}: ${msg}`;
  return new TaskFailed(msg);
}

/** Run one task. A handler is never skipped by tags: it runs because it was notified. */
export async function runTask(s: TaskScope, name: string, plan: (c: OpContext) => Promise<Plan>, opts: TaskOptions = {}, handler = false, where?: Site): Promise<TaskResult> {
  const skipped = (message: string): TaskResult => ({ host: s.host, role: s.role, task: name, status: 'skipped', changed: false, duration: 0, message });
  s.lastTask = name;
  if (!handler && !s.selected(opts.tags ?? [])) return skipped('not selected by tags');
  if (s.stopping()) throw new Interrupted();
  if (opts.when === false) return s.recorder.record(skipped(opts.skipReason ?? 'condition false'));
  s.recorder.emit({ type: 'task-start', host: s.host, role: s.role, task: name });
  const t0 = Date.now();
  try {
    const p = await plan(s.ctx);
    if (p.skipped) return s.recorder.record({ ...skipped(p.message ?? 'skipped'), duration: Date.now() - t0 });
    let message = p.message;
    if (p.changed && !s.check && p.apply) {
      const out = await p.apply();
      if (out) message = message ? `${message}: ${out}` : out;
    }
    if (p.changed && opts.notify) for (const h of [opts.notify].flat()) s.notified.add(h);
    return s.recorder.record({
      host: s.host,
      role: s.role,
      task: name,
      status: p.changed ? 'changed' : 'ok',
      changed: p.changed,
      duration: Date.now() - t0,
      message: message ? redact(message) : undefined,
      diff: p.diff ? redact(p.diff) : undefined,
    });
  } catch (e) {
    if (e instanceof HostError && e.kind === 'unreachable') throw e;
    throw taskFailed(s, name, e, t0, where);
  }
}
