// A resolved inventory: every host with its groups and merged variables (Ansible precedence).
import type { SourcePos } from '../errors.js';

export interface Host {
  /** Inventory name (what --limit and the recap use). */
  name: string;
  /** Every group the host is in, including ancestors and `all`, sorted. */
  groups: string[];
  /** Merged variables: all < parent groups < child groups < host (group_vars/host_vars files included). */
  vars: Record<string, unknown>;
  /** Where the host first appears in the inventory file. */
  pos?: SourcePos;
}

export interface Group {
  name: string;
  hosts: string[]; // direct members, in the order they were added (as ansible-inventory lists them)
  children: string[]; // direct child groups, in the order they were added
  /** This group's own variables: the inventory file's `vars:` overridden by group_vars/<name> files. */
  vars: Record<string, unknown>;
  /** Direct parent groups (`all` for a top-level group). */
  parents?: string[];
  /** Longest path from `all` (all = 0); deeper groups' variables win. */
  depth?: number;
  /** `ansible_group_priority` (default 1); breaks ties between groups of equal depth. */
  priority?: number;
  /** Where the group is first defined in the inventory file (absent for implicit `all`/`ungrouped`). */
  pos?: SourcePos;
}

export interface Inventory {
  /** Absolute path of the (first) inventory source: a file, a directory, or a comma list as given. */
  file: string;
  /** Where relative paths of the inventory resolve: the first source's directory (a directory source: itself). */
  dir?: string;
  /** Every source, in the order given (-i, ansible.cfg). */
  sources?: string[];
  /** In the order hosts first appear in the inventory file. */
  hosts: Map<string, Host>;
  /** `all`, `ungrouped`, then groups in the order they first appear. */
  groups: Map<string, Group>;
  /** Things Ansible accepts with a warning (e.g. a host and a group with the same name). */
  warnings?: string[];
}
