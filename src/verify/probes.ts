// Who requests which VIP from where: the probes of a network, else a peer LB standing in.
import type { HaModel } from '../topology/types.js';

/** Addresses of a probe host: a probe of the model, or an LB standing in as one. */
export function probeAddresses(model: HaModel, host: string): Record<string, string> {
  const p = model.probes.find((x) => x.host === host);
  if (p) return p.addresses;
  const n = model.nodes.find((x) => x.host === host);
  if (n) return n.addresses;
  throw new Error(`${host} is neither a probe nor a load balancer of the HA model`);
}

export interface ProbeAssignment {
  host: string;
  /** VIP addresses this host requests. */
  vips: string[];
  /** True when an LB stands in (no probe has an address on the network). */
  isLb: boolean;
}

/**
 * Every probe (the probes group) requests the VIPs of its networks; a VIP whose network has no
 * probe is requested by a peer LB: an LB that is not its master (with an address on that network
 * when one has). `exclude` keeps hosts out (failover: the LB being failed).
 */
export function probeAssignments(model: HaModel, exclude: string[] = []): ProbeAssignment[] {
  const real = model.probes.filter((p) => !p.isLb && !exclude.includes(p.host));
  const out = new Map<string, ProbeAssignment>();
  const add = (host: string, vip: string, isLb: boolean) => {
    let a = out.get(host);
    if (!a) out.set(host, (a = { host, vips: [], isLb }));
    if (!a.vips.includes(vip)) a.vips.push(vip);
  };
  for (const vip of model.vips) {
    const probes = real.filter((p) => p.addresses[vip.network] !== undefined);
    if (probes.length) {
      for (const p of probes) add(p.host, vip.address, false);
      continue;
    }
    const peers = model.nodes.filter((n) => n.host !== vip.master && !vip.masters.includes(n.host) && !exclude.includes(n.host));
    const peer = peers.find((n) => n.addresses[vip.network] !== undefined) ?? peers[0];
    if (peer) add(peer.host, vip.address, true);
  }
  return [...out.values()];
}

