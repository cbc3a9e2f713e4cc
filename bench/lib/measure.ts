// Timing and memory of a child process, and the statistics the benches print.
//
// Wall time: from spawn to exit, measured here (process start-up included: what an operator
// waits for). Peak memory, two ways:
// - maxRssKb: GNU time's %M, the largest resident set of any ONE process of the run (the
//   child or a descendant it waited for). For provision (one node process) this is the
//   controller's memory; for Ansible it misses the sum over its forks.
// - tree (optional, `sampleTreeMs`): the peak over time of the summed PSS (proportional set
//   size: shared pages divided among the processes sharing them, so forks are not counted
//   twice) of the child and all its descendants, sampled from /proc. Sampling costs CPU, so
//   the benches take it in a separate run from the timed ones.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface Measured {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** Peak RSS of the largest single process (KiB), from GNU time; undefined without it. */
  maxRssKb?: number;
  /** CPU time (user + system, ms) of the command and the children it waited for, from GNU time. */
  cpuMs?: number;
  /** CPU time of the whole machine while it ran (ms, /proc/stat; every process, targets included). */
  machineCpuMs?: number;
  /** Peak summed PSS of the process tree (KiB), when sampled. */
  treePeakPssKb?: number;
  /** Most processes seen in the tree at once, when sampled. */
  treePeakProcs?: number;
  stdout: string;
  stderr: string;
}

export interface MeasureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Sample the process tree's PSS every this many ms (off when undefined). */
  sampleTreeMs?: number;
  /** Kill the run (SIGKILL to its process group) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Run `cmd args` as a child (its own process group), time it, measure its memory. */
export async function measure(cmd: string, args: string[], o: MeasureOptions = {}): Promise<Measured> {
  const useTime = existsSync(GNU_TIME);
  const dir = mkdtempSync(join(tmpdir(), 'pv-bench-time-'));
  const timeFile = join(dir, 'time');
  const argv = useTime ? [GNU_TIME, '-q', '-f', '%M %U %S', '-o', timeFile, cmd, ...args] : [cmd, ...args];
  const cpu0 = machineCpuMs();
  const t0 = performance.now();
  const child = spawn(argv[0], argv.slice(1), { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  let peakPss = 0;
  let peakProcs = 0;
  let sampler: NodeJS.Timeout | undefined;
  if (o.sampleTreeMs && child.pid) {
    const root = child.pid;
    const sample = (): void => {
      const pids = descendants(root);
      let pss = 0;
      for (const p of pids) pss += pssKb(p);
      if (pss > peakPss) peakPss = pss;
      if (pids.length > peakProcs) peakProcs = pids.length;
    };
    sampler = setInterval(sample, o.sampleTreeMs);
  }
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  const timer = o.timeoutMs ? setTimeout(killGroup, o.timeoutMs) : undefined;
  o.signal?.addEventListener('abort', killGroup, { once: true });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  const ms = performance.now() - t0;
  const cpu1 = machineCpuMs();
  if (sampler) clearInterval(sampler);
  if (timer) clearTimeout(timer);
  o.signal?.removeEventListener('abort', killGroup);
  let maxRssKb: number | undefined;
  let cpuMs: number | undefined;
  if (useTime && existsSync(timeFile)) {
    // GNU time writes "Command exited with non-zero status N" before the format line.
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const [rss, user, sys] = last.trim().split(/\s+/).map(Number);
    if (Number.isFinite(rss) && rss > 0) maxRssKb = rss;
    if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = Math.round((user + sys) * 1000);
  }
  rmSync(dir, { recursive: true, force: true });
  // Exit status through GNU time: its own status is the child's.
  return {
    code,
    signal,
    ms,
    maxRssKb,
    cpuMs,
    machineCpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
    treePeakPssKb: o.sampleTreeMs ? peakPss : undefined,
    treePeakProcs: o.sampleTreeMs ? peakProcs : undefined,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

/** CPU time of the whole machine so far (ms): user, nice, system, irq and softirq of /proc/stat. */
export function machineCpuMs(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const ticks = f[0] + f[1] + f[2] + f[5] + f[6];
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** CPU time (ms) a process has used so far, from /proc/<pid>/stat (utime + stime). */
export function processCpuMs(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10;
  } catch {
    return undefined;
  }
}

/** A process and all its descendants (via /proc/<pid>/task/<tid>/children). */
export function descendants(root: number): number[] {
  const seen: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    seen.push(pid);
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/)) if (c) stack.push(Number(c));
      } catch {
        /* exited */
      }
    }
  }
  return seen;
}


/** PSS of one process in KiB (smaps_rollup); 0 when it is gone or unreadable. */
export function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface Stats {
  median: number;
  min: number;
  max: number;
  /** Every sample, in run order. */
  samples: number[];
}

export function stats(samples: number[]): Stats {
  if (samples.length === 0) throw new Error('no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], samples: [...samples] };
}

/** Seconds with 2 decimals ("1.23 s"). */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function mib(kb: number | undefined): string {
  return kb === undefined ? '-' : `${Math.round(kb / 1024)} MiB`;
}

/** A plain text table: first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
