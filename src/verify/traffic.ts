// Client traffic during a change: every probe requests every VIP of its networks continuously
// (the same python3 loop as the failover measurement) until stopped, then the requests sent,
// failed and the slowest answer are reported per VIP. This is how "a re-provision loses no
// request" is shown: start traffic, run the change, stop traffic, count failures.
import { randomBytes } from 'node:crypto';
import { sh } from '../transport/quote.js';
import type { Transport } from '../transport/types.js';
import type { HaModel } from '../topology/types.js';
import { memoConnect, probeAssignments, textTable, type Connect } from './checks.js';
import { computeGap, parseProbeLoop, type ProbeSample } from './parse.js';
import { PROBE_LOOP_PY, type ProbeLoopConfig } from './probe-script.js';

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

const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function startTraffic(model: HaModel, connect: Connect, o: TrafficOptions = {}): Promise<RunningTraffic> {
  const conn = memoConnect(connect);
  const rate = o.rateHz ?? 10;
  const timeout = o.timeoutS ?? 2;
  const loops = await Promise.all(
    probeAssignments(model).map(async (a) => {
      const t: Transport = await conn(a.host);
      const stop = `/tmp/provision-traffic-${randomBytes(6).toString('hex')}.stop`;
      const cfg: ProbeLoopConfig = {
        vips: a.vips,
        port: model.listenPort,
        rate,
        timeout,
        duration: o.maxSeconds ?? 600,
        stop,
        backends: model.backends.map((b) => b.host),
        maxInflight: Math.ceil(rate * timeout) + 4,
      };
      const done = t
        .exec(sh`python3 - ${JSON.stringify(cfg)}`, { sudo: false, stdin: PROBE_LOOP_PY, timeoutMs: ((o.maxSeconds ?? 600) + 30) * 1000 })
        .then((r) => ({ ...parseProbeLoop(r.stdout), code: r.code, stderr: r.stderr }))
        .catch((e: unknown) => ({ samples: [] as ProbeSample[], end: undefined, bad: [], code: null, stderr: errMsg(e) }));
      return { host: a.host, vips: a.vips, t, stop, done };
    }),
  );
  const t0 = Date.now();
  return {
    async stop() {
      await Promise.all(loops.map((l) => l.t.exec(sh`touch ${l.stop}`, { sudo: false, timeoutMs: 15_000 }).catch(() => undefined)));
      const outs = await Promise.all(loops.map((l) => l.done));
      const seconds = (Date.now() - t0) / 1000;
      const vips: TrafficVip[] = [];
      const problems: string[] = [];
      loops.forEach((l, i) => {
        const out = outs[i];
        if (!out.end) problems.push(`request loop on ${l.host} ended without its closing line (exit ${out.code}): ${out.stderr.trim().slice(0, 200)}`);
        for (const vip of l.vips) {
          const xs = out.samples.filter((s) => s.vip === vip);
          const g = computeGap(xs);
          vips.push({
            vip,
            probe: l.host,
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
