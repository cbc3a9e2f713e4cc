// One entry of the operation catalogue (./catalogue.ts): its options schema (the role API's
// types, the run-time check, the docs), how it plans against a host, and what documents it.
import type { OpContext, Plan } from './types.js';
import type { Schema, SpecOf } from './schema.js';

export interface Operation<S extends Schema = Schema> {
  /** One line: what the operation makes true. */
  summary: string;
  /** The Ansible module it corresponds to (YAML tasks use this name and its arguments). */
  ansible: string;
  options: S;
  /** What it reads on the host to decide. */
  reads: string;
  /** What it changes when the host differs. */
  changes: string;
  /** Its behaviour under --check and --diff. */
  checkMode: string;
  /** A role's call of it, as docs/operations.md shows it. */
  example: string;
  /** Read the host, plan a change or a no-op (options already validated). */
  run(ctx: OpContext, spec: SpecOf<S>): Promise<Plan>;
}

/** Define an entry; the schema's types flow into `run` and into the role API. */
export function defineOperation<const S extends Schema>(op: Operation<S>): Operation<S> {
  return op;
}
