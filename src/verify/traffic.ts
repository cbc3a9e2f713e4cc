// Client traffic during a change: every probe requests every VIP of its networks continuously
// (the same python3 loop as the failover measurement) until stopped, then the requests sent,
// failed and the slowest answer are reported per VIP. This is how "a re-provision loses no
// request" is shown: start traffic, run the change, stop traffic, count failures.
import type { HaModel } from '../topology/types.js';
import { memoConnect, type Connect } from './cluster.js';
import { probeAssignments } from './probes.js';
import { textTable } from '../report/text-table.js';
import { computeGap } from './parse.js';
import { startProbeLoop } from './probe-loop.js';

export interface TrafficOptions {
  /** Requests per second per VIP per probe (default 10). */
  rateHz?: number;
  /** Per-request timeout in seconds (default 2: a client that gives up sooner is rare). */
  timeoutS?: number;
  /** Hard limit in seconds (default 600); the loop ends earlier when stopped. */
  maxSeconds?: number;
}

export interface TrafficVip {
  vip: string;
  probe: string;
  sent: number;
  failed: number;
  /** Longest client-observed outage (ms), 0 when nothing failed. */
  gapMs: number;
  /** Slowest successful request (ms). */
  maxLatencyMs: number;
  backends: Record<string, number>;
  /** The first few failure reasons, for the report. */
  errors: string[];
}

export interface TrafficReport {
  seconds: number;
  sent: number;
  failed: number;
  /** Requests per second over all probes and VIPs. */
  rate: number;
  vips: TrafficVip[];
  /** Loops that could not run or ended early. */
  problems: string[];
}

export interface RunningTraffic {
  stop(): Promise<TrafficReport>;
}

export async function startTraffic(model: HaModel, connect: Connect, o: TrafficOptions = {}): Promise<RunningTraffic> {
  const conn = memoConnect(connect);
  const loopOpts = { port: model.listenPort, rateHz: o.rateHz ?? 10, timeoutS: o.timeoutS ?? 2, durationS: o.maxSeconds ?? 600, backends: model.backends.map((b) => b.host) };
  const loops = await Promise.all(probeAssignments(model).map(async (a) => startProbeLoop(await conn(a.host), a.host, { ...loopOpts, vips: a.vips })));
  const t0 = Date.now();
  return {
    async stop() {
      const outs = await Promise.all(loops.map((l) => l.stop()));
      const seconds = (Date.now() - t0) / 1000;
      const vips: TrafficVip[] = [];
      const problems: string[] = [];
      loops.forEach((l, i) => {
        const out = outs[i];
        if (out.error) problems.push(out.error);
        for (const vip of l.vips) {
          const xs = out.samples.filter((s) => s.vip === vip);
          const g = computeGap(xs);
          vips.push({
            vip,
            probe: l.probe,
            sent: xs.length,
            failed: g.failures,
            gapMs: g.gapMs,
            maxLatencyMs: xs.filter((x) => x.ok).reduce((m, x) => Math.max(m, x.t - x.s), 0),
            backends: g.backends,
            errors: [...new Set(xs.filter((x) => !x.ok).map((x) => x.err ?? `HTTP ${x.status}`))].slice(0, 3),
          });
        }
      });
      const sent = vips.reduce((n, v) => n + v.sent, 0);
      const failed = vips.reduce((n, v) => n + v.failed, 0);
      return { seconds, sent, failed, rate: sent / Math.max(seconds, 0.001), vips, problems };
    },
  };
}

export function formatTrafficTable(r: TrafficReport): string {
  const rows = r.vips.map((v) => [v.vip, v.probe, String(v.sent), String(v.failed), `${v.gapMs} ms`, `${v.maxLatencyMs} ms`, Object.entries(v.backends).map(([b, n]) => `${b} ${n}`).join(', ')]);
  const why = r.vips.filter((v) => v.failed > 0).map((v) => `${v.vip} from ${v.probe}: ${v.errors.join('; ')}\n`);
  return `${textTable(['VIP', 'PROBE', 'SENT', 'FAILED', 'GAP', 'SLOWEST', 'BACKENDS'], rows)}\n${r.sent} requests in ${r.seconds.toFixed(1)} s (${r.rate.toFixed(1)}/s), ${r.failed} failed\n${why.join('')}`;
}
