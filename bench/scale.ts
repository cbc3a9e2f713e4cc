// Scale bench: N lightweight SSH targets (bench/lib/farm.ts), the representative playbook
// (bench/scale/) with provision and its Ansible twin (bench/scale/ansible/): a converge, then
// no-op runs timed (median, min, max) and the controller's peak memory, for each N.
//
//   node --import tsx bench/scale.ts                 # N = 10, 50, 100; writes bench/results-scale.json
//   node --import tsx bench/scale.ts --smoke         # N = 3, one no-op run, nothing written
//   node --import tsx bench/scale.ts --n 100 --runs 5 --no-ansible --forks 50
//
// As root (namespaces, sshd). Each tool runs as a child process, exactly as an operator starts
// it (node bin/provision.js / ansible-playbook), so start-up time is included.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { join, resolve, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { startFarm, BENCH_DIR, type Farm } from './lib/farm.js';
import { measure, processCpuMs, stats, secs, mib, table, type Measured, type Stats } from './lib/measure.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PLAYBOOK = join(REPO, 'bench/scale/playbook.yaml');
const ANSIBLE_DIR = join(REPO, 'bench/scale/ansible');
const PROVISION_BIN = join(REPO, 'bin/provision.js');
export const RESULTS_FILE = join(REPO, 'bench/results-scale.json');

export type Tool = 'provision' | 'ansible';

export interface ToolResult {
  tool: Tool;
  /** --forks passed (undefined: the tool's default). */
  forks?: number;
  /** The first run on cold targets. */
  converge: { ms: number; changed: number };
  /** No-op runs (ms), each right after another run: provision's connections kept (its default), Ansible's ControlPersist. */
  noop: Stats;
  /** provision: no-op runs with every connection made anew (`--persist 0`). */
  noopFresh?: Stats;
  /**
   * Where the no-op's CPU went (medians, ms): the whole machine (the farm's targets run on it
   * too), the tool's process tree, and provision's keeper; the rest is the targets' sshd and commands.
   */
  noopCpu?: { machineMs: number; toolMs: number; keeperMs?: number };
  /** provision: peak RSS of the connection keeper that held the N connections (KiB). */
  keeperPeakRssKb?: number;
  /** Hosts x tasks reported changed, summed over the no-op runs (0 when idempotent). */
  noopChanged: number;
  /** Largest single-process peak RSS over the no-op runs (KiB; GNU time %M). */
  maxRssKb?: number;
  /** Peak PSS of the whole process tree in one extra no-op run (KiB; forks counted once). */
  treePeakPssKb?: number;
  treePeakProcs?: number;
}

export interface ScaleResult {
  n: number;
  provision?: ToolResult;
  ansible?: ToolResult;
  /** Why Ansible was not run (not installed, or left out). */
  ansibleSkipped?: string;
  /** provision no-op median / Ansible no-op median. */
  noopRatio?: number;
  /** Files the two tools rendered differently on the first target (they should agree). */
  twinDiffs?: string[];
}

export interface ScaleOptions {
  ns: number[];
  /** Timed no-op runs per tool and N. */
  runs: number;
  tools?: Tool[];
  /** provision --forks (default: provision's own default). */
  provisionForks?: number;
  /** Ansible --forks for N targets (default: N, at most 100). */
  ansibleForks?: (n: number) => number;
  /** One extra no-op run per tool sampling the process tree's PSS (default true). */
  memoryRun?: boolean;
  log?: (line: string) => void;
  /** Abort: the running tool is killed and the farm stopped. */
  signal?: AbortSignal;
}

export function hasAnsible(): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'ansible-playbook')));
}

interface RunOutcome {
  m: Measured;
  changed: number;
  failedHosts: string[];
  /** CPU the connection keeper used during the run (ms; provision). */
  keeperCpuMs?: number;
}

async function runProvision(inventory: string, farmDir: string, forks: number | undefined, o: { sample?: boolean; signal?: AbortSignal; fresh?: boolean }): Promise<RunOutcome> {
  const json = join(farmDir, 'provision-report.json');
  const args = [PROVISION_BIN, inventory, PLAYBOOK, '--json', json];
  if (forks !== undefined) args.push('--forks', String(forks));
  if (o.fresh) args.push('--persist', '0');
  const keeperPid = (): number | undefined => {
    const f = join(keeperDir(farmDir), 'keeper.pid');
    return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : undefined;
  };
  const pidBefore = keeperPid();
  const k0 = pidBefore ? (processCpuMs(pidBefore) ?? 0) : 0;
  const m = await measure(process.execPath, args, {
    cwd: REPO,
    // The bench's own connection keeper (its memory is measured, and it is stopped after each N).
    env: { ...process.env, CI: '1', PROVISION_PERSIST_DIR: keeperDir(farmDir) },
    sampleTreeMs: o.sample ? 100 : undefined,
    timeoutMs: 15 * 60_000,
    signal: o.signal,
  });
  if (!existsSync(json)) throw new Error(`provision wrote no report (exit ${m.code ?? m.signal}): ${tailOf(m.stderr || m.stdout)}`);
  const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: Record<string, { changed: number; status: string; message?: string }> };
  const hosts = Object.entries(report.hosts);
  const failedHosts = hosts.filter(([, h]) => h.status !== 'ok').map(([name, h]) => `${name}: ${h.status}${h.message ? ` (${h.message})` : ''}`);
  // The keeper's CPU in this run: from its count before (0 when this run started it).
  const pidAfter = keeperPid();
  const k1 = pidAfter ? processCpuMs(pidAfter) : undefined;
  const keeperCpuMs = k1 === undefined ? undefined : k1 - (pidAfter === pidBefore ? k0 : 0);
  return { m, changed: hosts.reduce((a, [, h]) => a + h.changed, 0), failedHosts, keeperCpuMs };
}

const keeperDir = (farmDir: string): string => join(farmDir, 'keeper');

/** The bench keeper's peak RSS (KiB), then stop it by its pid: the next N starts a new one. */
function stopKeeper(farmDir: string): number | undefined {
  const pidFile = join(keeperDir(farmDir), 'keeper.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  let hwm: number | undefined;
  try {
    // Only if that pid is still the keeper (a stale file could name a reused pid).
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('__ssh-keeper')) return undefined;
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    hwm = m ? Number(m[1]) : undefined;
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  return hwm;
}

/** PLAY RECAP lines: `t001 : ok=9 changed=0 unreachable=0 failed=0 ...` */
export function parseAnsibleRecap(stdout: string): Record<string, { ok: number; changed: number; unreachable: number; failed: number }> {
  const out: Record<string, { ok: number; changed: number; unreachable: number; failed: number }> = {};
  const at = stdout.lastIndexOf('PLAY RECAP');
  if (at < 0) return out;
  for (const line of stdout.slice(at).split('\n')) {
    const m = /^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = { ok: +m[2], changed: +m[3], unreachable: +m[4], failed: +m[5] };
  }
  return out;
}

async function runAnsible(inventory: string, forks: number, n: number, o: { sample?: boolean; signal?: AbortSignal }): Promise<RunOutcome> {
  const m = await measure('ansible-playbook', ['-i', inventory, 'site.yml', '--forks', String(forks)], {
    cwd: ANSIBLE_DIR,
    env: { ...process.env, ANSIBLE_CONFIG: join(ANSIBLE_DIR, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
    sampleTreeMs: o.sample ? 100 : undefined,
    timeoutMs: 30 * 60_000,
    signal: o.signal,
  });
  const recap = parseAnsibleRecap(m.stdout);
  const hosts = Object.entries(recap);
  if (hosts.length !== n) throw new Error(`ansible-playbook reported ${hosts.length} of ${n} hosts (exit ${m.code ?? m.signal}): ${tailOf(m.stdout + '\n' + m.stderr)}`);
  const failedHosts = hosts.filter(([, h]) => h.failed || h.unreachable).map(([name, h]) => `${name}: failed=${h.failed} unreachable=${h.unreachable}`);
  return { m, changed: hosts.reduce((a, [, h]) => a + h.changed, 0), failedHosts };
}

function tailOf(s: string, lines = 6): string {
  return s.trim().split('\n').slice(-lines).join(' | ');
}

async function benchTool(
  tool: Tool,
  n: number,
  run: (sample: boolean) => Promise<RunOutcome>,
  o: { runs: number; memoryRun: boolean; forks?: number; log: (l: string) => void; runFresh?: () => Promise<RunOutcome> },
): Promise<ToolResult> {
  const check = (r: RunOutcome, what: string): void => {
    if (r.m.code !== 0 || r.failedHosts.length) {
      throw new Error(`${tool} ${what} on ${n} target(s) failed (exit ${r.m.code ?? r.m.signal}): ${r.failedHosts.slice(0, 3).join('; ') || tailOf(r.m.stderr || r.m.stdout)}`);
    }
  };
  const conv = await run(false);
  check(conv, 'converge');
  o.log(`  ${tool}: converge ${secs(conv.m.ms)}, changed=${conv.changed}`);
  const times: number[] = [];
  const cpu: Array<{ machine: number; tool: number; keeper?: number }> = [];
  let changed = 0;
  let maxRss: number | undefined;
  for (let i = 0; i < o.runs; i++) {
    const r = await run(false);
    check(r, 'no-op run');
    times.push(r.m.ms);
    if (r.m.machineCpuMs !== undefined && r.m.cpuMs !== undefined) cpu.push({ machine: r.m.machineCpuMs, tool: r.m.cpuMs, keeper: r.keeperCpuMs });
    changed += r.changed;
    if (r.m.maxRssKb !== undefined) maxRss = Math.max(maxRss ?? 0, r.m.maxRssKb);
    o.log(`  ${tool}: no-op ${secs(r.m.ms)}, changed=${r.changed}, max RSS ${mib(r.m.maxRssKb)}`);
  }
  const res: ToolResult = { tool, forks: o.forks, converge: { ms: conv.m.ms, changed: conv.changed }, noop: stats(times), noopChanged: changed, maxRssKb: maxRss };
  if (cpu.length) {
    const med = (xs: number[]): number => stats(xs).median;
    const keeper = cpu.every((c) => c.keeper !== undefined) ? med(cpu.map((c) => c.keeper!)) : undefined;
    res.noopCpu = { machineMs: med(cpu.map((c) => c.machine)), toolMs: med(cpu.map((c) => c.tool)), keeperMs: keeper };
  }
  if (o.runFresh) {
    const fresh: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const r = await o.runFresh();
      check(r, 'no-op run (new connections)');
      fresh.push(r.m.ms);
      res.noopChanged += r.changed;
      o.log(`  ${tool}: no-op with new connections ${secs(r.m.ms)}, changed=${r.changed}`);
    }
    res.noopFresh = stats(fresh);
  }
  if (o.memoryRun) {
    const r = await run(true);
    check(r, 'no-op run (memory)');
    res.treePeakPssKb = r.m.treePeakPssKb;
    res.treePeakProcs = r.m.treePeakProcs;
    o.log(`  ${tool}: process tree peak PSS ${mib(r.m.treePeakPssKb)} (${r.m.treePeakProcs} processes)`);
  }
  return res;
}

/** Files under `a` and `b` that differ (content), ignoring run state (pids, timestamps). */
function twinDiffs(a: string, b: string): string[] {
  // Each tool writes under its own directory, and the configs name it: compare without it.
  const norm = (text: string | null, root: string): string | null => (text === null ? null : text.split(root).join('<root>'));
  const skip = new Set(['data/initialized', 'run/app.pid', 'run/reloads']);
  const files = (root: string, dir = root): string[] =>
    existsSync(dir)
      ? readdirSync(dir).flatMap((f) => {
          const p = join(dir, f);
          return statSync(p).isDirectory() ? files(root, p) : [relative(root, p)];
        })
      : [];
  const all = [...new Set([...files(a), ...files(b)])].filter((f) => !skip.has(f)).sort();
  return all.filter((f) => {
    const x = norm(existsSync(join(a, f)) ? readFileSync(join(a, f), 'utf8') : null, a);
    const y = norm(existsSync(join(b, f)) ? readFileSync(join(b, f), 'utf8') : null, b);
    return x !== y;
  });
}

/** Run the scale bench for each N; the farm is always stopped, also on errors and SIGINT. */
export async function runScaleBench(o: ScaleOptions): Promise<ScaleResult[]> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const tools = o.tools ?? ['provision', 'ansible'];
  const ansibleOk = hasAnsible();
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const onSigint = (): void => {
    log('scale bench: interrupted, stopping the farm');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  const results: ScaleResult[] = [];
  try {
    for (const n of o.ns) {
      if (ac.signal.aborted) throw new Error('scale bench interrupted');
      log(`scale bench: N=${n}`);
      let farm: Farm | undefined;
      try {
        farm = await startFarm({ n, log });
        const inventory = join(BENCH_DIR, 'farm', `inventory-${n}.yaml`);
        writeFileSync(inventory, farm.inventoryYaml());
        const result: ScaleResult = { n };
        const memoryRun = o.memoryRun ?? true;
        if (tools.includes('provision')) {
          result.provision = await benchTool('provision', n, (sample) => runProvision(inventory, join(BENCH_DIR, 'farm'), o.provisionForks, { sample, signal: ac.signal }), {
            runs: o.runs,
            memoryRun,
            forks: o.provisionForks,
            log,
            runFresh: () => runProvision(inventory, join(BENCH_DIR, 'farm'), o.provisionForks, { signal: ac.signal, fresh: true }),
          });
          result.provision.keeperPeakRssKb = stopKeeper(join(BENCH_DIR, 'farm'));
          log(`  provision: connection keeper peak RSS ${mib(result.provision.keeperPeakRssKb)}`);
        }
        if (!tools.includes('ansible')) result.ansibleSkipped = 'left out (--no-ansible)';
        else if (!ansibleOk) result.ansibleSkipped = 'ansible-playbook not installed';
        else {
          const forks = (o.ansibleForks ?? ((k) => Math.min(k, 100)))(n);
          result.ansible = await benchTool('ansible', n, (sample) => runAnsible(inventory, forks, n, { sample, signal: ac.signal }), { runs: o.runs, memoryRun, forks, log });
        }
        if (result.provision && result.ansible) {
          result.noopRatio = result.provision.noop.median / result.ansible.noop.median;
          result.twinDiffs = twinDiffs(join(farm.targets[0].root, 'provision'), join(farm.targets[0].root, 'ansible'));
        }
        results.push(result);
      } finally {
        stopKeeper(join(BENCH_DIR, 'farm'));
        await farm?.stop();
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    o.signal?.removeEventListener('abort', onAbort);
  }
  return results;
}

export function scaleTable(results: ScaleResult[]): string {
  const rows = [['N', 'tool', 'forks', 'converge', 'no-op median', 'min', 'max', 'new connections', 'max RSS', 'keeper RSS', 'tree PSS', 'no-op changed']];
  for (const r of results) {
    for (const t of [r.provision, r.ansible]) {
      if (!t) continue;
      rows.push([
        String(r.n),
        t.tool,
        t.forks === undefined ? 'default' : String(t.forks),
        secs(t.converge.ms),
        secs(t.noop.median),
        secs(t.noop.min),
        secs(t.noop.max),
        t.noopFresh ? secs(t.noopFresh.median) : '-',
        mib(t.maxRssKb),
        t.keeperPeakRssKb ? mib(t.keeperPeakRssKb) : '-',
        mib(t.treePeakPssKb),
        String(t.noopChanged),
      ]);
    }
  }
  const notes = results
    .map((r) => {
      const parts: string[] = [];
      if (r.noopRatio !== undefined) parts.push(`N=${r.n}: provision/Ansible no-op = ${r.noopRatio.toFixed(2)} (${(1 / r.noopRatio).toFixed(1)}x faster)`);
      if (r.ansibleSkipped) parts.push(`N=${r.n}: Ansible ${r.ansibleSkipped}`);
      for (const t of [r.provision, r.ansible]) {
        const c = t?.noopCpu;
        if (!t || !c) continue;
        const rest = c.machineMs - c.toolMs - (c.keeperMs ?? 0);
        parts.push(`N=${r.n}: ${t.tool} no-op CPU (median): machine ${secs(c.machineMs)} = ${t.tool} ${secs(c.toolMs)}${c.keeperMs !== undefined ? ` + keeper ${secs(c.keeperMs)}` : ''} + targets and the rest ${secs(rest)}`);
      }
      if (r.twinDiffs?.length) parts.push(`N=${r.n}: the twins rendered different files: ${r.twinDiffs.join(', ')}`);
      return parts.join('\n');
    })
    .filter(Boolean);
  return [table(rows), ...notes].join('\n');
}

export function machineInfo(): { cpus: number; cpuModel: string; memGiB: number; node: string; kernel: string } {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
  };
}

async function cli(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean' },
      n: { type: 'string' },
      runs: { type: 'string' },
      forks: { type: 'string' },
      'no-ansible': { type: 'boolean' },
      'no-provision': { type: 'boolean' },
      'no-memory': { type: 'boolean' },
      json: { type: 'string' },
    },
  });
  const ns = values.smoke ? [3] : values.n ? values.n.split(',').map(Number) : [10, 50, 100];
  if (ns.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--n ${values.n}: expected numbers like 10,50,100`);
  const runs = values.runs ? Number(values.runs) : values.smoke ? 1 : 3;
  const tools: Tool[] = [];
  if (!values['no-provision']) tools.push('provision');
  if (!values['no-ansible']) tools.push('ansible');
  const started = new Date();
  const results = await runScaleBench({
    ns,
    runs,
    tools,
    provisionForks: values.forks ? Number(values.forks) : undefined,
    memoryRun: !values['no-memory'] && !values.smoke,
  });
  process.stdout.write(scaleTable(results) + '\n');
  const out = values.json ? resolve(values.json) : values.smoke ? undefined : RESULTS_FILE;
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ startedAt: started.toISOString(), machine: machineInfo(), runs, results }, null, 2) + '\n');
    process.stderr.write(`wrote ${relative(process.cwd(), out) || out}\n`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`scale bench: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
