// What every connecting command shares: the inventory, --limit, one connection per host, facts.
import path from 'node:path';
import type { Host, Inventory } from '../inventory/types.js';
import type { Transport } from '../transport/types.js';
import type { Facts } from '../facts/types.js';
import { loadInventory, matchHosts } from '../inventory/index.js';
import { InputError } from '../errors.js';
import { TransportPool, SshTransport, sh } from '../transport/index.js';
import { gatherFacts, type SectionName } from '../facts/index.js';
import { connectFlags, warnIgnoredVars } from './connect-flags.js';
import { connectionSpecs, warnOnce } from './preflight.js';
import { splitList, hostKeyPolicy, type CliValues, type Io } from './options.js';
import { DEFAULT_PERSIST_SECONDS, PersistClient } from '../transport/persist.js';

/** --persist, else PROVISION_SSH_PERSIST, else 60: seconds the connections outlive the run. */
export function persistSeconds(values: CliValues): number {
  const env = process.env.PROVISION_SSH_PERSIST || undefined;
  const raw = values.persist ?? env ?? String(DEFAULT_PERSIST_SECONDS);
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 0 || n > 86_400) {
    const [what, file] = values.persist !== undefined ? [`--persist ${raw}`, '<command line>'] : [`PROVISION_SSH_PERSIST=${raw}`, '<environment>'];
    throw new InputError(`${what}: expected whole seconds from 0 (off) to 86400`, { file });
  }
  return n;
}

export interface Session {
  inventory: Inventory;
  /** Hosts after --limit, in inventory order. */
  hosts: Host[];
  connect(host: Host): Promise<Transport>;
  /** Open a fresh connection and close it: proves new SSH sessions still get in (after a firewall change). */
  probe(host: Host): Promise<void>;
  facts(t: Transport, host: Host, sections?: readonly SectionName[]): Promise<Facts>;
  close(): Promise<void>;
}

export async function openSession(sources: string | string[], values: CliValues, io: Io, services: string[] = []): Promise<Session> {
  const inventory = await loadInventory(sources);
  const limit = splitList(values.limit);
  const hosts = matchHosts(inventory, limit ?? ['all']);
  warnIgnoredVars(inventory, hosts, io);
  const flags = await connectFlags(values);
  const persist = persistSeconds(values);
  const policy = values['host-key-checking'] ? hostKeyPolicy(values['host-key-checking']) : undefined;
  if (policy === 'off') io.err('WARNING: host key checking is off: any machine answering on these addresses will be trusted');
  // Every connection setting is resolved (and bad ones reported, at file:line:col) before the first connection.
  const specs = connectionSpecs(inventory, hosts, { flags, hostKeyPolicy: policy, warn: warnOnce(io) });
  let keeperWarned = false;
  const pool = new TransportPool((host: Host) => specs.get(host.name)!, {
    persist: persist > 0 ? new PersistClient({ persistMs: persist * 1000 }) : undefined,
    onPersistUnavailable: (why) => {
      if (!keeperWarned) io.err(`WARNING: connecting directly, SSH connections will not persist: ${why}`);
      keeperWarned = true;
    },
  });
  return {
    inventory,
    hosts,
    connect: (h) => pool.get(h),
    probe: async (h) => {
      const t = new SshTransport(specs.get(h.name)!);
      try {
        await t.connect();
        const r = await t.exec(sh`true`);
        if (r.code !== 0) throw new Error(`a fresh SSH session to ${h.name} could not run a command`);
      } finally {
        await t.close();
      }
    },
    facts: (t, _host, sections) => gatherFacts(t, { sections, services }),
    close: () => pool.closeAll(),
  };
}
