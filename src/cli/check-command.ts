import path from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { loadInventory, matchHosts } from '../inventory/index.js';
import { buildTopology, hasErrors } from '../topology/index.js';
import { haPlan } from '../topology/show.js';
import { formatPlan } from '../topology/show-format.js';
import type { Finding } from '../topology/types.js';
import { redact, redactDeep } from '../report/redact.js';
import { hostKeyPolicy, resolvePlaybook, splitList, type CliValues, type Io } from './options.js';
import { connectFlags } from './connect-flags.js';
import { connectionSpecs, haFindings, warnOnce } from './preflight.js';
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
  // What a run checks before its first connection, by the same code (./preflight.ts): each
  // host's connection settings (exit 3 at file:line:col), then the HA rules where they apply.
  const flags = await connectFlags({ ...values, 'ask-pass': false, 'ask-become-pass': false });
  const policy = values['host-key-checking'] ? hostKeyPolicy(values['host-key-checking']) : undefined;
  connectionSpecs(inv, matchHosts(inv, splitList(values.limit) ?? ['all']), { flags, hostKeyPolicy: policy, warn: warnOnce(io) });
  const findings = [...haFindings(inv), ...roleErrors];
  const hosts = [...inv.hosts.values()];
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

