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
import type { SectionName } from '../facts/gather.js';
import type { Transport } from '../transport/types.js';
import type { OpContext, Plan, TaskResult } from '../ops/types.js';
import type { FileSpec, DirectorySpec, BlockSpec, LineSpec } from '../ops/files.js';
import type { PackageSpec, ServiceSpec, SysctlSpec, CommandSpec } from '../ops/system.js';

export interface TaskOptions {
  /** Handler names to run at the end of the role when this task changed something. */
  notify?: string | string[];
  tags?: string[];
  /** false: the task is reported as skipped with `skipReason`. */
  when?: boolean;
  skipReason?: string;
}

export interface TemplateSpec extends Omit<FileSpec, 'content' | 'path'> {
  /** Template file, relative to the role's templates/ directory. */
  src: string;
  dest: string;
  /** Extra data for the template, on top of { host, vars, facts }. */
  data?: object;
}

export interface RoleContext {
  readonly host: Host;
  /** Role defaults < inventory vars < play vars < extra vars. */
  readonly vars: Record<string, unknown>;
  readonly inventory: Inventory;
  readonly check: boolean;
  readonly transport: Transport;
  facts(): Promise<Facts>;
  /** A value computed once per run and shared by every host (e.g. the HA model). */
  once<T>(key: string, make: () => T): T;

  package(name: string, spec: PackageSpec, opts?: TaskOptions): Promise<TaskResult>;
  file(name: string, spec: FileSpec, opts?: TaskOptions): Promise<TaskResult>;
  template(name: string, spec: TemplateSpec, opts?: TaskOptions): Promise<TaskResult>;
  directory(name: string, spec: DirectorySpec, opts?: TaskOptions): Promise<TaskResult>;
  block(name: string, spec: BlockSpec, opts?: TaskOptions): Promise<TaskResult>;
  line(name: string, spec: LineSpec, opts?: TaskOptions): Promise<TaskResult>;
  service(name: string, spec: ServiceSpec, opts?: TaskOptions): Promise<TaskResult>;
  sysctl(name: string, spec: SysctlSpec, opts?: TaskOptions): Promise<TaskResult>;
  command(name: string, spec: CommandSpec, opts?: TaskOptions): Promise<TaskResult>;
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
