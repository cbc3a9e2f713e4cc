// Two checkouts side by side: the same no-op run alternately with this checkout's CLI and a
// baseline checkout's, so both see the same minutes of a shared, noisy machine. Each side has
// its own connection keeper and read-ahead record. The baseline must be installed (npm ci).
//
//   node --import tsx bench/compare.ts --baseline DIR --lab --runs 10     # on a lab that is up
//   node --import tsx bench/compare.ts --baseline DIR --scale 100 --runs 5  # starts N sshd targets
//   ... --after DIR                   # another checkout instead of this one as the 'after' side
//
// As root. Lab: the site playbook with --skip-tags verify on inventory/lab.yaml (each side's own
// playbooks/ and roles/). Scale: bench/scale/playbook.yaml on the farm (bench/lib/farm.ts).
// Each side first converges (untimed), then the timed no-ops alternate A B A B ...
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, mib, secs, stats, table, type Stats } from './lib/measure.js';
import { startFarm, BENCH_DIR } from './lib/farm.js';
import { REPO, LAB_INVENTORY } from './lab.js';

interface Side {
  name: string;
  repo: string;
  /** Its own keeper and read-ahead record. */
  state: string;
}

export interface SideResult {
  side: string;
  repo: string;
  noop: Stats;
  /** Largest peak RSS of the CLI process over the runs (KiB). */
  maxRssKb?: number;
  /** Peak RSS of the side's connection keeper (KiB). */
  keeperPeakRssKb?: number;
}

/** The keeper's peak RSS (KiB), then stop it by its pid (only if that pid is still a keeper). */
function stopKeeper(state: string): number | undefined {
  const pidFile = join(state, 'keeper', 'keeper.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('__ssh-keeper')) return undefined;
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    process.kill(pid, 'SIGTERM');
    return hwm ? Number(hwm[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function runOnce(side: Side, args: (repo: string) => string[]) {
  const m = await measure(process.execPath, [join(side.repo, 'bin', 'provision.js'), ...args(side.repo)], {
    cwd: side.repo,
    env: { ...process.env, CI: '1', PROVISION_PERSIST_DIR: join(side.state, 'keeper'), PROVISION_CACHE_DIR: join(side.state, 'cache') },
    timeoutMs: 15 * 60_000,
  });
  if (m.code !== 0) throw new Error(`${side.name}: exit ${m.code ?? m.signal}: ${(m.stderr || m.stdout).trim().split('\n').slice(-5).join('\n')}`);
  const changed = [...m.stdout.matchAll(/changed=(\d+)/g)].reduce((a, x) => a + Number(x[1]), 0);
  return { m, changed };
}

/** Converge with each side, then `runs` no-ops alternating between the sides. */
export async function compare(sides: Side[], args: (repo: string) => string[], runs: number, log: (l: string) => void): Promise<SideResult[]> {
  for (const s of sides) {
    mkdirSync(s.state, { recursive: true });
    const r = await runOnce(s, args);
    log(`${s.name}: first run ${secs(r.m.ms)}, changed=${r.changed}`);
  }
  const times = new Map<string, number[]>(sides.map((s) => [s.name, []]));
  const rss = new Map<string, number>();
  for (let i = 0; i < runs; i++) {
    for (const s of i % 2 ? [...sides].reverse() : sides) {
      const r = await runOnce(s, args);
      if (r.changed) throw new Error(`${s.name}: a no-op changed ${r.changed} task(s)`);
      times.get(s.name)!.push(r.m.ms);
      rss.set(s.name, Math.max(rss.get(s.name) ?? 0, r.m.maxRssKb ?? 0));
      log(`${s.name}: no-op ${secs(r.m.ms)}, CLI max RSS ${mib(r.m.maxRssKb)}`);
    }
  }
  return sides.map((s) => ({ side: s.name, repo: s.repo, noop: stats(times.get(s.name)!), maxRssKb: rss.get(s.name) || undefined, keeperPeakRssKb: stopKeeper(s.state) }));
}

export function compareTable(what: string, results: SideResult[]): string {
  const base = results.find((r) => r.side === 'before')?.noop.median;
  return table([
    [what, 'no-op median (min–max)', 'runs', 'CLI peak RSS', 'keeper peak RSS', 'vs before'],
    ...results.map((r) => [
      `${r.side} (${r.repo})`,
      `${secs(r.noop.median)} (${secs(r.noop.min)}–${secs(r.noop.max)})`,
      String(r.noop.samples.length),
      mib(r.maxRssKb),
      mib(r.keeperPeakRssKb),
      base ? `${(r.noop.median / base).toFixed(2)}x` : '',
    ]),
  ]);
}

async function cli(): Promise<number> {
  const { values } = parseArgs({
    options: { baseline: { type: 'string' }, after: { type: 'string' }, lab: { type: 'boolean' }, scale: { type: 'string' }, runs: { type: 'string' }, json: { type: 'string' } },
  });
  if (!values.baseline || (!values.lab && !values.scale)) {
    process.stderr.write('usage: node --import tsx bench/compare.ts --baseline DIR [--after DIR] (--lab | --scale N) [--runs R] [--json FILE]\n');
    return 3;
  }
  const runs = Number(values.runs ?? 10);
  const log = (l: string) => process.stderr.write(l + '\n');
  const state = join(BENCH_DIR, 'compare');
  const sides: Side[] = [
    { name: 'before', repo: resolve(values.baseline), state: join(state, 'before') },
    { name: 'after', repo: resolve(values.after ?? REPO), state: join(state, 'after') },
  ];
  const out: Record<string, SideResult[]> = {};
  if (values.lab) {
    out.lab = await compare(sides, (repo) => [LAB_INVENTORY, join(repo, 'playbooks', 'site.yaml'), '--skip-tags', 'verify'], runs, log);
    console.log(compareTable('lab no-op, --skip-tags verify', out.lab));
  }
  if (values.scale) {
    const n = Number(values.scale);
    const farm = await startFarm({ n, log });
    try {
      const inventory = join(BENCH_DIR, 'farm', `inventory-${n}.yaml`);
      writeFileSync(inventory, farm.inventoryYaml());
      out.scale = await compare(sides, (repo) => [inventory, join(repo, 'bench', 'scale', 'playbook.yaml')], runs, log);
      console.log(compareTable(`${n} sshd targets, no-op`, out.scale));
    } finally {
      for (const s of sides) stopKeeper(s.state);
      await farm.stop();
    }
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), runs, ...out }, null, 2) + '\n');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(REPO, 'bench', 'compare.ts')) {
  cli().then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`compare: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
