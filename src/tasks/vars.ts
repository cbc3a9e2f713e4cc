// The variables a YAML task sees: the role context's vars (inventory < play < extra), Ansible's
// facts, set_fact/register results of this host, the magic variables (inventory_hostname,
// groups, group_names, hostvars), then the task's own vars.
import type { Inventory, Host } from '../inventory/types.js';
import type { Facts } from '../facts/types.js';
import { ansibleFacts } from './ansible-facts.js';

/** set_fact and register results, per host, for the whole run. */
export type HostStore = Map<string, Record<string, unknown>>;

/** groups: every group's hosts (children's included), in inventory order. */
export function groupsOf(inv: Inventory): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const g of inv.groups.keys()) out[g] = [];
  for (const h of inv.hosts.values()) for (const g of h.groups) (out[g] ??= []).push(h.name);
  out.all = [...inv.hosts.keys()];
  return out;
}

/** hostvars: read lazily, so a run over many hosts does not copy every host's vars per task. */
function hostvarsOf(inv: Inventory, store: HostStore): Record<string, unknown> {
  return new Proxy({} as Record<string, unknown>, {
    get: (_t, name) => {
      const h = typeof name === 'string' ? inv.hosts.get(name) : undefined;
      return h ? { ...h.vars, ...(store.get(h.name) ?? {}), inventory_hostname: h.name, group_names: h.groups.filter((g) => g !== 'all' && g !== 'ungrouped') } : undefined;
    },
    has: (_t, name) => typeof name === 'string' && inv.hosts.has(name),
    ownKeys: () => [...inv.hosts.keys()],
    getOwnPropertyDescriptor: (_t, name) => (typeof name === 'string' && inv.hosts.has(name) ? { enumerable: true, configurable: true } : undefined),
  });
}

export interface VarSources {
  host: Host;
  inventory: Inventory;
  /** The role context's merged vars. */
  vars: Record<string, unknown>;
  facts?: Facts;
  factFields: { os: boolean; hostname: boolean; interfaces: boolean };
  store: HostStore;
  groups: Record<string, string[]>;
  check: boolean;
  taskVars: Record<string, unknown>;
}

export function taskVars(s: VarSources): Record<string, unknown> {
  return {
    ...s.vars,
    ...(s.facts ? ansibleFacts(s.facts, s.factFields) : {}),
    inventory_hostname: s.host.name,
    inventory_hostname_short: s.host.name.split('.')[0],
    group_names: s.host.groups.filter((g) => g !== 'all' && g !== 'ungrouped'),
    groups: s.groups,
    hostvars: hostvarsOf(s.inventory, s.store),
    ansible_check_mode: s.check,
    ...s.taskVars,
    ...(s.store.get(s.host.name) ?? {}),
  };
}
