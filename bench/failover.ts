// Failover bench on the lab: for each profile (howto: the how-to's interval 2 / fall 2 /
// weight -10; default; fast: VRRPv3 at 0.1 s), converge the lab with it, then for each fault
// (nginx killed, keepalived stopped, LB container powered off) fail each LB in turn and measure,
// from the probe hosts, the client-observed gap per VIP and the gap when the master comes back
// (preemption). Optionally an idle run of the fast profile: no VRRP transition may happen.
// At the end the lab is converged back to the inventory's own profile.
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../src/inventory/index.js';
import type { Inventory } from '../src/inventory/types.js';
import { deriveTopology } from '../src/topology/index.js';
import type { HaModel, ProfileName } from '../src/topology/types.js';
import { SshTransport, connectionSpecFor, sh, type Transport } from '../src/transport/index.js';
import { verifyFailover, formatFailoverTable, vipHolders, DEFAULT_RATE_HZ, DEFAULT_TIMEOUT_MS, FAILOVER_MODES, type FailoverMode, type FailoverReport } from '../src/verify/failover.js';
import { labPowerOff, labPowerOn } from '../src/lab/index.js';
import { curlVips } from '../src/verify/http-check.js';
import { probeAssignments } from '../src/verify/probes.js';
import { measure, table } from './lib/measure.js';
import { LAB_INVENTORY, REPO, inventoryWith, runProvision } from './lab.js';

export const PROFILE_NAMES: ProfileName[] = ['howto', 'default', 'fast'];

export interface GapSummary {
  /** Client-observed failover gap per VIP and probe (ms), every LB failed in turn. */
  failoverMs: number[];
  /** Requests of the failover loops whose SYN got no answer within the timeout, per VIP and probe. */
  droppedSyns: number[];
  preemptMs: number[];
  /** Controller-side time until the peer held the VIPs, per LB. */
  takeoverMs: number[];
  bootMs: number[];
  ok: boolean;
  problems: string[];
}

export interface ProfileFailover {
  profile: ProfileName;
  /** Converge with this profile (ms, changed). */
  converge: { ms: number; changed: number };
  /**
   * VIPs a probe could not reach right after the converge although their master held them
   * (e.g. a client's ARP entry still naming the peer after a rolling change of VRRP version);
   * the probes' neighbour caches are flushed before the measurements when this is not empty.
   */
  unreachableAfterConverge: string[];
  modes: Partial<Record<FailoverMode, { summary: GapSummary; report: FailoverReport }>>;
  /** Idle run (fast profile): VRRP transitions seen while nothing was done. */
  idle?: IdleResult;
}

export interface IdleResult {
  minutes: number;
  /** keepalived "Entering ... STATE" lines in the journal of each LB during the run. */
  transitions: Record<string, number>;
  /** Samples of VIP holders (every ~5 s) in which a VIP was not held by exactly its master. */
  badSamples: number;
  samples: number;
  flapped: boolean;
}

export interface FailoverBenchOptions {
  profiles: ProfileName[];
  modes: FailoverMode[];
  /** LBs to fail (default: every LB that masters a VIP). */
  lbs?: string[];
  /** Idle minutes with the fast profile (0 = skip). */
  idleMinutes: number;
  inventory?: string;
  log?: (line: string) => void;
}

export interface FailoverBenchResult {
  profiles: ProfileFailover[];
  /** The lab converged back to the inventory's profile at the end (exit 0, verify passed). */
  restored: { profile: string; ms: number; changed: number; unreachableAfterConverge: string[] };
  /** Why the bench stopped early (the profiles measured until then are kept). */
  error?: string;
}

/** Fresh SSH transports per host from the inventory (strict host keys, as the CLI). */
function connector(inv: Inventory) {
  const open = new Set<Transport>();
  const cache = new Map<string, Promise<Transport>>();
  const fresh = async (name: string): Promise<Transport> => {
    const h = inv.hosts.get(name);
    if (!h) throw new Error(`host ${name} is not in ${inv.file}`);
    const t = new SshTransport(connectionSpecFor(h));
    open.add(t);
    await t.connect();
    return t;
  };
  return {
    connect: (name: string) => {
      let p = cache.get(name);
      if (!p) cache.set(name, (p = fresh(name)));
      return p;
    },
    reconnect: fresh,
    /** Drop (and close) the cached connections of these hosts: they were powered off. */
    forget: async (names: string[]) => {
      const old = names.map((n) => cache.get(n)).filter((p): p is Promise<Transport> => p !== undefined);
      for (const n of names) cache.delete(n);
      await Promise.allSettled(old.map(async (p) => (await p).close()));
    },
    closeAll: async () => void (await Promise.allSettled([...open].map((t) => t.close()))),
  };
}

function summarize(report: FailoverReport): GapSummary {
  const s: GapSummary = { failoverMs: [], droppedSyns: [], preemptMs: [], takeoverMs: [], bootMs: [], ok: report.ok, problems: [] };
  for (const l of report.lbs) {
    for (const r of l.results) {
      if (r.failover) s.failoverMs.push(r.failover.recovered ? r.failover.gapMs : Infinity);
      if (r.failover) s.droppedSyns.push(r.failover.failureKinds.syn ?? 0);
      if (r.preempt) s.preemptMs.push(r.preempt.recovered ? r.preempt.gapMs : Infinity);
    }
    if (l.takeoverMs !== undefined) s.takeoverMs.push(l.takeoverMs);
    if (l.bootMs !== undefined) s.bootMs.push(l.bootMs);
    s.problems.push(...l.problems.map((p) => `${l.lb}: ${p}`));
  }
  return s;
}

/** Wait until every VIP is held by exactly its master (after a converge changed keepalived). */
async function settle(model: HaModel, connect: (h: string) => Promise<Transport>, withinMs = 60_000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    try {
      const h = await vipHolders(model, connect);
      if (model.vips.every((v) => h[v.address]?.length === 1 && h[v.address][0] === v.master)) return true;
    } catch {
      /* retry */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Every VIP from the probe on its network, 3 requests each: the VIPs with a failed request. */
async function unreachableVips(model: HaModel, connect: (h: string) => Promise<Transport>): Promise<string[]> {
  const bad: string[] = [];
  for (const a of probeAssignments(model)) {
    const r = await curlVips(await connect(a.host), model, a.host, 3, { vips: a.vips, timeoutS: 1 });
    for (const row of r.rows) if (!row.ok) bad.push(`${row.target} from ${a.host}`);
  }
  return bad;
}

/** Idle for `minutes`: sample VIP holders every 5 s and count keepalived's state changes in the journal. */
async function idleRun(model: HaModel, connect: (h: string) => Promise<Transport>, minutes: number, log: (l: string) => void): Promise<IdleResult> {
  const since = Math.floor(Date.now() / 1000);
  const until = Date.now() + minutes * 60_000;
  let samples = 0;
  let bad = 0;
  while (Date.now() < until) {
    samples++;
    try {
      const h = await vipHolders(model, connect);
      if (!model.vips.every((v) => h[v.address]?.length === 1 && h[v.address][0] === v.master)) bad++;
    } catch {
      bad++;
    }
    await new Promise((r) => setTimeout(r, Math.min(5000, Math.max(0, until - Date.now()))));
  }
  const transitions: Record<string, number> = {};
  for (const n of model.nodes) {
    const t = await connect(n.host);
    const r = await t.exec(sh`journalctl -u keepalived --since ${`@${since}`} -o cat --no-pager | grep -c 'Entering .* STATE' || true`, { sudo: true, timeoutMs: 30_000 });
    transitions[n.host] = Number(r.stdout.trim()) || 0;
  }
  const flapped = bad > 0 || Object.values(transitions).some((x) => x > 0);
  log(`  idle ${minutes} min: ${samples} samples, ${bad} with a VIP off its master; keepalived transitions ${JSON.stringify(transitions)}${flapped ? ' FLAPPED' : ''}`);
  return { minutes, transitions, badSamples: bad, samples, flapped };
}

export async function runFailoverBench(o: FailoverBenchOptions): Promise<FailoverBenchResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const base = o.inventory ?? LAB_INVENTORY;
  const work = mkdtempSync(join(tmpdir(), 'pv-bench-failover-'));
  const labOpts = { log: (l: string) => log(`    lab: ${l}`), repoRoot: REPO };
  const power = {
    off: async (h: string) => void (await labPowerOff(h, labOpts)),
    on: async (h: string) => void (await labPowerOn(h, labOpts)),
  };
  const profiles: ProfileFailover[] = [];
  let failure: unknown;
  try {
    for (const profile of o.profiles) {
      const inventory = inventoryWith({ profile }, base, work);
      log(`failover bench: profile ${profile}: converge`);
      const conv = await runProvision('converge', { inventory });
      log(`  converged in ${(conv.ms / 1000).toFixed(2)} s, changed=${conv.changed}`);
      const inv = await loadInventory(inventory);
      const model = deriveTopology([...inv.hosts.values()], { baseDir: path.dirname(inv.file) });
      const c = connector(inv);
      const pf: ProfileFailover = { profile, converge: { ms: conv.ms, changed: conv.changed }, unreachableAfterConverge: [], modes: {} };
      profiles.push(pf); // what was measured before a later step fails is still reported
      try {
        if (!(await settle(model, c.connect))) log('  WARNING: VIPs not all on their masters 60 s after the converge');
        pf.unreachableAfterConverge = await unreachableVips(model, c.connect);
        if (pf.unreachableAfterConverge.length) {
          log(`  after the converge, unreachable although held by their masters: ${pf.unreachableAfterConverge.join('; ')}; flushing the probes' neighbour caches`);
          for (const a of probeAssignments(model)) await (await c.connect(a.host)).exec(sh`ip neigh flush all`, { sudo: true, timeoutMs: 15_000 });
          const still = await unreachableVips(model, c.connect);
          if (still.length) log(`  WARNING: still unreachable: ${still.join('; ')}`);
        }
        for (const mode of o.modes) {
          log(`failover bench: profile ${profile}, ${mode}`);
          const report = await verifyFailover(model, c.connect, {
            mode,
            lbs: o.lbs,
            power,
            reconnect: c.reconnect,
            onProgress: (m) => log(`    ${m}`),
          });
          process.stderr.write(formatFailoverTable(report).replace(/^/gm, '    '));
          pf.modes[mode] = { summary: summarize(report), report };
          // Power cycled LBs: their connections from before the power cut are dead (the ones
          // verifyFailover opened after the boot it closed itself); later steps connect anew.
          if (mode === 'poweroff') await c.forget(model.nodes.map((n) => n.host));
          if (!report.lbs.every((l) => l.restored)) throw new Error(`profile ${profile}, ${mode}: a load balancer was not restored; stopping the failover bench`);
          if (!(await settle(model, c.connect, 30_000))) log(`  WARNING: VIPs not all on their masters 30 s after ${mode}`);
        }
        if (profile === 'fast' && o.idleMinutes > 0) {
          log(`failover bench: profile fast idle for ${o.idleMinutes} min (flapping check)`);
          await new Promise((r) => setTimeout(r, 5000));
          pf.idle = await idleRun(model, c.connect, o.idleMinutes, log);
        }
      } finally {
        await c.closeAll();
      }
    }
  } catch (e) {
    failure = e;
  }
  // Leave the lab converged with the inventory's own profile, and verified, whatever happened.
  log('failover bench: converge back to the inventory\'s profile, then verify');
  let back;
  let unreachable: string[] = [];
  try {
    back = await runProvision('converge', { inventory: base });
    const inv = await loadInventory(base);
    const model = deriveTopology([...inv.hosts.values()], { baseDir: path.dirname(inv.file) });
    const c = connector(inv);
    try {
      await settle(model, c.connect);
      unreachable = await unreachableVips(model, c.connect);
      if (unreachable.length) {
        log(`  after the converge, unreachable although held by their masters: ${unreachable.join('; ')}; flushing the probes' neighbour caches`);
        for (const a of probeAssignments(model)) await (await c.connect(a.host)).exec(sh`ip neigh flush all`, { sudo: true, timeoutMs: 15_000 });
      }
    } finally {
      await c.closeAll();
    }
    const v = await measure(process.execPath, [join(REPO, 'bin/provision.js'), 'verify', base], { cwd: REPO, env: { ...process.env, CI: '1' }, timeoutMs: 5 * 60_000 });
    if (v.code !== 0) throw new Error(`provision verify failed after restoring the lab (exit ${v.code}):\n${v.stdout.split('\n').slice(-15).join('\n')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log(`  restored in ${(back.ms / 1000).toFixed(2)} s, changed=${back.changed}; verify passed`);
  const error = failure === undefined ? undefined : failure instanceof Error ? failure.message : String(failure);
  return { profiles, restored: { profile: 'inventory', ms: back.ms, changed: back.changed, unreachableAfterConverge: unreachable }, error };
}

const ms = (xs: number[]): string => {
  if (xs.length === 0) return '-';
  const fin = xs.filter(Number.isFinite);
  const fmt = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : 'never');
  const max = Math.max(...xs);
  const min = Math.min(...xs);
  const sorted = [...fin].sort((a, b) => a - b);
  const med = sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : Infinity;
  return min === max ? `${fmt(max)} ms` : `${fmt(med)} ms (${fmt(min)}-${fmt(max)})`;
};

export function failoverTable(r: FailoverBenchResult): string {
  const rows = [['profile', 'fault', 'client gap (median, range)', 'dropped SYNs per VIP', 'preemption gap', 'peer held VIPs after', 'boot', 'result']];
  for (const p of r.profiles) {
    for (const mode of FAILOVER_MODES) {
      const m = p.modes[mode];
      if (!m) continue;
      const s = m.summary;
      rows.push([p.profile, mode, ms(s.failoverMs), s.droppedSyns.join(', ') || '-', ms(s.preemptMs), ms(s.takeoverMs), s.bootMs.length ? ms(s.bootMs) : '-', s.ok ? 'ok' : 'FAIL']);
    }
  }
  const notes: string[] = [];
  for (const p of r.profiles) {
    if (p.unreachableAfterConverge.length) notes.push(`profile ${p.profile}: right after the converge to it, unreachable although held by their masters: ${p.unreachableAfterConverge.join('; ')} (probes' neighbour caches flushed before measuring)`);
    if (p.idle) notes.push(`profile ${p.profile}: ${p.idle.minutes} min idle: ${p.idle.flapped ? 'FLAPPED' : 'no flapping'} (keepalived transitions ${Object.entries(p.idle.transitions).map(([h, n]) => `${h}=${n}`).join(' ')}, ${p.idle.badSamples}/${p.idle.samples} samples with a VIP off its master)`);
    for (const [mode, m] of Object.entries(p.modes)) for (const prob of m?.summary.problems ?? []) notes.push(`profile ${p.profile}, ${mode}: ${prob}`);
  }
  if (r.restored.unreachableAfterConverge.length) notes.push(`converging back to the inventory's profile: unreachable although held by their masters: ${r.restored.unreachableAfterConverge.join('; ')} (probes' neighbour caches flushed before verify)`);
  if (r.error) notes.push(`failover bench stopped early: ${r.error}`);
  notes.push(`client gap: longest time without an answer on a VIP, from the probe host on its network (${DEFAULT_RATE_HZ} requests/s, ${DEFAULT_TIMEOUT_MS} ms timeout), over every VIP of each LB failed in turn; dropped SYNs: requests whose connect timed out (no node held the VIP)`);
  return [table(rows), ...notes].join('\n');
}

export { FAILOVER_MODES };
