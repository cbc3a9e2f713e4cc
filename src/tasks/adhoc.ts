// One module by name on one host, outside any playbook: what `provision adhoc -m MODULE -a ARGS`
// calls. `adhocModule` checks the name and arguments before connecting (throws ArgError with
// the closest valid name); `runAdhoc` runs it over an OpContext the caller built.
import type { OpContext } from '../ops/types.js';
import { findModule, closestModule } from './modules/index.js';
import { normalizeArgs, parseKeyValues, ArgError } from './modules/args.js';
import type { ModuleDef } from './modules/types.js';
import { runModule, type Once } from './run-task.js';

export { ArgError };

export interface AdhocModule {
  def: ModuleDef;
  /** Arguments as given (may hold Jinja2), canonical names. */
  args: Record<string, unknown>;
}

/** Check a module name and its arguments (a k=v string as after -a, or a mapping); no connection. */
export function adhocModule(name: string, args: string | Record<string, unknown> = {}): AdhocModule {
  const def = findModule(name);
  if (!def) {
    const dym = closestModule(name);
    throw new ArgError(`unknown module "${name}"${dym ? ` (did you mean "${dym}"?)` : ''}`);
  }
  const given = typeof args === 'string' ? parseKeyValues(args, def) : args;
  return { def, args: normalizeArgs(def, given, true) };
}

/** Fact sections the module reads (for the caller's fact gathering). */
export function adhocFacts(m: AdhocModule): readonly string[] {
  return m.def.facts ?? [];
}

/**
 * Run it on the host of `op` (check/diff as op says). `vars`: the host's variables for Jinja2 in
 * the arguments (inventory_hostname is added). Throws OpError when the module fails.
 */
export async function runAdhoc(m: AdhocModule, op: OpContext, vars: Record<string, unknown> = {}, baseDir = process.cwd()): Promise<Once> {
  const all = { ...vars, inventory_hostname: op.host.name };
  return runModule(m.def, m.args, { op, vars: all, baseDir, setFacts: () => {} });
}
