// An operation reads facts and remote state, plans a change or a no-op, and applies it
// only outside check mode. "changed" is decided from what is there, never assumed.
import type { Transport, ExecResult } from '../transport/types.js';
import type { Shell } from '../transport/quote.js';
import type { Facts } from '../facts/types.js';
import type { Fact, FactArgs } from '../facts/fact.js';
import type { Host } from '../inventory/types.js';

export interface OpContext {
  host: Host;
  transport: Transport;
  /** Facts of this host, gathered once per run (cached). */
  facts(): Promise<Facts>;
  /** Tell the fact cache what an apply changed, so later plans see it without a round trip. */
  factsChanged(update: (f: Facts) => void): void;
  /**
   * Run a read-only command (it changes nothing on the host): a plan's reads go through here,
   * so the runner may answer them from the run's read-ahead (src/runner/read-ahead.ts).
   * Anything that may change the host goes through `transport`.
   */
  read(cmd: Shell): Promise<ExecResult>;
  /**
   * A fact with its arguments (src/facts/fact.ts; ops call it through `fact()` in ./remote.ts):
   * the runner answers it from the read-ahead while nothing has been written, else reads it.
   * Absent: the fact's command goes through `read`.
   */
  fact?<A extends FactArgs, T>(f: Fact<A, T>, ...args: A): Promise<T>;
  check: boolean;
  diff: boolean;
  /**
   * The role's directory (the playbook's for YAML tasks): `template` and `copy` find their
   * `src` files under it (templates/, files/).
   */
  dir?: string;
  /** Renders a template file (default: EJS; YAML tasks render .j2 with their engine). */
  renderTemplate?: (file: string, data: Record<string, unknown>) => Promise<string>;
  /** The variables the role sees, for templates. */
  vars?: Record<string, unknown>;
  /** Open a fresh SSH connection to this host and close it: proves new sessions still get in. */
  probeNewConnection?: () => Promise<void>;
}

export interface Plan {
  /** True when applying would change the host. */
  changed: boolean;
  /** A unified diff of what changes (files), when known. */
  diff?: string;
  /** Short human text: what would change, or why nothing does. */
  message?: string;
  /** Skipped (with the reason in message): the task does not apply to this host. */
  skipped?: boolean;
  /** Do the change. Called only when changed and not in check mode. */
  apply?: () => Promise<string | void>;
}

export type TaskStatus = 'ok' | 'changed' | 'skipped' | 'failed';

export interface TaskResult {
  host: string;
  role?: string;
  task: string;
  status: TaskStatus;
  changed: boolean;
  /** ms */
  duration: number;
  message?: string;
  diff?: string;
  /** A failed task: the role code's file:line:column (where it threw, else where it called the task). */
  location?: string;
  /** A failed task whose role code threw: the stack (printed with -v). */
  stack?: string;
}

/** A failed operation: the message is what the operator reads (validator output, command stderr). */
export class OpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpError';
  }
}
