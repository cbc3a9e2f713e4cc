// One load balancer L through the failover steps of ./failover.ts: check the starting state,
// inject the fault while the probes request L's VIPs (the peer must take over), repair it while
// they request again (L must take its VIPs back), and whatever failed, leave L as it was found.
import { sh } from '../transport/quote.js';
import type { Transport } from '../transport/types.js';
import type { HaVip } from '../topology/types.js';
import { probeAssignments, type ProbeAssignment } from './probes.js';
import { computeGap } from './parse.js';
import { startProbeLoop, type ProbeLoop } from './probe-loop.js';
import { mergeTransitions, readTransitions, type TimelineEvent } from './timeline.js';
import { expectedPeer, fmtHolders, pollHolders, vipHolders } from './failover-holders.js';
import { faultFor } from './failover-fault.js';
import type { FailoverCtx, FailoverLbResult, Fault } from './failover-types.js';
import { errMsg } from './why.js';

type Holders = Record<string, string[]>;

/** One LB's run: what its steps share. */
interface LbRun {
  c: FailoverCtx;
  lb: string;
  vips: HaVip[];
  addrs: string[];
  res: FailoverLbResult;
  fault: Fault;
  /** The last holders seen (and why they could not be read). */
  last: { holders?: Holders; error?: string };
  /** Loops started and not yet stopped. */
  running: Set<ProbeLoop>;
  assignments: ProbeAssignment[];
  probeT: Map<string, Transport>;
  step(s: string): void;
  problem(s: string): void;
  /** Wall-clock instants (not o.now): they are drawn beside the probes' and the LBs' clocks. */
  event(kind: TimelineEvent['kind'], label: string): void;
}

function newRun(c: FailoverCtx, lb: string): LbRun {
  const vips = c.model.vips.filter((v) => v.master === lb);
  const res: FailoverLbResult = { lb, mode: c.o.mode, vips: vips.map((v) => v.address), ok: false, problems: [], takeoverBy: {}, expectedPeer: {}, restored: false, results: [], steps: [], events: [], transitions: [] };
  for (const v of vips) {
    const p = expectedPeer(c.model, v, lb);
    if (p) res.expectedPeer[v.address] = p;
  }
  return {
    c,
    lb,
    vips,
    addrs: res.vips,
    res,
    fault: faultFor(c, lb, res),
    last: {},
    running: new Set(),
    assignments: [],
    probeT: new Map(),
    step(s) {
      res.steps.push(s);
      c.o.onProgress?.(`${lb}: ${s}`);
    },
    problem(s) {
      res.problems.push(s);
      c.o.onProgress?.(`${lb}: ${s}`);
    },
    event: (kind, label) => res.events!.push({ at: Date.now(), kind, label }),
  };
}

const holdsAll = (r: LbRun) => (h: Holders) => r.addrs.every((a) => h[a]?.length === 1 && h[a][0] === r.lb);

/** The first service the fault needs that is not active on L (undefined: all are). */
async function inactiveNeed(r: LbRun): Promise<string | undefined> {
  const t = await r.c.conn(r.lb);
  for (const u of r.fault.needs) {
    if ((await t.exec(sh`systemctl is-active --quiet ${u}`, { sudo: false, timeoutMs: 15_000 })).code !== 0) return u;
  }
  return undefined;
}

/** Why L may not be touched (undefined: it holds its VIPs alone and runs what the fault needs). */
async function notReady(r: LbRun): Promise<string | undefined> {
  const before = await vipHolders(r.c.model, r.c.conn, r.c.off);
  if (!holdsAll(r)(before)) return `not in the starting state (each VIP held by ${r.lb} only): ${fmtHolders(before, r.addrs)}; nothing was touched`;
  const inactive = await inactiveNeed(r);
  return inactive ? `${inactive} is not active on ${r.lb}; nothing was touched` : undefined;
}

/** Which probes request which of L's VIPs while L is down (a VIP nobody can request is a problem). */
async function assignProbes(r: LbRun): Promise<void> {
  r.assignments = probeAssignments(r.c.model, [r.lb])
    .map((a) => ({ ...a, vips: a.vips.filter((v) => r.addrs.includes(v)) }))
    .filter((a) => a.vips.length > 0);
  for (const v of r.vips) {
    if (!r.assignments.some((a) => a.vips.includes(v.address))) r.problem(`no probe can request ${v.address} (${v.network}) while ${r.lb} is down`);
  }
  for (const a of r.assignments) r.probeT.set(a.host, await r.c.conn(a.host));
}

function startLoops(r: LbRun): ProbeLoop[] {
  const { o, model } = r.c;
  const durationS = Math.min(o.maxLoopSeconds, Math.ceil((o.baselineMs + Math.max(o.takeoverTimeoutMs, o.preemptTimeoutMs) + o.settleMs) / 1000) + 10);
  const base = { port: o.port, rateHz: o.rateHz, timeoutS: o.requestTimeoutMs / 1000, durationS, backends: model.backends.map((b) => b.host) };
  const loops = r.assignments.map((a) => startProbeLoop(r.probeT.get(a.host)!, a.host, { ...base, vips: a.vips }));
  loops.forEach((l) => r.running.add(l));
  return loops;
}

/** Stop the loops of one phase and judge each VIP's gap. */
async function collect(r: LbRun, loops: ProbeLoop[], phase: 'failover' | 'preempt'): Promise<void> {
  const { o } = r.c;
  const outs = await Promise.all(loops.map((l) => l.stop()));
  loops.forEach((l) => r.running.delete(l));
  const cause = phase === 'failover' ? r.fault.injectLabel : r.fault.repairLabel;
  loops.forEach((l, i) => {
    const out = outs[i];
    if (out.error) r.problem(out.error);
    for (const vip of l.vips) {
      const v = r.vips.find((x) => x.address === vip)!;
      let res = r.res.results.find((x) => x.vip === vip && x.probe === l.probe);
      if (!res) r.res.results.push((res = { vip, network: v.network, vrid: v.vrid, probe: l.probe }));
      const samples = out.samples.filter((s) => s.vip === vip);
      if (samples.length === 0) {
        r.problem(`${phase}: no answer recorded for ${vip} from ${l.probe}`);
        continue;
      }
      const g = computeGap(samples);
      res[phase] = g;
      res.trace = { ...res.trace, [phase]: { origin: out.origin, launchedAt: l.launchedAt, samples } };
      if (g.outages[0] && g.outages[0].lastOk === undefined) r.problem(`${phase}: ${vip} from ${l.probe} failed before ${cause} (no baseline)`);
      if (!g.recovered) r.problem(`${phase}: ${vip} did not answer ${l.probe} again within the loop (${g.gapMs} ms without an answer)`);
      if (o.maxGapMs !== undefined && g.gapMs > o.maxGapMs) r.problem(`${phase}: ${vip} from ${l.probe} was unreachable for ${g.gapMs} ms (limit ${o.maxGapMs} ms)`);
    }
  });
  mergeTransitions(r.res.transitions!, await readTransitions(r.c.model, r.c.conn, r.c.off, Math.min(...loops.map((l) => l.launchedAt))));
}

/** Step 2: the fault on L while the probes request; the expected peer must take every VIP over. */
async function failPhase(r: LbRun, state: { injected: boolean }): Promise<void> {
  const { o } = r.c;
  const { res, addrs, fault, last } = r;
  const loops = startLoops(r);
  r.step(`request loop on ${r.assignments.map((a) => `${a.host} -> ${a.vips.join(', ')}`).join('; ')} at ${o.rateHz} Hz`);
  await o.sleep(o.baselineMs);
  r.step(fault.injectLabel);
  state.injected = true;
  r.event('fault', fault.injectLabel);
  await fault.inject();
  r.event('fault-done', `${fault.injectLabel}: done`);
  const taken = await pollHolders(r.c, o.takeoverTimeoutMs, (h) => addrs.every((a) => h[a]?.length === 1 && h[a][0] !== r.lb), last);
  for (const a of addrs) res.takeoverBy[a] = last.holders?.[a] ?? [];
  if (taken === undefined) {
    r.problem(`the peer did not take over within ${o.takeoverTimeoutMs} ms: ${fmtHolders(last.holders, addrs)}${last.error ? ` (${last.error})` : ''}`);
  } else {
    res.takeoverMs = taken;
    r.event('taken-over', `the LBs' addresses show the peer holding ${addrs.join(', ')}`);
    r.step(`taken over after ${taken} ms: ${fmtHolders(last.holders, addrs)}`);
    for (const a of addrs) {
      const want = res.expectedPeer[a];
      const got = res.takeoverBy[a]?.[0];
      if (want && got !== want) r.problem(`${a} was taken over by ${got}, expected ${want} (highest-priority backup)`);
    }
  }
  await o.sleep(o.settleMs);
  await collect(r, loops, 'failover');
}

/** Step 3: repair L while the probes request; L must take its VIPs back (preemption). */
async function repairPhase(r: LbRun, state: { repaired: boolean; back: boolean }): Promise<void> {
  const { o } = r.c;
  const { res, addrs, fault, last } = r;
  const loops = startLoops(r);
  await o.sleep(o.baselineMs);
  r.step(fault.repairLabel);
  const t0 = o.now();
  r.event('repair', fault.repairLabel);
  await fault.repair();
  r.event('repair-done', `${fault.repairLabel}: done`);
  state.repaired = true;
  const pre = await pollHolders(r.c, o.preemptTimeoutMs, holdsAll(r), last);
  if (pre === undefined) {
    r.problem(`${r.lb} did not take its VIPs back within ${o.preemptTimeoutMs} ms: ${fmtHolders(last.holders, addrs)}${last.error ? ` (${last.error})` : ''}`);
  } else {
    state.back = true;
    res.preemptMs = o.now() - t0;
    r.event('back', `the LBs' addresses show ${r.lb} holding ${addrs.join(', ')} again`);
    r.step(`${r.lb} holds its VIPs again ${res.preemptMs} ms after the ${fault.repairLabel} began${res.bootMs !== undefined ? ` (booted in ${res.bootMs} ms)` : ''}`);
  }
  await o.sleep(o.settleMs);
  await collect(r, loops, 'preempt');
}

/** Step 4: leave L as it was found, whatever failed: loops stopped, fault repaired, VIPs back. */
async function restore(r: LbRun, state: { injected: boolean; repaired: boolean; back: boolean }): Promise<void> {
  const { fault, res } = r;
  await Promise.all([...r.running].map((l) => l.stop().catch(() => undefined)));
  if (state.injected && !state.repaired) {
    try {
      await fault.repair();
      state.repaired = true;
      r.step(`cleanup: ${fault.repairLabel}`);
    } catch (e) {
      r.problem(`cleanup: ${fault.repairLabel} on ${r.lb}: ${errMsg(e)}`);
    }
  }
  try {
    if (!state.back && state.injected) state.back = (await pollHolders(r.c, r.c.o.preemptTimeoutMs, holdsAll(r), r.last)) !== undefined;
    res.restored = (state.back || !state.injected) && !r.c.off.has(r.lb) && (await inactiveNeed(r)) === undefined;
  } catch (e) {
    r.problem(`cleanup: ${errMsg(e)}`);
  }
  if (!res.restored) r.problem(`${r.lb} was NOT restored (holding its VIPs with ${fault.needs.join(' and ')} running): ${fmtHolders(r.last.holders, r.addrs)}`);
}

/** Fail one LB and measure what the clients see; L is left as found. */
export async function failOne(c: FailoverCtx, lb: string): Promise<FailoverLbResult> {
  const r = newRun(c, lb);
  const why = await notReady(r);
  if (why) {
    r.problem(why);
    return r.res;
  }
  const state = { injected: false, repaired: false, back: false };
  try {
    await assignProbes(r);
    await failPhase(r, state);
    await repairPhase(r, state);
  } catch (e) {
    r.problem(errMsg(e));
  } finally {
    await restore(r, state);
  }
  r.res.ok = r.res.problems.length === 0;
  return r.res;
}
