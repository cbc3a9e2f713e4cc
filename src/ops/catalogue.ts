// The operation catalogue: every operation a role (r.<name>) or a YAML task (its Ansible
// module) can call, one entry each. Adding an operation is one entry here; the role API's
// types (src/runner/role.ts), the run-time option check and docs/operations.md follow from it.
import type { Operation } from './operation.js';
import type { Schema, SpecOf } from './schema.js';
import { file, template, directory, block, line } from './catalogue-files.js';
import { pkg, service, sysctl, command } from './catalogue-system.js';
import { user, group } from './users.js';
import { copy, link } from './copy.js';
import { cron } from './cron.js';
import { getUrl, unarchive } from './fetch.js';
import { waitFor } from './wait.js';
import { reboot } from './reboot.js';

export const CATALOGUE = {
  package: pkg,
  file,
  template,
  directory,
  block,
  line,
  service,
  sysctl,
  command,
  user,
  group,
  copy,
  link,
  cron,
  getUrl,
  unarchive,
  waitFor,
  reboot,
} as const satisfies Record<string, Operation<any>>;

export type OpName = keyof typeof CATALOGUE;
export type OptionsOf<K extends OpName> = (typeof CATALOGUE)[K] extends Operation<infer S> ? SpecOf<S> : never;

/** The entry named `name` (undefined for an unknown name). */
export function operation(name: string): Operation<Schema> | undefined {
  return Object.hasOwn(CATALOGUE, name) ? (CATALOGUE as unknown as Record<string, Operation<Schema>>)[name] : undefined;
}
