// A resolved inventory: every host with its groups and merged variables (Ansible precedence).

export interface Host {
  /** Inventory name (what --limit and the recap use). */
  name: string;
  /** Every group the host is in, including ancestors and `all`, sorted. */
  groups: string[];
  /** Merged variables: all < parent groups < child groups < host (group_vars/host_vars files included). */
  vars: Record<string, unknown>;
}

export interface Group {
  name: string;
  hosts: string[]; // direct members
  children: string[];
  vars: Record<string, unknown>;
}

export interface Inventory {
  /** Absolute path of the inventory file. */
  file: string;
  hosts: Map<string, Host>;
  groups: Map<string, Group>;
}
