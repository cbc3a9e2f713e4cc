// ansible-playbook's connection flags turned into what the transport takes: -u (a default user:
// the inventory's ansible_user wins, as in Ansible), -b/--become, --become-user (root only),
// --private-key (for hosts whose inventory names no key), -K and -k (prompted without echo).
// Also the warning for inventory variables that provision does not act on: named once each.
import { InputError } from '../errors.js';
import type { Host, Inventory } from '../inventory/types.js';
import type { ConnectionSpecOptions } from '../transport/connection.js';
import type { CliValues, Io } from './options.js';
import { promptSecret } from './prompt.js';

/** The Ansible connection variables provision reads (src/transport/connection.ts, validate.ts). */
const UNDERSTOOD = new Set([
  'ansible_host', 'ansible_ssh_host', 'ansible_port', 'ansible_ssh_port', 'ansible_user', 'ansible_ssh_user',
  'ansible_ssh_private_key_file', 'ansible_private_key_file', 'ansible_ssh_common_args', 'ansible_ssh_extra_args',
  'ansible_timeout', 'ansible_become', 'ansible_become_method', 'ansible_become_user', 'ansible_become_password',
  'ansible_become_pass', 'ansible_password', 'ansible_ssh_pass', 'ansible_group_priority',
  // Python is never run on the hosts, so the interpreter has nothing to choose; not worth a warning.
  'ansible_python_interpreter',
]);

export type ConnectFlags = Pick<ConnectionSpecOptions, 'user' | 'become' | 'becomePassword' | 'password'> & { privateKey?: string };

export async function connectFlags(values: CliValues): Promise<ConnectFlags> {
  const becomeUser = values['become-user'];
  if (becomeUser !== undefined && becomeUser !== 'root') {
    throw new InputError(`--become-user ${becomeUser}: only root is supported (provision becomes root through sudo)`, { file: '<command line>' });
  }
  const out: ConnectFlags = {};
  if (values.user !== undefined) out.user = values.user;
  if (values.become) out.become = true;
  const key = values['private-key'] ?? values['key-file'];
  if (key !== undefined) out.privateKey = key;
  // Asked before anything connects, in Ansible's order and words.
  if (values['ask-pass']) out.password = await promptSecret('SSH password: ');
  if (values['ask-become-pass']) {
    const p = await promptSecret(`BECOME password${out.password !== undefined ? '[defaults to SSH password]' : ''}: `);
    out.becomePassword = p === '' && out.password !== undefined ? out.password : p;
  }
  return out;
}

/** The host as the transport should see it: --private-key where the inventory names no key. */
export function withFlags(host: Host, flags: ConnectFlags): Host {
  if (!flags.privateKey || host.vars.ansible_ssh_private_key_file !== undefined || host.vars.ansible_private_key_file !== undefined) return host;
  return { ...host, vars: { ...host.vars, ansible_private_key_file: flags.privateKey } };
}

/** One warning per ansible_* variable of the given hosts that provision does not act on. */
export function warnIgnoredVars(inv: Inventory, hosts: Host[], io: Io): void {
  const seen = new Map<string, string[]>();
  for (const h of hosts) {
    for (const [k, v] of Object.entries(h.vars)) {
      if (!k.startsWith('ansible_') || UNDERSTOOD.has(k)) continue;
      if (k === 'ansible_connection' && (v === 'ssh' || v === 'smart' || v === 'paramiko')) continue;
      seen.set(k, [...(seen.get(k) ?? []), h.name]);
    }
  }
  for (const [k, names] of seen) {
    const who = names.length === 1 ? names[0] : `${names[0]} and ${names.length - 1} more`;
    const why = k === 'ansible_connection' ? ' (provision connects over SSH only)' : '';
    io.err(`WARNING: inventory variable ${k} is not used by provision${why}; set for ${who} in ${inv.file}`);
  }
}
