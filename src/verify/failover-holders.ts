// Who holds the VIPs during a failover: asked from every powered LB's addresses, polled until
// the expected holder has them, and the peer expected to take a VIP over.
import type { HaModel, HaVip } from '../topology/types.js';
import type { Connect } from './cluster.js';
import type { FailoverCtx } from './failover-types.js';
import { readAddresses } from './vips-held.js';
import { errMsg } from './why.js';

/** VIP address -> LBs holding it right now. LBs in `off` (powered off) are not asked: they hold nothing anyone can reach. */
export async function vipHolders(model: HaModel, connect: Connect, off: ReadonlySet<string> = new Set()): Promise<Record<string, string[]>> {
  const held = await Promise.all(
    model.nodes.filter((n) => !off.has(n.host)).map(async (n) => ({ host: n.host, addrs: await readAddresses(await connect(n.host)) })),
  );
  const out: Record<string, string[]> = {};
  for (const v of model.vips) out[v.address] = held.filter((h) => h.addrs.some((a) => a.address === v.address)).map((h) => h.host);
  return out;
}

/** The LB expected to take a VIP over when `lb` fails: the highest-priority other instance. */
export function expectedPeer(model: HaModel, vip: HaVip, lb: string): string | undefined {
  let best: { host: string; prio: number } | undefined;
  for (const n of model.nodes) {
    if (n.host === lb) continue;
    const inst = n.instances.find((i) => i.vrid === vip.vrid && i.network === vip.network);
    if (inst && (!best || inst.priority > best.prio)) best = { host: n.host, prio: inst.priority };
  }
  return best?.host;
}

/** Poll until `pred(holders)` or the timeout; returns the elapsed ms, or undefined on timeout. */
export async function pollHolders(c: FailoverCtx, timeoutMs: number, pred: (h: Record<string, string[]>) => boolean, last: { holders?: Record<string, string[]>; error?: string }): Promise<number | undefined> {
  const t0 = c.o.now();
  for (let i = 0; ; i++) {
    try {
      last.holders = await vipHolders(c.model, c.conn, c.off);
      last.error = undefined;
      if (pred(last.holders)) return c.o.now() - t0;
    } catch (e) {
      last.error = errMsg(e);
    }
    if (c.o.now() - t0 >= timeoutMs || i > 10_000) return undefined;
    await c.o.sleep(c.o.pollMs);
  }
}

/** "10.16.8.100: ka67+ka68, ..." for messages. */
export const fmtHolders = (h: Record<string, string[]> | undefined, vips: string[]) =>
  vips.map((v) => `${v}: ${h?.[v]?.length ? h[v].join('+') : 'nobody'}`).join(', ');
