import path from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { loadInventory, validateConnectionVars, varPosition } from '../inventory/index.js';
import { buildTopology, checkTopology, hasErrors } from '../topology/index.js';
import { haPlan } from '../topology/show.js';
import { formatPlan } from '../topology/show-format.js';
import type { Finding } from '../topology/types.js';
import { redact, redactDeep } from '../report/redact.js';
import { resolvePlaybook, type CliValues, type Io } from './options.js';
import { existsSync } from 'node:fs';
import { loadPlaybook } from '../runner/playbook.js';
import { outsideRoleFiles, typecheckRoles } from '../runner/role-typecheck.js';
import { inventorySources } from './args.js';

export function formatFinding(f: Finding): string {
  const where = f.pos ? `${f.pos.file}${f.pos.line ? `:${f.pos.line}` : ''}${f.pos.col ? `:${f.pos.col}` : ''}: ` : '';
  const scope = [f.host, f.instance].filter(Boolean).join('/');
  return `${where}${f.severity.toUpperCase()} [${f.code}]${scope ? ` ${scope}:` : ''} ${redact(f.message)}\n    fix: ${redact(f.fix)}`;
}

export async function checkCommand(positionals: string[], values: CliValues, io: Io): Promise<number> {
  const { sources, rest } = inventorySources(positionals, values, { mayBePlaybook: true });
  if (rest.length > 1) throw new InputError('usage: provision check [-i] <inventory> [playbook] [--show] [--json]', { file: '<command line>' });
  const inv = await loadInventory(sources);
  const roleErrors = await checkRoles(rest[0], io);
  // Connection settings are input too: a bad address, port or user is reported at file:line:col.
  validateConnectionVars(inv);
  // Findings name the file, line and column where the value was written (inventory, group_vars/, host_vars/).
  const hosts = [...inv.hosts.values()];
  // The HA rules apply to an inventory that describes an HA layout (as a run decides).
  const hasHa = hosts.some((h) => h.vars.ha !== undefined || h.vars.vrrp_instances !== undefined) || inv.groups.has('lb');
  const findings = [...(hasHa ? checkTopology(hosts, { baseDir: inv.dir ?? path.dirname(inv.file), resolvePos: (p) => varPosition(inv, p) }) : []), ...roleErrors];
  // --show: the VRRP layout as the configs will render it (when the model can be built at all).
  const model = values.show ? buildTopology(hosts, { baseDir: inv.dir ?? path.dirname(inv.file) }).model : undefined;
  const plan = model ? haPlan(model) : undefined;
  if (values.json) io.out(JSON.stringify(redactDeep(values.show ? { findings, plan: plan ?? null } : findings), null, 2));
  else {
    if (plan) io.out(formatPlan(plan) + '\n');
    else if (values.show) io.out('no HA plan: the topology cannot be built (see the errors below)\n');
    for (const f of findings) io.out(formatFinding(f));
    const errors = findings.filter((f) => f.severity === 'error').length;
    io.out(`${errors} error(s), ${findings.length - errors} warning(s)`);
  }
  return hasErrors(findings) ? EXIT.CHECK_FAILED : EXIT.OK;
}

/**
 * The TypeScript roles of the playbook (given, else the default one when it exists), type-checked
 * with this package's types; a playbook error is bad input (exit 3).
 */
async function checkRoles(playbookArg: string | undefined, io: Io): Promise<Finding[]> {
  const file = resolvePlaybook(playbookArg);
  if (playbookArg === undefined && !existsSync(file)) return [];
  const files = outsideRoleFiles(await loadPlaybook(file));
  const errors = typecheckRoles(files);
  if (errors === undefined) io.err(`WARNING: no TypeScript compiler found (npm install -D typescript): ${files.length} role(s) not type-checked`);
  return (errors ?? []).map((e) => ({
    severity: 'error',
    code: 'role-type',
    message: e.message,
    fix: "correct the role's code (an editor with TypeScript shows the same error)",
    pos: { file: e.file, line: e.line, col: e.col },
  }));
}

