// Where a role's code is loaded from. A role of this package (roles/<name>) is its compiled
// module in the build (dist/roles/<name>/index.js), or its index.ts when this code runs from
// source through tsx (tests, the bench). Any other role (a user's, a test fixture's, the scale
// bench's) is TypeScript compiled when loaded, through module hooks registered on the first
// such role (./role-hooks.ts); its imports of 'provision' are this running copy's modules, so
// every role shares the CLI's (one Shell class: the transport's instanceof check holds).
import path from 'node:path';
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { readInputText } from '../input-file.js';
import { FROM_BUILD, PACKAGE_ROOT, ownModule } from '../package-root.js';
import type { RoleRef } from './playbook.js';
import type { RoleDefinition } from './role.js';
import type { RoleHooksData } from './role-hooks.js';

let hooked = false;

/** The public entries of the running copy: the build's, or the sources' when run through tsx. */
function entries(): Record<string, string> {
  return { provision: ownModule('index', 'index.ts'), 'provision/ha': ownModule('ha', 'ha.ts') };
}

function registerHooks(): void {
  if (hooked) return;
  hooked = true;
  // A failure in such a role is reported at its TypeScript file:line (./call-site.ts): the
  // hooks compile with inline source maps, which node applies to stacks once this is on.
  process.setSourceMapsEnabled(true);
  const data: RoleHooksData = { entries: entries() };
  register(ownModule('role-hooks', 'runner/role-hooks.ts'), { data });
}

/** The compiled module of a role of this package, when the build has it. */
function builtRole(dir: string): string | undefined {
  const rel = path.relative(path.join(PACKAGE_ROOT, 'roles'), dir);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const file = path.join(PACKAGE_ROOT, 'dist', 'roles', rel, 'index.js');
  return existsSync(file) ? file : undefined;
}

/** Import the module of the role in `dir`. */
export async function importRole(dir: string): Promise<Record<string, unknown>> {
  const built = FROM_BUILD ? builtRole(dir) : undefined;
  if (built) return import(pathToFileURL(built).href);
  registerHooks();
  return import(pathToFileURL(path.join(dir, 'index.ts')).href);
}

export interface LoadedRole {
  def: RoleDefinition;
  /** The role's defaults.yaml (the lowest-precedence variables). */
  defaults: Record<string, unknown>;
}

const roles = new Map<string, Promise<LoadedRole>>();

/** A role's definition and defaults, loaded once per process (a play's YAML tasks are a role too, run by src/tasks, loaded only then). */
export async function loadRole(ref: RoleRef): Promise<LoadedRole> {
  if (ref.yaml) return { def: (await import('../tasks/section.js')).sectionRole(ref.yaml), defaults: {} };
  let p = roles.get(ref.dir);
  if (!p) {
    p = (async () => {
      const def = (await importRole(ref.dir)).default as RoleDefinition;
      if (!def || typeof def.tasks !== 'function') throw new Error(`role ${ref.name}: index.ts must export default defineRole({...})`);
      const file = path.join(ref.dir, 'defaults.yaml');
      const defaults = existsSync(file) ? ((parseYaml(await readInputText(file, { what: 'role defaults file' })) as Record<string, unknown>) ?? {}) : {};
      return { def, defaults };
    })();
    roles.set(ref.dir, p);
  }
  return p;
}
