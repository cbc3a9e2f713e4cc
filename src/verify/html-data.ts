// The JSON report of `provision verify` (written with --json FILE) and what the HTML report
// (html.ts) is drawn from: the same object, so a report can be redrawn from its JSON alone.
// The topology part holds no secret: addresses, priorities and timers only.
import type { HaModel } from '../topology/types.js';
import type { HaPlan } from '../topology/show.js';
import type { VerifyReport } from './cluster.js';
import type { FailoverReport } from './failover.js';

export interface ReportTopology {
  networks: { name: string; interface: string; subnet: string }[];
  lbs: { host: string; addresses: Record<string, string>; interfaces: Record<string, string> }[];
  backends: { host: string; address: string; port: number; network: string }[];
  probes: { host: string; addresses: Record<string, string>; isLb: boolean }[];
  listenPort: number;
  /** The HA plan (check --show): VIPs, masters, backups, tracking, expected failover times. */
  plan: HaPlan;
}

export interface VerifyJsonReport {
  ok: boolean;
  seconds: number;
  /** Epoch ms when the report was written. */
  generatedAt: number;
  /** The inventory file's name. */
  inventory: string;
  topology: ReportTopology;
  verify: VerifyReport;
  failover?: FailoverReport;
  /** VIP -> LBs holding it when the report was written (after any failover). */
  holders?: Record<string, string[]>;
}

export function reportTopology(model: HaModel, plan: HaPlan): ReportTopology {
  return {
    networks: model.networks.map((n) => ({ name: n.name, interface: n.interface, subnet: n.subnet })),
    lbs: model.nodes.map((n) => ({ host: n.host, addresses: { ...n.addresses }, interfaces: { ...n.interfaces } })),
    backends: model.backends.map((b) => ({ ...b })),
    probes: model.probes.map((p) => ({ host: p.host, addresses: { ...p.addresses }, isLb: p.isLb })),
    listenPort: model.listenPort,
    plan,
  };
}
