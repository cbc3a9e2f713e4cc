// Failover, measured from the client's side. For each LB L in turn:
//   1. L must hold the VIPs it masters and run nginx (else nothing is touched).
//   2. The probes start a request loop (python3, 50 Hz per VIP, 50 ms timeout) against
//      every VIP L masters; after a baseline, a fault is injected on L (the mode):
//        nginx       nginx is killed (SIGKILL to its main pid and children)
//        keepalived  keepalived is stopped (systemctl stop: it says goodbye with priority 0)
//        poweroff    L loses power (a callback: NICs without carrier, every process killed)
//      the peer must take L's VIPs over; the loop's longest outage per VIP is the failover gap.
//      The timeout is short on purpose: a SYN sent while no node holds the VIP is lost and a
//      real client would wait its 1 s retransmission timeout; such requests are counted apart
//      (dropped SYNs) so the gap measures the service, not the client's patience.
//   3. A second loop runs while the fault is repaired (nginx / keepalived started, L powered
//      on and booted) and L takes its VIPs back (preemption); its outage is the preemption gap.
//   4. Whatever happened, L is left as found: repaired, L holding its VIPs (finally).
// Every loop is bounded in time and count; traffic goes only to the model's VIPs.

import type { Transport } from '../transport/types.js';
import type { HaModel } from '../topology/types.js';
import { memoConnect, type Connect } from './cluster.js';
import { failOne } from './failover-lb.js';
import { DEFAULT_RATE_HZ, DEFAULT_TIMEOUT_MS, type FailoverCtx, type FailoverLbResult, type FailoverOptions, type FailoverReport } from './failover-types.js';
import { errMsg } from './why.js';

export * from './failover-types.js';
export { vipHolders, expectedPeer } from './failover-holders.js';
export { formatFailoverTable } from './failover-table.js';

const defaultSleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/** The options with their defaults. */
function withDefaults(model: HaModel, opts: FailoverOptions): FailoverCtx['o'] {
  return {
    mode: opts.mode ?? 'nginx',
    baselineMs: opts.baselineMs ?? 1000,
    rateHz: Math.max(20, opts.rateHz ?? DEFAULT_RATE_HZ),
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    takeoverTimeoutMs: opts.takeoverTimeoutMs ?? 20_000,
    preemptTimeoutMs: opts.preemptTimeoutMs ?? 30_000,
    settleMs: opts.settleMs ?? 1500,
    pollMs: opts.pollMs ?? 250,
    maxLoopSeconds: Math.min(600, opts.maxLoopSeconds ?? 120),
    maxGapMs: opts.maxGapMs,
    service: opts.service ?? 'nginx',
    port: opts.port ?? model.listenPort,
    onProgress: opts.onProgress,
    power: opts.power,
    sleep: opts.sleep ?? defaultSleep,
    now: opts.now ?? (() => Date.now()),
  };
}

/** The run's context; a host powered on again gets a new transport (kept in `renewed`). */
function newCtx(model: HaModel, connect: Connect, opts: FailoverOptions, renewed: Map<string, Transport>): FailoverCtx {
  const memo = memoConnect(connect);
  const c: FailoverCtx = {
    model,
    conn: (host) => {
      const t = renewed.get(host);
      return t ? Promise.resolve(t) : memo(host);
    },
    off: new Set(),
    renew: async (host) => {
      const again = opts.reconnect ?? connect;
      let lastErr: unknown;
      // sshd may answer a moment before it accepts logins.
      for (let i = 0; i < 20; i++) {
        try {
          const t = await again(host);
          const old = renewed.get(host);
          renewed.set(host, t);
          if (old && old !== t) await old.close().catch(() => undefined);
          return t;
        } catch (e) {
          lastErr = e;
          await c.o.sleep(500);
        }
      }
      throw new Error(`cannot reconnect to ${host} after power on: ${errMsg(lastErr)}`);
    },
    o: withDefaults(model, opts),
  };
  return c;
}

/**
 * Fail every LB (that masters a VIP) in turn and measure what the clients see. The transports
 * from `connect` are owned by the caller (not closed here).
 */
export async function verifyFailover(model: HaModel, connect: Connect, opts: FailoverOptions = {}): Promise<FailoverReport> {
  const renewed = new Map<string, Transport>();
  const c = newCtx(model, connect, opts, renewed);
  const lbs = opts.lbs ?? model.nodes.filter((n) => model.vips.some((v) => v.master === n.host)).map((n) => n.host);
  const mode = c.o.mode;
  const failed = (lb: string, problem: string): FailoverLbResult => ({ lb, mode, vips: [], ok: false, problems: [problem], takeoverBy: {}, expectedPeer: {}, restored: false, results: [], steps: [] });
  const out: FailoverLbResult[] = [];
  try {
    for (const lb of lbs) {
      if (!model.nodes.some((n) => n.host === lb)) {
        out.push(failed(lb, `${lb} is not a load balancer of the HA model`));
        continue;
      }
      out.push(await failOne(c, lb).catch((e: unknown) => failed(lb, errMsg(e))));
      // A cluster that was not restored must not lose its other master too.
      if (!out[out.length - 1].restored && out[out.length - 1].steps.length > 0) break;
    }
  } finally {
    await Promise.all([...renewed.values()].map((t) => t.close().catch(() => undefined)));
  }
  return { ok: out.length > 0 && out.every((r) => r.ok), mode, lbs: out };
}
