// The role API: a role is a recipe of named tasks; each task is an operation from src/ops.
//
//   export default defineRole({
//     name: 'nginx_web',
//     handlers: { 'reload nginx': (r) => r.service('reload nginx', { name: 'nginx', state: 'reloaded' }) },
//     async tasks(r) {
//       await r.package('nginx installed', { name: 'nginx' });
//       await r.template('index page', { src: 'index.html.ejs', dest: '/var/www/html/index.html' }, { notify: 'reload nginx' });
//     },
//   });
import type { Host, Inventory } from '../inventory/types.js';
import type { Facts } from '../facts/types.js';
import { SECTIONS, type SectionName } from '../facts/gather.js';
import type { Transport } from '../transport/types.js';
import type { OpContext, Plan, TaskResult } from '../ops/types.js';
import { CATALOGUE, type OpName, type OptionsOf } from '../ops/catalogue.js';
import { problems } from '../ops/schema.js';
import { OpError } from '../ops/types.js';
import { callSite, type Site } from './call-site.js';

export interface TaskOptions {
  /** Handler names to run at the end of the role when this task changed something. */
  notify?: string | string[];
  tags?: string[];
  /** false: the task is reported as skipped with `skipReason`. */
  when?: boolean;
  skipReason?: string;
}

/** Options of r.template (kept as a name for roles that import it). */
export type TemplateSpec = OptionsOf<'template'>;

/** One method per operation of the catalogue (src/ops/catalogue.ts): r.<operation>(task name, options, task options). */
export type OperationMethods = {
  [K in OpName]: (name: string, options: OptionsOf<K>, opts?: TaskOptions) => Promise<TaskResult>;
};

/** Runs one named task with its plan: the runner's task function (a handler's or a role's). */
export type TaskRunner = (name: string, plan: (ctx: OpContext) => Promise<Plan>, opts?: TaskOptions, where?: Site) => Promise<TaskResult>;

/**
 * The operation methods of a RoleContext, every one from the catalogue and the same inside
 * handlers. Each call notes the role's file:line that made it; its options are checked before
 * anything is sent for the task, a problem failing the task with that location.
 */
export function bindOperations(task: TaskRunner): OperationMethods {
  const out: Record<string, unknown> = {};
  for (const [key, op] of Object.entries(CATALOGUE)) {
    out[key] = (name: string, options: unknown, opts?: TaskOptions) => {
      const where = callSite();
      return task(
        name,
        async (ctx) => {
          const bad = problems(key, op.options, options);
          if (bad.length) throw new OpError(bad.join('; '));
          return (op.run as (c: OpContext, s: unknown) => Promise<Plan>)(ctx, options);
        },
        opts,
        where,
      );
    };
  }
  return out as OperationMethods;
}

export interface RoleContext extends OperationMethods {
  readonly host: Host;
  /** Role defaults < inventory vars < play vars < extra vars. */
  readonly vars: Record<string, unknown>;
  readonly inventory: Inventory;
  readonly check: boolean;
  readonly transport: Transport;
  facts(): Promise<Facts>;
  /** A value computed once per run and shared by every host (e.g. the HA model). */
  once<T>(key: string, make: () => T): T;

  /** A task whose plan the role writes itself (for role-specific operations). */
  task(name: string, plan: (ctx: OpContext) => Promise<Plan>, opts?: TaskOptions): Promise<TaskResult>;
  /** Report a task as skipped with a reason (e.g. "no SELinux on this host"). */
  skip(name: string, reason: string): Promise<TaskResult>;
}

export interface RoleDefinition {
  name: string;
  /**
   * The fact sections this role reads (src/facts/gather.ts SECTIONS), its ops included:
   * r.package needs 'os', 'packageManager' and 'packages'; r.service needs 'services'; a
   * template sees the same facts. Only the sections some role of the run declares are
   * gathered (a role without this list gets all of them). Reading a field of a section not
   * listed throws, naming the section.
   */
  facts?: readonly SectionName[];
  tasks(r: RoleContext): Promise<void>;
  handlers?: Record<string, (r: RoleContext) => Promise<unknown>>;
}

export function defineRole(def: RoleDefinition): RoleDefinition {
  return def;
}

/** The sections a role reads (all of them when it does not say, or did not load). */
export const sectionsOf = (def: RoleDefinition | undefined): readonly SectionName[] => def?.facts ?? SECTIONS;
