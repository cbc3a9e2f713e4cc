// What every connecting command shares: the inventory, --limit, one connection per host, facts.
import path from 'node:path';
import type { Host, Inventory } from '../inventory/types.js';
import type { Transport } from '../transport/types.js';
import type { Facts } from '../facts/types.js';
import { loadInventory, matchHosts } from '../inventory/index.js';
import { TransportPool, connectionSpecFor } from '../transport/index.js';
import { FactCache } from '../facts/index.js';
import { splitList, hostKeyPolicy, type CliValues, type Io } from './main.js';

export interface Session {
  inventory: Inventory;
  /** Hosts after --limit, in inventory order. */
  hosts: Host[];
  connect(host: Host): Promise<Transport>;
  facts(t: Transport, host: Host): Promise<Facts>;
  close(): Promise<void>;
}

export async function openSession(inventoryPath: string, values: CliValues, io: Io, services: string[] = []): Promise<Session> {
  const inventory = await loadInventory(path.resolve(inventoryPath));
  const limit = splitList(values.limit);
  const hosts = limit ? matchHosts(inventory, limit) : matchHosts(inventory, ['all']);
  const policy = hostKeyPolicy(values['host-key-checking']);
  if (policy === 'off') io.err('WARNING: host key checking is off: any machine answering on these addresses will be trusted');
  const pool = new TransportPool((host: Host) =>
    connectionSpecFor(host, { hostKeyPolicy: values['host-key-checking'] ? policy : undefined, becomePassword: process.env.PROVISION_BECOME_PASS }),
  );
  const cache = new FactCache({ services });
  return {
    inventory,
    hosts,
    connect: (h) => pool.get(h),
    facts: (t) => cache.get(t),
    close: () => pool.closeAll(),
  };
}
