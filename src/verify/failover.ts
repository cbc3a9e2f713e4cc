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
import { randomBytes } from 'node:crypto';
import { sh } from '../transport/quote.js';
import type { Transport, ExecResult } from '../transport/types.js';
import type { HaModel, HaVip } from '../topology/types.js';
import { memoConnect, probeAssignments, readAddresses, textTable, type Connect } from './checks.js';
import { computeGap, parseProbeLoop, type GapResult, type ProbeSample } from './parse.js';
import { PROBE_LOOP_PY, type ProbeLoopConfig } from './probe-script.js';
import { mergeTransitions, readTransitions, type LbTransition, type ProbeTrace, type TimelineEvent } from './timeline.js';

/** The fault injected on a load balancer. */
export type FailoverMode = 'nginx' | 'keepalived' | 'poweroff';
export const FAILOVER_MODES: readonly FailoverMode[] = ['nginx', 'keepalived', 'poweroff'];
/** Probe loop defaults: a request every 20 ms per VIP, given up after 50 ms. */
export const DEFAULT_RATE_HZ = 50;
export const DEFAULT_TIMEOUT_MS = 50;

/** Power of a host, for mode poweroff (the lab: labPowerOff / labPowerOn). */
export interface PowerControl {
  /** Cut the power: resolves once the host is off. */
  off(host: string): Promise<void>;
  /** Power on: resolves once the host answers SSH again. */
  on(host: string): Promise<void>;
}

export interface FailoverOptions {
  /** The fault (default nginx). */
  mode?: FailoverMode;
  /** Required for mode poweroff. */
  power?: PowerControl;
  /**
   * A new connection to a host that was powered off and on again (mode poweroff; default
   * `connect` itself, which must then not cache). Transports it returns are closed here.
   */
  reconnect?: Connect;
  /** LBs to fail, in this order (default: every LB that masters a VIP, in inventory order). */
  lbs?: string[];
  /** Requests before nginx is killed / started, in ms (default 1000). */
  baselineMs?: number;
  /** Requests per second per VIP (default 50, at least 20). */
  rateHz?: number;
  /** Per-request timeout in ms, per step (connect, response; default 50). */
  requestTimeoutMs?: number;
  /** How long the peer may take to hold L's VIPs after nginx died (default 20000). */
  takeoverTimeoutMs?: number;
  /** How long L may take to hold its VIPs again after nginx started (default 30000). */
  preemptTimeoutMs?: number;
  /** Requests kept running after the VIPs moved, in ms (default 1500). */
  settleMs?: number;
  /** Interval of `ip addr` polls, in ms (default 250). */
  pollMs?: number;
  /** Hard limit of one probe loop, in seconds (default 120). */
  maxLoopSeconds?: number;
  /** Fail when a client-observed gap exceeds this many ms (default: report only). */
  maxGapMs?: number;
  /** The service killed in mode nginx, whose death must move the VIPs (default "nginx"). */
  service?: string;
  /** Port the VIPs are requested on (default: the model's listenPort). */
  port?: number;
  /** Progress lines ("killing nginx on ka67"), for the CLI. */
  onProgress?: (message: string) => void;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface FailoverVipResult {
  vip: string;
  network: string;
  vrid: number;
  /** Host the requests came from. */
  probe: string;
  /** The loop while nginx was killed and the peer took over. */
  failover?: GapResult;
  /** The loop while nginx was started and L took the VIP back. */
  preempt?: GapResult;
  /** Every request of each loop, for the timeline of the HTML report. */
  trace?: { failover?: ProbeTrace; preempt?: ProbeTrace };
}

export interface FailoverLbResult {
  lb: string;
  mode: FailoverMode;
  /** VIPs L masters. */
  vips: string[];
  ok: boolean;
  /** Why it failed (every problem, in order). */
  problems: string[];
  /** VIP -> LBs holding it after the takeover. */
  takeoverBy: Record<string, string[]>;
  /** VIP -> the LB expected to take it over (highest-priority backup). */
  expectedPeer: Record<string, string>;
  /** Controller-side ms from the fault (its injection done) until the peer held every VIP (undefined: never). */
  takeoverMs?: number;
  /** Controller-side ms from the start of the repair (systemctl start, power on) until L held every VIP again. */
  preemptMs?: number;
  /** Mode poweroff: ms from power on until L answered SSH again. */
  bootMs?: number;
  /** L holds its VIPs and runs nginx again at the end. */
  restored: boolean;
  results: FailoverVipResult[];
  /** What was done, in order (for the report). */
  steps: string[];
  /** The same steps' instants (controller clock), for the timeline. */
  events?: TimelineEvent[];
  /** VRRP state changes the LBs logged during both loops. */
  transitions?: LbTransition[];
}

export interface FailoverReport {
  ok: boolean;
  mode: FailoverMode;
  lbs: FailoverLbResult[];
}

const defaultSleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const why = (r: ExecResult) => oneLine(r.stderr) || oneLine(r.stdout).slice(0, 200) || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

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

interface RunningLoop {
  probe: string;
  vips: string[];
  stopFile: string;
  transport: Transport;
  launchedAt: number;
  done: Promise<{ samples: ProbeSample[]; error?: string; origin?: number }>;
}

interface Ctx {
  model: HaModel;
  conn: Connect;
  /** LBs powered off right now. */
  off: Set<string>;
  /** Replace a host's transport after it was powered on again. */
  renew(host: string): Promise<Transport>;
  o: Required<Omit<FailoverOptions, 'lbs' | 'maxGapMs' | 'onProgress' | 'port' | 'power' | 'reconnect'>> &
    Pick<FailoverOptions, 'maxGapMs' | 'onProgress' | 'power'> & { port: number };
}

/** Inject and repair one kind of fault on an LB. */
interface Fault {
  /** What must run on L before (e.g. nginx, keepalived). */
  needs: string[];
  injectLabel: string;
  inject(): Promise<void>;
  repairLabel: string;
  repair(): Promise<void>;
}

function faultFor(c: Ctx, lb: string, res: FailoverLbResult): Fault {
  const { o } = c;
  const svc = o.service;
  const sudoExec = async (cmd: ReturnType<typeof sh>, what: string, timeoutMs: number) => {
    const r = await (await c.conn(lb)).exec(cmd, { sudo: true, timeoutMs });
    if (r.code !== 0) throw new Error(`${what} on ${lb} failed: ${why(r)}`);
  };
  switch (o.mode) {
    case 'nginx':
      return {
        needs: [svc],
        // The main process and its children by pid: `systemctl kill` signals the unit's cgroup,
        // which systemd cannot do inside an nspawn container here (EIO); workers survived holding
        // port 80 and the restart failed. Killing by pid works the same on every host.
        injectLabel: `kill -KILL the ${svc} main process and its children`,
        inject: () =>
          sudoExec(
            // A child may exit between pgrep and kill ("No such process"): only the main
            // process's kill must succeed; the children are killed where they still exist.
            sh`pid=$(systemctl show -p MainPID --value ${svc}) && [ "$pid" -gt 0 ] && kids=$(pgrep -P $pid; true) && kill -KILL $pid && { [ -z "$kids" ] || kill -KILL $kids 2>/dev/null; true; } && while kill -0 $pid 2>/dev/null; do sleep 0.02; done`,
            `killing ${svc}`,
            30_000,
          ),
        repairLabel: `systemctl start ${svc}`,
        repair: () => sudoExec(sh`systemctl start ${svc}`, `systemctl start ${svc}`, 60_000),
      };
    case 'keepalived':
      return {
        needs: [svc, 'keepalived'],
        injectLabel: 'systemctl stop keepalived',
        inject: () => sudoExec(sh`systemctl stop keepalived`, 'systemctl stop keepalived', 60_000),
        repairLabel: 'systemctl start keepalived',
        repair: () => sudoExec(sh`systemctl start keepalived`, 'systemctl start keepalived', 60_000),
      };
    case 'poweroff': {
      const power = o.power;
      if (!power) throw new Error('failover mode poweroff needs a power control (labPowerOff/labPowerOn in the lab)');
      return {
        needs: [svc, 'keepalived'],
        injectLabel: 'power off (NICs without carrier, every process killed)',
        inject: async () => {
          c.off.add(lb);
          await power.off(lb);
        },
        repairLabel: 'power on and boot',
        repair: async () => {
          const t0 = o.now();
          await power.on(lb);
          await c.renew(lb);
          c.off.delete(lb);
          res.bootMs = o.now() - t0;
        },
      };
    }
  }
}

function startLoop(c: Ctx, probe: string, t: Transport, vips: string[], durationS: number): RunningLoop {
  const stopFile = `/tmp/provision-failover-${randomBytes(6).toString('hex')}.stop`;
  const launchedAt = Date.now();
  const cfg: ProbeLoopConfig = {
    vips,
    port: c.o.port,
    rate: c.o.rateHz,
    timeout: c.o.requestTimeoutMs / 1000,
    duration: durationS,
    stop: stopFile,
    backends: c.model.backends.map((b) => b.host),
    maxInflight: Math.ceil((c.o.rateHz * c.o.requestTimeoutMs) / 1000) + 4,
  };
  const done = t
    .exec(sh`python3 - ${JSON.stringify(cfg)}`, { sudo: false, stdin: PROBE_LOOP_PY, timeoutMs: (durationS + 30) * 1000 })
    .then((r) => {
      const p = parseProbeLoop(r.stdout);
      if (r.code !== 0 && p.samples.length === 0) return { samples: [], error: `request loop on ${probe} failed: ${why(r)}` };
      return { samples: p.samples, origin: p.origin, error: p.end ? undefined : r.code !== 0 ? `request loop on ${probe} ended early: ${why(r)}` : undefined };
    })
    .catch((e: unknown) => ({ samples: [] as ProbeSample[], error: `request loop on ${probe}: ${errMsg(e)}` }));
  return { probe, vips, stopFile, transport: t, launchedAt, done };
}

async function stopLoop(l: RunningLoop): Promise<{ samples: ProbeSample[]; error?: string; origin?: number }> {
  try {
    await l.transport.exec(sh`touch ${l.stopFile}`, { sudo: false, timeoutMs: 15_000 });
  } catch {
    // The loop still ends at its duration.
  }
  return l.done;
}

/** Poll until `pred(holders)` or the timeout; returns the elapsed ms, or undefined on timeout. */
async function pollHolders(c: Ctx, timeoutMs: number, pred: (h: Record<string, string[]>) => boolean, last: { holders?: Record<string, string[]>; error?: string }): Promise<number | undefined> {
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

const fmtHolders = (h: Record<string, string[]> | undefined, vips: string[]) =>
  vips.map((v) => `${v}: ${h?.[v]?.length ? h[v].join('+') : 'nobody'}`).join(', ');

async function failOne(c: Ctx, lb: string): Promise<FailoverLbResult> {
  const { model, o } = c;
  const vips = model.vips.filter((v) => v.master === lb);
  const res: FailoverLbResult = { lb, mode: o.mode, vips: vips.map((v) => v.address), ok: false, problems: [], takeoverBy: {}, expectedPeer: {}, restored: false, results: [], steps: [], events: [], transitions: [] };
  // Wall-clock instants (not o.now): they are drawn beside the probes' and the LBs' clocks.
  const event = (kind: TimelineEvent['kind'], label: string) => res.events!.push({ at: Date.now(), kind, label });
  const step = (s: string) => {
    res.steps.push(s);
    o.onProgress?.(`${lb}: ${s}`);
  };
  const problem = (s: string) => {
    res.problems.push(s);
    o.onProgress?.(`${lb}: ${s}`);
  };
  const addrs = vips.map((v) => v.address);
  for (const v of vips) {
    const p = expectedPeer(model, v, lb);
    if (p) res.expectedPeer[v.address] = p;
  }
  const svc = o.service;
  const fault = faultFor(c, lb, res);
  const isActive = async (unit: string) => (await (await c.conn(lb)).exec(sh`systemctl is-active --quiet ${unit}`, { sudo: false, timeoutMs: 15_000 })).code === 0;
  const allActive = async () => {
    for (const u of fault.needs) if (!(await isActive(u))) return u;
    return undefined;
  };
  const holdsAll = (h: Record<string, string[]>) => addrs.every((a) => h[a]?.length === 1 && h[a][0] === lb);
  const last: { holders?: Record<string, string[]>; error?: string } = {};

  // 1. The starting state.
  const before = await vipHolders(model, c.conn, c.off);
  if (!holdsAll(before)) {
    problem(`not in the starting state (each VIP held by ${lb} only): ${fmtHolders(before, addrs)}; nothing was touched`);
    return res;
  }
  const inactive = await allActive();
  if (inactive) {
    problem(`${inactive} is not active on ${lb}; nothing was touched`);
    return res;
  }

  const assignments = probeAssignments(model, [lb])
    .map((a) => ({ ...a, vips: a.vips.filter((v) => addrs.includes(v)) }))
    .filter((a) => a.vips.length > 0);
  for (const v of vips) {
    if (!assignments.some((a) => a.vips.includes(v.address))) problem(`no probe can request ${v.address} (${v.network}) while ${lb} is down`);
  }
  const probeT = new Map<string, Transport>();
  for (const a of assignments) probeT.set(a.host, await c.conn(a.host));
  const loopS = Math.min(o.maxLoopSeconds, Math.ceil((o.baselineMs + Math.max(o.takeoverTimeoutMs, o.preemptTimeoutMs) + o.settleMs) / 1000) + 10);
  const startLoops = () => assignments.map((a) => startLoop(c, a.host, probeT.get(a.host)!, a.vips, loopS));
  const running = new Set<RunningLoop>();
  const collect = async (loops: RunningLoop[], phase: 'failover' | 'preempt') => {
    const outs = await Promise.all(loops.map((l) => stopLoop(l)));
    loops.forEach((l) => running.delete(l));
    loops.forEach((l, i) => {
      const out = outs[i];
      if (out.error) problem(out.error);
      for (const vip of l.vips) {
        const v = vips.find((x) => x.address === vip)!;
        let r = res.results.find((x) => x.vip === vip && x.probe === l.probe);
        if (!r) res.results.push((r = { vip, network: v.network, vrid: v.vrid, probe: l.probe }));
        const samples = out.samples.filter((s) => s.vip === vip);
        if (samples.length === 0) {
          problem(`${phase}: no answer recorded for ${vip} from ${l.probe}`);
          continue;
        }
        const g = computeGap(samples);
        r[phase] = g;
        r.trace = { ...r.trace, [phase]: { origin: out.origin, launchedAt: l.launchedAt, samples } };
        const first = g.outages[0];
        if (first && first.lastOk === undefined) problem(`${phase}: ${vip} from ${l.probe} failed before ${phase === 'failover' ? fault.injectLabel : fault.repairLabel} (no baseline)`);
        if (!g.recovered) problem(`${phase}: ${vip} did not answer ${l.probe} again within the loop (${g.gapMs} ms without an answer)`);
        if (o.maxGapMs !== undefined && g.gapMs > o.maxGapMs) problem(`${phase}: ${vip} from ${l.probe} was unreachable for ${g.gapMs} ms (limit ${o.maxGapMs} ms)`);
      }
    });
    mergeTransitions(res.transitions!, await readTransitions(model, c.conn, c.off, Math.min(...loops.map((l) => l.launchedAt))));
  };

  let injected = false;
  let repaired = false;
  let back = false;
  try {
    // 2. The fault on L; the peer must take over.
    let loops = startLoops();
    loops.forEach((l) => running.add(l));
    step(`request loop on ${assignments.map((a) => `${a.host} -> ${a.vips.join(', ')}`).join('; ')} at ${o.rateHz} Hz`);
    await o.sleep(o.baselineMs);
    step(fault.injectLabel);
    injected = true;
    event('fault', fault.injectLabel);
    await fault.inject();
    event('fault-done', `${fault.injectLabel}: done`);
    const taken = await pollHolders(c, o.takeoverTimeoutMs, (h) => addrs.every((a) => h[a]?.length === 1 && h[a][0] !== lb), last);
    for (const a of addrs) res.takeoverBy[a] = last.holders?.[a] ?? [];
    if (taken === undefined) {
      problem(`the peer did not take over within ${o.takeoverTimeoutMs} ms: ${fmtHolders(last.holders, addrs)}${last.error ? ` (${last.error})` : ''}`);
    } else {
      res.takeoverMs = taken;
      event('taken-over', `the LBs' addresses show the peer holding ${addrs.join(', ')}`);
      step(`taken over after ${taken} ms: ${fmtHolders(last.holders, addrs)}`);
      for (const a of addrs) {
        const want = res.expectedPeer[a];
        const got = res.takeoverBy[a]?.[0];
        if (want && got !== want) problem(`${a} was taken over by ${got}, expected ${want} (highest-priority backup)`);
      }
    }
    await o.sleep(o.settleMs);
    await collect(loops, 'failover');

    // 3. Repair L; L must take its VIPs back (preemption).
    loops = startLoops();
    loops.forEach((l) => running.add(l));
    await o.sleep(o.baselineMs);
    step(fault.repairLabel);
    const t0 = o.now();
    event('repair', fault.repairLabel);
    await fault.repair();
    event('repair-done', `${fault.repairLabel}: done`);
    repaired = true;
    const pre = await pollHolders(c, o.preemptTimeoutMs, holdsAll, last);
    if (pre === undefined) {
      problem(`${lb} did not take its VIPs back within ${o.preemptTimeoutMs} ms: ${fmtHolders(last.holders, addrs)}${last.error ? ` (${last.error})` : ''}`);
    } else {
      back = true;
      res.preemptMs = o.now() - t0;
      event('back', `the LBs' addresses show ${lb} holding ${addrs.join(', ')} again`);
      step(`${lb} holds its VIPs again ${res.preemptMs} ms after the ${fault.repairLabel} began${res.bootMs !== undefined ? ` (booted in ${res.bootMs} ms)` : ''}`);
    }
    await o.sleep(o.settleMs);
    await collect(loops, 'preempt');
  } catch (e) {
    problem(errMsg(e));
  } finally {
    // 4. Leave the cluster as it was found, whatever failed above.
    await Promise.all([...running].map((l) => stopLoop(l).catch(() => undefined)));
    if (injected && !repaired) {
      try {
        await fault.repair();
        repaired = true;
        step(`cleanup: ${fault.repairLabel}`);
      } catch (e) {
        problem(`cleanup: ${fault.repairLabel} on ${lb}: ${errMsg(e)}`);
      }
    }
    try {
      if (!back && injected) back = (await pollHolders(c, o.preemptTimeoutMs, holdsAll, last)) !== undefined;
      res.restored = (back || !injected) && !c.off.has(lb) && (await allActive()) === undefined;
    } catch (e) {
      problem(`cleanup: ${errMsg(e)}`);
    }
    if (!res.restored) problem(`${lb} was NOT restored (holding its VIPs with ${fault.needs.join(' and ')} running): ${fmtHolders(last.holders, addrs)}`);
  }
  res.ok = res.problems.length === 0;
  return res;
}

/**
 * Fail every LB (that masters a VIP) in turn and measure what the clients see. The transports
 * from `connect` are owned by the caller (not closed here).
 */
export async function verifyFailover(model: HaModel, connect: Connect, opts: FailoverOptions = {}): Promise<FailoverReport> {
  const memo = memoConnect(connect);
  const renewed = new Map<string, Transport>();
  const c: Ctx = {
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
    o: {
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
    },
  };
  const lbs = opts.lbs ?? model.nodes.filter((n) => model.vips.some((v) => v.master === n.host)).map((n) => n.host);
  const mode = c.o.mode;
  const out: FailoverLbResult[] = [];
  try {
    for (const lb of lbs) {
      if (!model.nodes.some((n) => n.host === lb)) {
        out.push({ lb, mode, vips: [], ok: false, problems: [`${lb} is not a load balancer of the HA model`], takeoverBy: {}, expectedPeer: {}, restored: false, results: [], steps: [] });
        continue;
      }
      try {
        out.push(await failOne(c, lb));
      } catch (e) {
        out.push({ lb, mode, vips: [], ok: false, problems: [errMsg(e)], takeoverBy: {}, expectedPeer: {}, restored: false, results: [], steps: [] });
      }
      // A cluster that was not restored must not lose its other master too.
      if (!out[out.length - 1].restored && out[out.length - 1].steps.length > 0) break;
    }
  } finally {
    await Promise.all([...renewed.values()].map((t) => t.close().catch(() => undefined)));
  }
  return { ok: out.length > 0 && out.every((r) => r.ok), mode, lbs: out };
}

const fmtGap = (g?: GapResult) => (!g ? '-' : !g.recovered ? `>${g.gapMs} ms (no recovery)` : g.failures === 0 ? '0 ms' : `${g.gapMs} ms`);

/** One line per (LB, VIP, probe) with the failover and preemption gaps, then each LB's problems. */
export function formatFailoverTable(report: FailoverReport): string {
  const rows: string[][] = [];
  for (const l of report.lbs) {
    if (l.results.length === 0) rows.push([l.lb, '-', '-', '-', '-', '-', '-', l.ok ? 'ok' : 'FAIL']);
    for (const r of l.results) {
      rows.push([
        l.lb,
        r.vip,
        r.probe,
        (l.takeoverBy[r.vip] ?? []).join('+') || '-',
        fmtGap(r.failover),
        String(r.failover?.failureKinds.syn ?? 0),
        fmtGap(r.preempt),
        l.ok ? 'ok' : 'FAIL',
      ]);
    }
  }
  const lines = [textTable(['FAILED LB', 'VIP', 'PROBE', 'TAKEN OVER BY', 'FAILOVER GAP', 'DROPPED SYNS', 'PREEMPT GAP', 'RESULT'], rows)];
  for (const l of report.lbs) {
    const fault = { nginx: 'nginx was killed', keepalived: 'keepalived was stopped', poweroff: 'the power was cut' }[l.mode];
    const repair = { nginx: 'nginx started', keepalived: 'keepalived started', poweroff: 'power came back' }[l.mode];
    const times = [
      l.takeoverMs !== undefined ? `peer held the VIPs ${l.takeoverMs} ms after ${fault}` : '',
      l.preemptMs !== undefined ? `${l.lb} held them again ${l.preemptMs} ms after ${repair}${l.bootMs !== undefined ? ` (boot to SSH ${l.bootMs} ms)` : ''}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    if (times) lines.push(`${l.lb}: ${times}`);
    for (const p of l.problems) lines.push(`${l.lb}: FAIL: ${p}`);
  }
  lines.push(`failover (${report.mode}): ${report.lbs.length} load balancer${report.lbs.length === 1 ? '' : 's'} failed in turn, ${report.lbs.filter((l) => !l.ok).length} with problems`);
  return lines.join('\n') + '\n';
}
