// Thin wrappers over zx and child_process for the lab: commands that fail with one-line
// errors, streamed long commands, detached daemons recorded by pid, mounts.
import { $ } from 'zx';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export type Log = (line: string) => void;

const $q = $({ quiet: true, nothrow: true });

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/** Last non-empty line(s) of a text, for one-line error messages. */
export function tail(text: string, lines = 1): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
}

/** Run a command (zx template: values are quoted); never throws on exit code. */
export async function probe(pieces: TemplateStringsArray, ...args: unknown[]): Promise<Out> {
  const r = await $q(pieces, ...(args as never[]));
  return { code: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Run a command; throw a one-line Error naming it and the tail of its stderr when it fails. */
export async function run(pieces: TemplateStringsArray, ...args: unknown[]): Promise<string> {
  const r = await probe(pieces, ...args);
  if (r.code !== 0) {
    const shown = pieces
      .reduce((acc, p, i) => acc + p + (i < args.length ? (Array.isArray(args[i]) ? (args[i] as unknown[]).join(' ') : String(args[i])) : ''), '')
      .trim()
      .replace(/\s+/g, ' ');
    const short = shown.length > 120 ? shown.slice(0, 117) + '...' : shown;
    throw new Error(`\`${short}\` failed (exit ${r.code}): ${tail(r.stderr || r.stdout, 2) || 'no output'}`);
  }
  return r.stdout;
}

/** Is a program on PATH? */
export async function have(program: string): Promise<boolean> {
  return (await probe`command -v ${program}`).code === 0;
}

/**
 * Run a long command with its output streamed line by line to `onLine`; throw with the
 * tail of the output on failure.
 */
export function runStreaming(cmd: string, args: string[], onLine: (line: string) => void, env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const last: string[] = [];
    let buf = '';
    const feed = (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r/g, '');
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        last.push(line);
        if (last.length > 5) last.shift();
        onLine(line);
      }
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} failed (${signal ?? `exit ${code}`}): ${last.slice(-2).join(' | ') || 'no output'}`));
    });
  });
}

// ---- processes, recorded by pid -------------------------------------------------------

/** Start time of a process (field 22 of /proc/PID/stat), to tell a recorded pid from a reused one. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited: it only waits for its parent (often pid 1 here) to reap it.
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return rest[19]; // field 22 overall = index 19 after "state"
  } catch {
    return undefined;
  }
}

export interface PidRecord {
  pid: number;
  start: string;
}

export function readPidFile(file: string): PidRecord | undefined {
  if (!existsSync(file)) return undefined;
  const [pid, start] = readFileSync(file, 'utf8').trim().split(/\s+/);
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 1 || !start) return undefined;
  return { pid: n, start };
}

/** Is the process of a pid file still the one we started? */
export function aliveFromPidFile(file: string): number | undefined {
  const rec = readPidFile(file);
  if (!rec) return undefined;
  return startTimeOf(rec.pid) === rec.start ? rec.pid : undefined;
}

export function pidAlive(pid: number): boolean {
  return startTimeOf(pid) !== undefined;
}

/**
 * Start a daemon in its own session (so its pgid is its pid), stdout+stderr appended to
 * `logFile`, and record "<pid> <starttime>" in `pidFile`.
 */
export async function spawnDaemon(cmd: string, args: string[], logFile: string, pidFile: string): Promise<number> {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start ${cmd}: ${e.message}`)));
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    let start = startTimeOf(pid);
    for (let i = 0; !start && i < 20; i++) {
      await sleep(10);
      start = startTimeOf(pid);
    }
    if (!start) throw new Error(`${cmd} exited at once; see ${logFile}`);
    writeFileSync(pidFile, `${pid} ${start}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

async function waitGone(pid: number, start: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (startTimeOf(pid) !== start) return true;
    await sleep(50);
  }
  return startTimeOf(pid) !== start;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * Stop the process recorded in `pidFile` (checked against its start time): `sig` to the pid
 * (or to its process group with `group`), SIGKILL after `graceMs`; then remove the pid file.
 * Returns true when a live process was stopped.
 */
export async function stopFromPidFile(pidFile: string, opts: { group?: boolean; sig?: NodeJS.Signals; graceMs?: number } = {}): Promise<boolean> {
  const rec = readPidFile(pidFile);
  let stopped = false;
  if (rec && startTimeOf(rec.pid) === rec.start) {
    stopped = true;
    const target = opts.group ? -rec.pid : rec.pid;
    signal(target, opts.sig ?? 'SIGTERM');
    if (!(await waitGone(rec.pid, rec.start, opts.graceMs ?? 5000))) {
      signal(target, 'SIGKILL');
      await waitGone(rec.pid, rec.start, 5000);
    }
    // Children of a forking server (socat fork) share its process group.
    if (opts.group) signal(-rec.pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
  return stopped;
}

// ---- mounts ---------------------------------------------------------------------------

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points of this mount namespace (from /proc/self/mountinfo). */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => unescapeMount(l.split(' ')[4]));
}

export function isMountPoint(path: string): boolean {
  return mountPoints().includes(path);
}

/** Every mount point at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return mountPoints()
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** Unmount everything at or under `dir` (lazily when busy). Returns how many were unmounted. */
export async function unmountUnder(dir: string): Promise<number> {
  let n = 0;
  for (const m of mountsUnder(dir)) {
    const r = await probe`umount ${m}`;
    if (r.code !== 0) await run`umount -l ${m}`;
    n++;
  }
  return n;
}

/** rm -rf that never crosses into another file system (a leaked /proc or /dev mount stays untouched). */
export async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  await unmountUnder(dir);
  await run`rm -rf --one-file-system ${dir}`;
}
