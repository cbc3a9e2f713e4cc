// The python3 request loop (./probe-script.ts) on one probe host, started and stopped the one
// way both of its users need: the failover measurement (./failover.ts) and client traffic
// during a change (./traffic.ts). The loop ends when its stop file appears or its duration is
// over; its answer is every request it made and whether it printed its closing line.
import { randomBytes } from 'node:crypto';
import { sh } from '../transport/quote.js';
import type { Transport } from '../transport/types.js';
import { parseProbeLoop, type ProbeSample } from './parse.js';
import { PROBE_LOOP_PY, type ProbeLoopConfig } from './probe-script.js';
import { errMsg, why } from './why.js';

export interface ProbeLoopOptions {
  vips: string[];
  port: number;
  /** Requests per second per VIP. */
  rateHz: number;
  /** Per-request timeout in seconds. */
  timeoutS: number;
  /** Hard limit in seconds; the loop ends earlier when stopped. */
  durationS: number;
  /** Backend host names, to tell which one answered. */
  backends: string[];
}

export interface ProbeLoopResult {
  samples: ProbeSample[];
  /** The wall clock (epoch ms) when the loop's own clock was 0. */
  origin?: number;
  /** Why the loop did not run to its closing line (undefined: it did). */
  error?: string;
}

export interface ProbeLoop {
  probe: string;
  vips: string[];
  /** Controller wall clock when the loop was launched. */
  launchedAt: number;
  /** Ask the loop to end (its stop file) and wait for its answer. */
  stop(): Promise<ProbeLoopResult>;
}

/** Start the loop on `probe` (through `t`, as the login user). */
export function startProbeLoop(t: Transport, probe: string, o: ProbeLoopOptions): ProbeLoop {
  const stopFile = `/tmp/provision-probe-${randomBytes(6).toString('hex')}.stop`;
  const cfg: ProbeLoopConfig = {
    vips: o.vips,
    port: o.port,
    rate: o.rateHz,
    timeout: o.timeoutS,
    duration: o.durationS,
    stop: stopFile,
    backends: o.backends,
    maxInflight: Math.ceil(o.rateHz * o.timeoutS) + 4,
  };
  const launchedAt = Date.now();
  const done: Promise<ProbeLoopResult> = t
    .exec(sh`python3 - ${JSON.stringify(cfg)}`, { sudo: false, stdin: PROBE_LOOP_PY, timeoutMs: (o.durationS + 30) * 1000 })
    .then((r) => {
      const p = parseProbeLoop(r.stdout);
      if (p.end) return { samples: p.samples, origin: p.origin };
      const error = p.samples.length === 0 ? `request loop on ${probe} failed: ${why(r)}` : `request loop on ${probe} ended early: ${why(r)}`;
      return { samples: p.samples, origin: p.origin, error };
    })
    .catch((e: unknown) => ({ samples: [], error: `request loop on ${probe}: ${errMsg(e)}` }));
  return {
    probe,
    vips: o.vips,
    launchedAt,
    async stop() {
      try {
        await t.exec(sh`touch ${stopFile}`, { sudo: false, timeoutMs: 15_000 });
      } catch {
        // The loop still ends at its duration.
      }
      return done;
    },
  };
}
