// What an Ansible module is to provision: Ansible's argument names (with their aliases,
// choices and defaults) checked before connecting, and a plan built from the operation a
// TypeScript role calls for the same thing (src/ops), so both ways share one implementation.
import type { OpContext, Plan } from '../../ops/types.js';
import type { SectionName } from '../../facts/gather.js';

export type ArgType = 'str' | 'bool' | 'int' | 'list' | 'dict' | 'raw' | 'path' | 'mode';

export interface ArgSpec {
  type: ArgType;
  choices?: readonly string[];
  aliases?: readonly string[];
  default?: unknown;
}

/** What a module's run gives back: the plan, and the fields `register:` stores. */
export interface ModuleOutcome {
  plan: Plan;
  /** Filled in by the plan and by apply (rc, stdout, …); `changed`/`failed` are added by the executor. */
  result: Record<string, unknown>;
  /** Ansible skips this module in check mode when it would change something (command, shell). */
  skipInCheck?: boolean;
}

export interface ModuleContext {
  op: OpContext;
  /** Where `src:` of copy/template is looked up (the playbook's directory, then files/ or templates/ under it). */
  baseDir: string;
  /** The task's Jinja2 variables (for template:, assert:, debug var:). */
  vars: Record<string, unknown>;
  /** set_fact: variables for this host for the rest of the run. */
  setFacts(values: Record<string, unknown>): void;
}

export interface ModuleDef {
  /** The short name; also reachable as ansible.builtin.<name>. */
  name: string;
  /** Other names for the same module (package -> apt, dnf, yum). */
  aliases?: readonly string[];
  args: Record<string, ArgSpec>;
  /** `command: echo hi`: the free-form text goes into this argument. */
  freeForm?: string;
  /** Arguments that are Jinja2 expressions themselves (assert's `that`): not rendered before the module runs. */
  expressions?: readonly string[];
  /** Accepts any argument names (set_fact). */
  anyArgs?: boolean;
  /** Each inner list: at least one of these must be given. */
  requiredOneOf?: readonly (readonly string[])[];
  /** Pairs that cannot be given together. */
  exclusive?: readonly (readonly string[])[];
  /** Fact sections the module reads. */
  facts?: readonly SectionName[];
  run(ctx: ModuleContext, args: Record<string, unknown>): Promise<ModuleOutcome>;
}
