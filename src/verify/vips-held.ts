// Check (a): an LB holds exactly the VIPs it masters, each on the interface of its network and
// once. Reads `ip addr` (no root); the judging is pure, so failover reuses the address reader.
import { raw, type Shell } from '../transport/quote.js';
import type { Transport } from '../transport/types.js';
import type { HaModel } from '../topology/types.js';
import { lbNode, type CheckResult, type CheckRow } from './check-result.js';
import { parseIpAddr, type IfAddr } from './parse.js';
import { why } from './why.js';

export interface VipsHeldResult extends CheckResult {
  /** Every IPv4 address on the host, by interface. */
  addresses: IfAddr[];
  /** The model's VIPs this host holds. */
  held: string[];
  /** The VIPs this host is meant to hold (it is their master). */
  masters: string[];
}

/** `ip -j addr` where iproute2 has it, else one line per address. Read-only, no root needed. */
export const IP_ADDR_CMD: Shell = raw('ip -j -4 addr show 2>/dev/null || ip -o -4 addr show');

/** Every IPv4 address of the host (throws when `ip` fails). */
export async function readAddresses(t: Transport): Promise<IfAddr[]> {
  const r = await t.exec(IP_ADDR_CMD, { sudo: false, timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`ip addr failed on ${t.host}: ${why(r)}`);
  return parseIpAddr(r.stdout);
}

/** Judge the addresses of one LB against the model (pure; used by checkVipsHeld and failover). */
export function judgeVipsHeld(model: HaModel, host: string, addresses: IfAddr[]): VipsHeldResult {
  const node = lbNode(model, host);
  const rows: CheckRow[] = [];
  const held: string[] = [];
  const masters: string[] = [];
  for (const vip of model.vips) {
    const on = addresses.filter((a) => a.address === vip.address);
    const isMaster = vip.master === host;
    if (isMaster) masters.push(vip.address);
    if (on.length) held.push(vip.address);
    const where = `VRID ${vip.vrid}, ${vip.network}`;
    const row = (ok: boolean, detail: string) => rows.push({ check: 'vips-held', host, target: vip.address, ok, detail });
    const wantIf = node.interfaces[vip.network];
    if (isMaster && on.length === 0) {
      const holder = vip.masters.length > 1 ? ` (the model names ${vip.masters.length} masters: ${vip.masters.join(', ')})` : '';
      row(false, `${vip.address} (${where}) is not held by its master ${host}${holder}`);
    } else if (!isMaster && on.length) {
      row(false, `${vip.address} (${where}) is held by ${host}, but its master is ${vip.master ?? 'none (no instance says MASTER)'}`);
    } else if (on.length && wantIf && !on.some((a) => a.ifname === wantIf)) {
      row(false, `${vip.address} (${where}) is on ${on.map((a) => a.ifname).join(', ')} of ${host}, expected ${wantIf}`);
    } else if (on.length > 1) {
      row(false, `${vip.address} (${where}) is configured ${on.length} times on ${host} (${on.map((a) => a.ifname).join(', ')})`);
    } else if (isMaster) {
      row(true, `held by master ${host} on ${on[0].ifname}`);
    } else {
      row(true, `not held (backup; master ${vip.master ?? '-'})`);
    }
  }
  return { host, ok: rows.every((r) => r.ok), rows, addresses, held, masters };
}

/** (a) The VIPs this LB holds vs. the VIPs it masters. */
export async function checkVipsHeld(t: Transport, model: HaModel, host: string): Promise<VipsHeldResult> {
  lbNode(model, host);
  return judgeVipsHeld(model, host, await readAddresses(t));
}

