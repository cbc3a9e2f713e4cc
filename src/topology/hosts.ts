// /etc/hosts lines for every inventory host that has addresses: "10.16.8.10 ka67".
import type { Inventory } from '../inventory/types.js';

export function hostsEntries(inv: Inventory): string {
  const lines: string[] = [];
  for (const h of inv.hosts.values()) {
    const addrs = h.vars.addresses as Record<string, string> | undefined;
    if (!addrs || typeof addrs !== 'object') continue;
    const first = Object.values(addrs).find((a) => typeof a === 'string' && /^[0-9.]+$/.test(a));
    if (first && /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(h.name)) lines.push(`${first} ${h.name}`);
  }
  return lines.join('\n');
}
