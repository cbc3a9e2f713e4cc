// The checks of the inventory a run makes before its first connection, in one place so that
// `provision check` makes exactly the same ones and the two cannot drift: every host's
// connection settings (address, port, user, key files, ssh options such as ProxyCommand,
// become method), reported at file:line:col (exit 3); and, for an inventory that describes an
// HA layout, the topology's findings (a run refuses errors with exit 4, as check reports them).
import path from 'node:path';
import { InputError } from '../errors.js';
import { validateConnectionVars, placeHostError, varPosition } from '../inventory/index.js';
import type { Host, Inventory } from '../inventory/types.js';
import { connectionSpecFor } from '../transport/index.js';
import type { ConnectionSpec } from '../transport/types.js';
import { checkTopology } from '../topology/index.js';
import type { Finding } from '../topology/types.js';
import { withFlags, type ConnectFlags } from './connect-flags.js';
import type { Io } from './options.js';

export interface SpecOptions {
  flags: ConnectFlags;
  hostKeyPolicy?: ConnectionSpec['hostKeyPolicy'];
  warn?: (message: string) => void;
}

/**
 * The connection of every host of the inventory, resolved and validated; `hosts` (those a run
 * would reach: after --limit) must also have their key files. The first error is thrown as an
 * InputError at the variable's file:line:col.
 */
export function connectionSpecs(inventory: Inventory, hosts: Host[], opts: SpecOptions): Map<string, ConnectionSpec> {
  validateConnectionVars(inventory, { files: true, hosts });
  const specs = new Map<string, ConnectionSpec>();
  for (const h of inventory.hosts.values()) {
    try {
      specs.set(h.name, connectionSpecFor(withFlags(h, opts.flags), { ...opts.flags, hostKeyPolicy: opts.hostKeyPolicy, warn: opts.warn }));
    } catch (e) {
      throw e instanceof InputError ? placeHostError(inventory, h, e) : e;
    }
  }
  return specs;
}

/** A warning printer that prints each message once. */
export function warnOnce(io: Io): (message: string) => void {
  const seen = new Set<string>();
  return (m) => {
    if (!seen.has(m)) io.err(`WARNING: ${m}`);
    seen.add(m);
  };
}

/** Whether the inventory describes an HA layout: then the HA rules apply to it. */
export function describesHa(inventory: Inventory): boolean {
  return [...inventory.hosts.values()].some((h) => h.vars.ha !== undefined || h.vars.vrrp_instances !== undefined);
}

/** The HA topology's findings, each at the file:line:col of its value; none without an HA layout. */
export function haFindings(inventory: Inventory): Finding[] {
  if (!describesHa(inventory)) return [];
  return checkTopology([...inventory.hosts.values()], { baseDir: inventory.dir ?? path.dirname(inventory.file), resolvePos: (p) => varPosition(inventory, p) });
}
