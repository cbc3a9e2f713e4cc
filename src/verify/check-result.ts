// What every verify check returns: rows for the summary table (one per thing checked, with a
// message that names the VIP, VRID or source that failed), and the model lookups checks share.
import type { HaModel, HaVip, LbNode, VrrpInstance } from '../topology/types.js';

export type CheckKind = 'vips-held' | 'vrrp-adverts' | 'http';

/** One line of the summary table. */
export interface CheckRow {
  check: CheckKind;
  host: string;
  /** What was checked: a VIP, "VRID 171 (10.16.8.100)", ... */
  target: string;
  ok: boolean;
  detail: string;
}

export interface CheckResult {
  host: string;
  ok: boolean;
  rows: CheckRow[];
}

/** A failed check: message for the operator (what failed, naming VIPs, VRIDs, sources). */
export function failureMessage(r: CheckResult): string {
  return r.rows.filter((x) => !x.ok).map((x) => x.detail).join('; ');
}

export function lbNode(model: HaModel, host: string): LbNode {
  const n = model.nodes.find((x) => x.host === host);
  if (!n) throw new Error(`${host} is not a load balancer of the HA model (group ${model.lbGroup})`);
  return n;
}

/** The node and instance meant to be MASTER of a VIP, when the model has exactly one. */
export function masterOf(model: HaModel, vip: HaVip): { node: LbNode; instance: VrrpInstance } | undefined {
  if (!vip.master || vip.masters.length > 1) return undefined;
  const node = model.nodes.find((n) => n.host === vip.master);
  const instance = node?.instances.find((i) => i.vrid === vip.vrid && i.network === vip.network && i.vips.includes(vip.address));
  return node && instance ? { node, instance } : undefined;
}

/** Which host has this address on a network (LB nodes, then probes and backends). */
function hostOfAddress(model: HaModel, address: string): string | undefined {
  for (const n of model.nodes) if (Object.values(n.addresses).includes(address)) return n.host;
  for (const p of model.probes) if (Object.values(p.addresses).includes(address)) return p.host;
  return model.backends.find((b) => b.address === address)?.host;
}

export const named = (model: HaModel, address: string) => {
  const h = hostOfAddress(model, address);
  return h ? `${address} (${h})` : address;
};

