// `npm run bench` (as root, on this machine's lab): provision against its Ansible twin and the
// failover gaps of the HA layout, in one command. Prints tables and writes bench/results.json.
//
//   1. lab: the site playbook on the six lab hosts (bench/lab.ts): cold converge on a fresh lab,
//      no-op re-run, --check run; medians of several runs with min and max; provision/Ansible.
//   2. scale: N lightweight SSH targets (bench/scale.ts): no-op time and controller memory vs N.
//   3. failover: per profile (howto, default, fast) and fault (nginx killed, keepalived stopped,
//      LB powered off), the client-observed gaps (bench/failover.ts); an idle run of `fast`.
//   The lab is left up, converged with the inventory's own profile.
//
//   npm run bench                      # everything (about an hour: 10 min of it the idle run)
//   npm run bench -- --smoke           # small and quick: 1 run each, N=3, one failover
//   npm run bench -- --no-scale --no-failover --runs 3 --cold-runs 1
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runLabBench, labTable, profileProvision, profileTable, REPO, type LabBenchResult, type ProvisionProfile } from './lab.js';
import { runScaleBench, scaleTable, machineInfo, type ScaleResult } from './scale.js';
import { runFailoverBench, failoverTable, PROFILE_NAMES, type FailoverBenchResult } from './failover.js';
import { FAILOVER_MODES, type FailoverMode } from '../src/verify/failover.js';
import type { ProfileName } from '../src/topology/types.js';
import { table, secs, mib } from './lib/measure.js';

export interface Goal {
  goal: string;
  value: string;
  met: boolean | null;
}

export interface BenchResults {
  date: string;
  machine: ReturnType<typeof machineInfo>;
  options: Record<string, unknown>;
  seconds: number;
  lab?: LabBenchResult;
  /** Where one in-process no-op provision run on the lab spends its time. */
  profile?: ProvisionProfile;
  scale?: ScaleResult[];
  failover?: FailoverBenchResult;
  goals: Goal[];
  errors: string[];
}

const list = (v: string | undefined, dflt: string[]): string[] => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : dflt);

/** The goals of issue 6, judged from what was measured (null: not measured in this run). */
export function judgeGoals(r: Pick<BenchResults, 'lab' | 'scale' | 'failover'>): Goal[] {
  const goals: Goal[] = [];
  const lab = r.lab;
  const noop = lab?.provision.noop.median;
  const fresh = lab?.provision.noopFresh?.median;
  goals.push({
    goal: 'lab no-op re-run (6 hosts) under 1 s',
    value: noop === undefined ? '-' : `${secs(noop)}${fresh === undefined ? '' : ` (new connections: ${secs(fresh)})`}`,
    met: noop === undefined ? null : noop < 1000,
  });
  const ratio = lab?.ratio.noop;
  goals.push({ goal: 'lab no-op at least 10x faster than Ansible', value: ratio === undefined ? '-' : `${(1 / ratio).toFixed(1)}x`, met: ratio === undefined ? null : ratio <= 0.1 });
  const s100 = r.scale?.find((s) => s.n === 100)?.provision;
  goals.push({
    goal: '100 targets no-op under 5 s',
    value: s100 ? `${secs(s100.noop.median)}${s100.noopFresh ? ` (new connections: ${secs(s100.noopFresh.median)})` : ''}` : '-',
    met: s100 ? s100.noop.median < 5000 : null,
  });
  // The controller's memory: the CLI and the keeper that holds its connections, together.
  const mem = s100?.maxRssKb ? s100.maxRssKb + (s100.keeperPeakRssKb ?? 0) : undefined;
  goals.push({
    goal: '100 targets: controller memory under 200 MB',
    value: mem ? `${mib(mem)}${s100?.keeperPeakRssKb ? ` (CLI ${mib(s100.maxRssKb)} + keeper ${mib(s100.keeperPeakRssKb)})` : ''}` : '-',
    met: mem ? mem < 200 * 1024 : null,
  });
  const gap = (profile: ProfileName, mode: FailoverMode) => {
    const s = r.failover?.profiles.find((p) => p.profile === profile)?.modes[mode]?.summary;
    return s && s.failoverMs.length ? Math.max(...s.failoverMs) : undefined;
  };
  const g = (label: string, profile: ProfileName, mode: FailoverMode, limit: number) => {
    const v = gap(profile, mode);
    goals.push({ goal: label, value: v === undefined ? '-' : Number.isFinite(v) ? `${Math.round(v)} ms (worst VIP)` : 'no recovery', met: v === undefined ? null : v < limit });
  };
  // Issue 16's floor, per VIP with a 50 ms probe timeout.
  g('nginx killed, default profile: under 0.15 s', 'default', 'nginx', 150);
  g('keepalived stopped, default profile: under 0.15 s', 'default', 'keepalived', 150);
  g('LB powered off, default profile: under 3.2 s', 'default', 'poweroff', 3200);
  g('LB powered off, fast profile: under 0.5 s', 'fast', 'poweroff', 500);
  const idle = r.failover?.profiles.find((p) => p.profile === 'fast')?.idle;
  goals.push({ goal: 'fast profile: no flapping in a 10-minute idle run', value: idle ? `${idle.minutes} min: ${idle.flapped ? 'flapped' : 'no transition'}` : '-', met: idle ? !idle.flapped && idle.minutes >= 10 : null });
  return goals;
}

export function goalsTable(goals: Goal[]): string {
  return table([['goal', 'measured', 'met'], ...goals.map((g) => [g.goal, g.value, g.met === null ? 'not measured' : g.met ? 'yes' : 'NO'])]);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean' },
      runs: { type: 'string' },
      'cold-runs': { type: 'string' },
      'scale-n': { type: 'string' },
      'scale-runs': { type: 'string' },
      profiles: { type: 'string' },
      modes: { type: 'string' },
      'idle-minutes': { type: 'string' },
      'no-ansible': { type: 'boolean' },
      'no-lab': { type: 'boolean' },
      'no-scale': { type: 'boolean' },
      'no-failover': { type: 'boolean' },
      json: { type: 'string' },
    },
  });
  if (process.getuid?.() !== 0) throw new Error('npm run bench needs root (the lab: namespaces, containers; the scale bench: namespaces)');
  const smoke = !!values.smoke;
  const num = (v: string | undefined, d: number, what: string) => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${what} ${v}: expected a whole number`);
    return n;
  };
  const opts = {
    smoke,
    runs: num(values.runs, smoke ? 1 : 5, 'runs'),
    coldRuns: num(values['cold-runs'], smoke ? 0 : 3, 'cold-runs'),
    scaleNs: list(values['scale-n'], smoke ? ['3'] : ['10', '50', '100']).map(Number),
    scaleRuns: num(values['scale-runs'], smoke ? 1 : 3, 'scale-runs'),
    profiles: list(values.profiles, smoke ? ['default'] : PROFILE_NAMES) as ProfileName[],
    modes: list(values.modes, smoke ? ['nginx'] : [...FAILOVER_MODES]) as FailoverMode[],
    failoverLbs: smoke ? ['ka67'] : undefined,
    idleMinutes: Number(values['idle-minutes'] ?? (smoke ? 0 : 10)),
    ansible: !values['no-ansible'],
    lab: !values['no-lab'],
    scale: !values['no-scale'],
    failover: !values['no-failover'],
  };
  for (const p of opts.profiles) if (!PROFILE_NAMES.includes(p)) throw new Error(`--profiles: unknown profile ${p} (${PROFILE_NAMES.join(', ')})`);
  for (const m of opts.modes) if (!FAILOVER_MODES.includes(m)) throw new Error(`--modes: unknown fault ${m} (${FAILOVER_MODES.join(', ')})`);
  if (opts.scaleNs.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--scale-n ${values['scale-n']}: expected numbers like 10,50,100`);
  const out = values.json ? resolve(values.json) : smoke ? undefined : join(REPO, 'bench/results.json');
  const log = (l: string) => process.stderr.write(l + '\n');
  const t0 = Date.now();
  const results: BenchResults = { date: new Date().toISOString(), machine: machineInfo(), options: opts, seconds: 0, goals: [], errors: [] };
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      const msg = `${name}: ${e instanceof Error ? e.message : String(e)}`;
      results.errors.push(msg);
      log(`ERROR ${msg}`);
      return undefined;
    }
  };

  if (opts.lab) {
    log(`== lab: site playbook on the six lab hosts (${opts.coldRuns} cold converge(s), ${opts.runs} no-op and --check run(s) per tool)`);
    results.lab = await step('lab', () => runLabBench({ runs: opts.runs, coldRuns: opts.coldRuns, tools: opts.ansible ? ['provision', 'ansible'] : ['provision'], log }));
    log('== profile: one no-op provision run in-process, every round trip counted');
    results.profile = await step('profile', () => profileProvision());
  }
  if (opts.scale) {
    log(`== scale: N = ${opts.scaleNs.join(', ')} SSH targets, ${opts.scaleRuns} no-op run(s) per tool`);
    results.scale = await step('scale', () => runScaleBench({ ns: opts.scaleNs, runs: opts.scaleRuns, tools: opts.ansible ? ['provision', 'ansible'] : ['provision'], log }));
  }
  if (opts.failover) {
    log(`== failover: profiles ${opts.profiles.join(', ')}; faults ${opts.modes.join(', ')}`);
    results.failover = await step('failover', () => runFailoverBench({ profiles: opts.profiles, modes: opts.modes, lbs: opts.failoverLbs, idleMinutes: opts.idleMinutes, log }));
    if (results.failover?.error) results.errors.push(`failover: ${results.failover.error}`);
  }
  results.seconds = Math.round((Date.now() - t0) / 1000);
  results.goals = judgeGoals(results);

  const m = results.machine;
  const parts = [`machine: ${m.cpus} x ${m.cpuModel}, ${m.memGiB} GiB, Linux ${m.kernel}, Node ${m.node}; ${new Date().toISOString().slice(0, 10)}; bench took ${Math.round(results.seconds / 60)} min`];
  if (results.lab) parts.push('LAB: site playbook on the six lab hosts (verify play excluded)', labTable(results.lab));
  if (results.profile) parts.push('PROFILE: one no-op provision run on the lab', profileTable(results.profile));
  if (results.scale) parts.push('SCALE: N lightweight SSH targets, representative playbook', scaleTable(results.scale));
  if (results.failover) parts.push('FAILOVER: client-observed, from the probe hosts, each LB failed in turn', failoverTable(results.failover));
  parts.push('GOALS', goalsTable(results.goals));
  if (results.errors.length) parts.push('ERRORS', ...results.errors);
  process.stdout.write(parts.join('\n\n') + '\n');
  if (out) {
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    log(`results: ${out}`);
  }
  return results.errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
