// The scale bench's target farm: N lightweight SSH targets, each an OpenSSH sshd (no systemd)
// in its own network namespace `pv-bench-<i>`, reached from the controller only through
// 127.0.0.1:<port>.
//
// The forwarding is the lab's (src/lab/host.ts): a socat inside the namespace from a unix
// socket to its sshd on 127.0.0.1:22, and a socat in the root namespace from 127.0.0.1:PORT to
// that socket. No interface, address or route of a target ever appears in the root namespace
// (each namespace has only its own loopback).
//
// The sshd runs as root in the namespace and shares the host's filesystem; each target's
// managed files live under its own directory (host var `bench_root`: /tmp/pv-bench/<i>).
// Login: the key-based test user of test/helpers/sshd.ts (passwordless sudo), host keys per
// target in one known_hosts file for strict checking.
//
// Every process is recorded by pid and stopped by pid (process group for the forking socats);
// stop() also kills whatever a run left inside a namespace (e.g. the playbook's daemons) and
// deletes the namespaces. startFarm() first removes what a killed earlier bench left behind.
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureTestUser, sshdConfig, TEST_USER, SSHD_BIN } from '../../test/helpers/sshd.js';
import { innerForwarderArgs, outerForwarderArgs, sshBanner } from '../../src/lab/host.js';

const exec = promisify(execFile);

export const NS_PREFIX = 'pv-bench-';
/** Everything the farm writes: keys, configs, logs, sockets (farm/), managed files (<i>/). */
export const BENCH_DIR = '/tmp/pv-bench';
const FARM_DIR = join(BENCH_DIR, 'farm');
const PID_FILE = join(FARM_DIR, 'pids.json');

export interface FarmTarget {
  index: number;
  /** Inventory name (t001 ...). */
  name: string;
  ns: string;
  port: number;
  /** The directory the playbooks manage on this target. */
  root: string;
}

export interface Farm {
  targets: FarmTarget[];
  user: string;
  clientKey: string;
  knownHosts: string;
  /** Inventory YAML (for both tools) with these targets; `extraVars` go to all.vars. */
  inventoryYaml(extraVars?: Record<string, string | number | boolean>): string;
  stop(): Promise<void>;
}

export interface FarmOptions {
  n: number;
  /** First port tried on 127.0.0.1 (ports in use are skipped). Default 40100. */
  basePort?: number;
  log?: (line: string) => void;
}

interface Recorded {
  pid: number;
  group: boolean;
  /** /proc/<pid>/stat start time: a recorded pid that was reused is never killed. */
  start: string;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return rest[19];
  } catch {
    return undefined;
  }
}

function kill(rec: Recorded, sig: NodeJS.Signals): void {
  if (startTimeOf(rec.pid) !== rec.start) return;
  try {
    process.kill(rec.group ? -rec.pid : rec.pid, sig);
  } catch {
    /* gone */
  }
}

async function stopRecorded(recs: Recorded[]): Promise<void> {
  for (const r of recs) kill(r, 'SIGTERM');
  for (let i = 0; i < 30 && recs.some((r) => startTimeOf(r.pid) === r.start); i++) await sleep(100);
  for (const r of recs) kill(r, 'SIGKILL');
}

async function ip(...args: string[]): Promise<string> {
  const r = await exec('ip', args);
  return r.stdout;
}

async function benchNamespaces(): Promise<string[]> {
  const out = await ip('netns', 'list');
  return out
    .split('\n')
    .map((l) => l.split(/\s+/)[0])
    .filter((n) => new RegExp(`^${NS_PREFIX}\\d+$`).test(n));
}

/** Kill every process in a namespace we made (SIGKILL) and delete it. */
async function removeNamespace(ns: string): Promise<void> {
  if (!ns.startsWith(NS_PREFIX)) throw new Error(`refusing to touch namespace ${ns}`);
  for (let i = 0; i < 50; i++) {
    const pids = (await ip('netns', 'pids', ns).catch(() => ''))
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid);
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(50);
  }
  await ip('netns', 'del', ns).catch(() => undefined);
}

/** Remove what an earlier (killed) bench left: its recorded processes and pv-bench-* namespaces. */
export async function cleanupStale(log: (l: string) => void = () => {}): Promise<void> {
  if (existsSync(PID_FILE)) {
    let recs: Recorded[] = [];
    try {
      recs = JSON.parse(readFileSync(PID_FILE, 'utf8')) as Recorded[];
    } catch {
      /* unreadable: nothing to stop */
    }
    const alive = recs.filter((r) => startTimeOf(r.pid) === r.start);
    if (alive.length) log(`farm: stopping ${alive.length} process(es) left by an earlier bench`);
    await stopRecorded(alive);
    rmSync(PID_FILE, { force: true });
  }
  const stale = await benchNamespaces();
  if (stale.length) log(`farm: removing ${stale.length} namespace(s) left by an earlier bench`);
  await limit(stale, 16, removeNamespace);
}

async function limit<T>(items: T[], n: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function keygen(file: string, comment: string): Promise<void> {
  if (existsSync(file) && existsSync(file + '.pub')) return;
  rmSync(file, { force: true });
  rmSync(file + '.pub', { force: true });
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

export function targetName(i: number): string {
  return `t${String(i).padStart(3, '0')}`;
}

/** Start N targets (namespaces, sshd, forwarders); stop() undoes all of it. */
export async function startFarm(o: FarmOptions): Promise<Farm> {
  const log = o.log ?? (() => {});
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > 500) throw new Error(`farm size must be 1..500, got ${o.n}`);
  if (process.getuid?.() !== 0) throw new Error('the target farm needs root (network namespaces, sshd)');
  if (!existsSync(SSHD_BIN)) throw new Error(`${SSHD_BIN} not installed (apt-get install openssh-server)`);
  await cleanupStale(log);
  mkdirSync(FARM_DIR, { recursive: true, mode: 0o755 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  ensureTestUser({ name: TEST_USER, sudo: 'nopasswd' });

  const recs: Recorded[] = [];
  const namespaces: string[] = [];
  const saveRecs = (): void => writeFileSync(PID_FILE, JSON.stringify(recs));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stopRecorded(recs);
    await limit(namespaces, 16, removeNamespace);
    rmSync(PID_FILE, { force: true });
    for (const t of targets) rmSync(join(FARM_DIR, String(t.index), 'ssh.sock'), { force: true });
  };
  const daemon = (cmd: string, args: string[], logFile: string, group: boolean): void => {
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    child.unref();
    child.on('error', () => undefined);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot start ${cmd}`);
    recs.push({ pid, group, start: startTimeOf(pid) ?? '' });
    saveRecs();
  };

  const clientKey = join(FARM_DIR, 'client_ed25519');
  await keygen(clientKey, 'pv-bench-client');
  const authorized = join(FARM_DIR, 'authorized_keys');
  writeFileSync(authorized, readFileSync(clientKey + '.pub', 'utf8'), { mode: 0o644 });

  // Ports: consecutive free ones from basePort.
  const targets: FarmTarget[] = [];
  let port = o.basePort ?? 40100;
  for (let i = 1; i <= o.n; i++) {
    while (!(await portFree(port))) port++;
    targets.push({ index: i, name: targetName(i), ns: `${NS_PREFIX}${i}`, port, root: join(BENCH_DIR, String(i)) });
    port++;
  }

  try {
    const t0 = Date.now();
    const hostKeys: string[] = new Array(o.n);
    await limit(targets, 8, async (t) => {
      const dir = join(FARM_DIR, String(t.index));
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const hostKey = join(dir, 'ssh_host_ed25519_key');
      await keygen(hostKey, `pv-bench-host-${t.index}`);
      const [type, b64] = readFileSync(hostKey + '.pub', 'utf8').trim().split(/\s+/);
      hostKeys[t.index - 1] = `[127.0.0.1]:${t.port} ${type} ${b64}`;
      const config = { port: 22, address: '127.0.0.1', hostKey, authorizedKeys: authorized, logLevel: 'ERROR', pidFile: join(dir, 'sshd.pid'), maxStartups: '200:30:400', maxSessions: 20 };
      writeFileSync(join(dir, 'sshd_config'), sshdConfig(config), { mode: 0o600 });
      await ip('netns', 'add', t.ns);
      namespaces.push(t.ns);
      await ip('-n', t.ns, 'link', 'set', 'lo', 'up');
      const sock = join(dir, 'ssh.sock');
      rmSync(sock, { force: true });
      daemon('ip', ['netns', 'exec', t.ns, SSHD_BIN, '-D', '-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')], join(dir, 'sshd.out'), false);
      daemon('ip', ['netns', 'exec', t.ns, 'socat', ...innerForwarderArgs(sock)], join(dir, 'fwd-in.log'), true);
      daemon('socat', outerForwarderArgs(t.port, sock, { backlog: 256 }), join(dir, 'fwd-out.log'), true);
      // The managed files of the last run go: every bench starts from a cold target.
      rmSync(t.root, { recursive: true, force: true });
      mkdirSync(t.root, { recursive: true, mode: 0o755 });
    });
    const knownHosts = join(FARM_DIR, 'known_hosts');
    writeFileSync(knownHosts, hostKeys.join('\n') + '\n', { mode: 0o644 });

    // Wait for every target's banner through its forward.
    await limit(targets, 16, async (t) => {
      const until = Date.now() + 20_000;
      for (;;) {
        if (await sshBanner(t.port, 1000)) return;
        if (Date.now() > until) {
          const dir = join(FARM_DIR, String(t.index));
          const tailOf = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').slice(-2).join(' | ') : '');
          throw new Error(`target ${t.name} (${t.ns}) did not answer on 127.0.0.1:${t.port}: ${tailOf(join(dir, 'sshd.log')) || tailOf(join(dir, 'sshd.out')) || tailOf(join(dir, 'fwd-in.log')) || 'no log'}`);
        }
        await sleep(50);
      }
    });
    log(`farm: ${o.n} target(s) up in ${Date.now() - t0} ms (ports ${targets[0].port}-${targets[targets.length - 1].port})`);

    return {
      targets,
      user: TEST_USER,
      clientKey,
      knownHosts,
      inventoryYaml: (extra = {}) => inventoryYaml(targets, { user: TEST_USER, clientKey, knownHosts, extra }),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** One inventory for both tools: Ansible reads the ssh args, provision parses the same ones. */
export function inventoryYaml(
  targets: FarmTarget[],
  o: { user: string; clientKey: string; knownHosts: string; extra?: Record<string, string | number | boolean> },
): string {
  const lines = [
    '# The scale bench farm (bench/lib/farm.ts): one sshd per network namespace, forwarded on 127.0.0.1.',
    'all:',
    '  vars:',
    `    ansible_user: ${o.user}`,
    `    ansible_ssh_private_key_file: ${o.clientKey}`,
    `    ansible_ssh_common_args: -o UserKnownHostsFile=${o.knownHosts} -o StrictHostKeyChecking=yes`,
    '    ansible_become: true',
    '    ansible_python_interpreter: /usr/bin/python3',
  ];
  for (const [k, v] of Object.entries(o.extra ?? {})) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  lines.push('  hosts:');
  for (const t of targets) {
    lines.push(`    ${t.name}:`, '      ansible_host: 127.0.0.1', `      ansible_port: ${t.port}`, `      bench_root: ${t.root}`);
  }
  return lines.join('\n') + '\n';
}

/** Processes still running inside the farm's namespaces (for tests of the cleanup). */
export async function farmNamespaces(): Promise<string[]> {
  return benchNamespaces();
}
