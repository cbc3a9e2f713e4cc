// One role on one host: its variables, the operation context its tasks plan with (facts, reads
// answered by read-ahead, writes), the RoleContext its code calls, then its handlers.
// roleContext() is the one place where a role's operations are wired, for its tasks and its
// handlers alike.
import { HostError } from '../errors.js';
import type { Host } from '../inventory/types.js';
import { restrictFacts } from '../facts/index.js';
import type { Transport } from '../transport/types.js';
import type { OpContext } from '../ops/types.js';
import type { Play, RoleRef } from './playbook.js';
import { bindOperations, type OperationMethods, type RoleContext, type TaskRunner } from './role.js';
import { loadRole } from './role-module.js';
import { callSite } from './call-site.js';
import type { FactCache } from '../facts/cache.js';
import { sectionsOf } from './role.js';
import { tagSelected } from './tags.js';
import { runTask, taskFailed, TaskFailed, Interrupted, type TaskScope } from './task.js';
import { runHandlers } from './handlers.js';
import type { RunRecorder } from './recorder.js';
import type { RunOptions } from './run.js';

/** What every role of a run shares. */
export interface RunState {
  o: RunOptions;
  recorder: RunRecorder;
  facts: FactCache;
  /** Values computed once per run (RoleContext.once). */
  shared: Map<string, unknown>;
  /** True once the run must stop starting tasks (interrupted, or a fatal failure). */
  stopping(): boolean;
}

/** A RoleContext without its task methods. */
type RoleBase = Omit<RoleContext, keyof OperationMethods | 'task' | 'skip'>;

/** The RoleContext of a role's tasks (handler false) or of its handlers: every operation, task and skip. */
function roleContext(base: RoleBase, scope: TaskScope, handler: boolean): RoleContext {
  const task: TaskRunner = (name, plan, opts, where) => runTask(scope, name, plan, opts, handler, where);
  return {
    ...base,
    ...bindOperations(task),
    task: (name, plan, opts) => task(name, plan, opts, callSite()),
    skip: (name, reason) => task(name, async () => ({ changed: false, skipped: true, message: reason }), {}, callSite()),
  };
}

export async function runRole(run: RunState, play: Play, ref: RoleRef, host: Host, conn: Transport): Promise<void> {
  const { o } = run;
  const { def, defaults } = await loadRole(ref);
  const need = sectionsOf(def);
  const rawFacts = () => run.facts.get(conn, host, need);
  const facts = () => rawFacts().then((f) => restrictFacts(f, need, `role ${ref.name}`));
  // Roles and ops write through `transport` and read through `read` (see ./read-ahead.ts).
  const ra = o.readAhead;
  const transport = ra ? ra.writer(conn) : conn;
  const vars = { ...defaults, ...host.vars, ...play.vars, ...ref.vars, ...(o.extraVars ?? {}) };
  const ctx: OpContext = {
    host,
    transport,
    facts,
    // Facts that cannot be read now (a gather cut off by a reboot) have nothing to update: the next read gathers anew.
    factsChanged: (update) => void rawFacts().then(update, () => undefined),
    read: (cmd) => conn.exec(cmd),
    fact: ra ? (f, ...args) => ra.fact(host.name, conn, f, ...args) : undefined,
    check: !!o.check,
    diff: !!o.diff,
    probeNewConnection: o.probeConnection ? () => o.probeConnection!(host) : undefined,
    dir: ref.dir,
    vars,
  };
  const roleTags = [...play.tags, ...ref.tags, ref.name];
  const scope: TaskScope = {
    host: host.name,
    role: ref.name,
    ctx,
    check: !!o.check,
    recorder: run.recorder,
    selected: (taskTags) => tagSelected(o, [...roleTags, ...taskTags]),
    stopping: run.stopping,
    notified: new Set(),
  };
  const base: RoleBase = {
    host,
    vars,
    inventory: o.inventory,
    check: !!o.check,
    transport,
    facts,
    once: <T>(key: string, make: () => T): T => {
      if (!run.shared.has(key)) run.shared.set(key, make());
      return run.shared.get(key) as T;
    },
  };
  // An exception of the role's own code between tasks fails the host as a task would, named
  // after the task before it, with the role file:line where it was thrown.
  const roleCode = (e: unknown) =>
    e instanceof TaskFailed || e instanceof Interrupted || e instanceof HostError ? e : taskFailed(scope, `role code after ${scope.lastTask ? `"${scope.lastTask}"` : 'the start'}`, e, Date.now());
  await def.tasks(roleContext(base, scope, false)).catch((e: unknown) => Promise.reject(roleCode(e)));
  await runHandlers(def, scope.notified, () => roleContext(base, scope, true), roleCode);
}
