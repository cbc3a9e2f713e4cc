// inventoryList(): the JSON `ansible-inventory -i <file> --list` prints (ansible-core 2.14,
// InventoryCLI.json_inventory), so our reading of an inventory can be diffed against Ansible's.
//
// Observed and read from the source:
// - One entry per group reachable from `all`, depth first; `all` never lists `hosts`.
// - `hosts` are a group's direct members in the order they were added; `children` its direct
//   child groups in the order they were added (`all`: `ungrouped` first, then groups in order of
//   first appearance). Both lists are deterministic, so order is part of the contract.
// - Empty `hosts`/`children` keys are dropped, and a group left with neither is dropped
//   altogether, although its parent still names it in `children` (so `ungrouped` is named in
//   all.children even when it has no host).
// - Group variables never appear as such (only with --export); they are folded into each host's
//   `_meta.hostvars` entry, which holds the host's fully merged variables (all's vars included).
//   A host whose merged variables are empty has no entry. Ansible's internal/magic names
//   (inventory_file, group_names, groups, omit, ...) are dropped even if the user set them.
import type { Inventory } from './types.js';
import { setOwn } from './yaml.js';

/** ansible/cli/inventory.py INTERNAL_VARS. */
const INTERNAL_VARS = new Set([
  'ansible_diff_mode',
  'ansible_config_file',
  'ansible_facts',
  'ansible_forks',
  'ansible_inventory_sources',
  'ansible_limit',
  'ansible_playbook_python',
  'ansible_run_tags',
  'ansible_skip_tags',
  'ansible_verbosity',
  'ansible_version',
  'inventory_dir',
  'inventory_file',
  'inventory_hostname',
  'inventory_hostname_short',
  'groups',
  'group_names',
  'omit',
  'playbook_dir',
]);

export interface InventoryListGroup {
  hosts?: string[];
  children?: string[];
}

export type InventoryList = {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
} & Record<string, InventoryListGroup | { hostvars: Record<string, Record<string, unknown>> }>;

export function inventoryList(inv: Inventory): InventoryList {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const format = (name: string) => {
    const g = inv.groups.get(name);
    if (!g) return;
    const entry: InventoryListGroup = {};
    if (name !== 'all' && g.hosts.length > 0) entry.hosts = [...g.hosts];
    if (g.children.length > 0) entry.children = [...g.children];
    if (entry.hosts || entry.children) setOwn(out, name, entry);
    for (const c of g.children) {
      if (seen.has(c)) continue;
      seen.add(c);
      format(c);
    }
  };
  format('all');

  const hostvars: Record<string, Record<string, unknown>> = {};
  for (const h of inv.hosts.values()) {
    const vars: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(h.vars)) if (!INTERNAL_VARS.has(k)) setOwn(vars, k, v);
    if (Object.keys(vars).length > 0) setOwn(hostvars, h.name, vars);
  }
  out._meta = { hostvars };
  return out as InventoryList;
}
