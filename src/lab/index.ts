// The local lab: the reference topology as six Debian 12 containers (systemd-nspawn, booted)
// on one Linux machine, wired in network namespaces only, reached over SSH through
// forwards on 127.0.0.1. See src/lab/README.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheReady, ensureBase } from './base.js';
import { BASE_PORT, HOSTS, hostNetns, hostPaths, labPaths, type LabPaths, type PathOverrides } from './config.js';
import {
  containerAlive,
  ensureContainer,
  ensureForwarders,
  ensureOverlay,
  hostPublicKey,
  prepareHost,
  sshBanner,
  stopHost,
  waitSsh,
  powerOffHost,
  powerOnHost,
} from './host.js';
import { renderKnownHosts, renderLabInventory } from './inventory.js';
import { addressesOf, deleteNetns, ensureNetworks, labNamespaces, listNetns } from './net.js';
import { have, probe, readPidFile, removeTree, run, startTimeOf, unmountUnder, type Log } from './sys.js';

export { labPaths, HOSTS } from './config.js';
export type { LabPaths } from './config.js';

export interface LabOptions extends PathOverrides {
  log: (line: string) => void;
  /** Root of the provision checkout (inventory/lab.yaml is written there). */
  repoRoot: string;
  /** First forwarded SSH port (default 2201); hosts get consecutive ports. */
  basePort?: number;
  /** How long to wait for each host's sshd (default 90 s). */
  bootTimeoutMs?: number;
  /** Install missing prerequisites with apt-get (default: true when root on Debian). */
  installPrereqs?: boolean;
}

export interface LabHostStatus {
  name: string;
  state: 'running' | 'booting' | 'stopped' | 'absent';
  namespace: string;
  /** "eth0 172.16.8.10/24" etc. */
  addresses: string[];
  port: number;
  sshAnswers: boolean;
  pid?: number;
}

export interface LabStatus {
  up: boolean;
  hosts: LabHostStatus[];
  inventory?: string;
}

function ports(basePort: number): Record<string, number> {
  return Object.fromEntries(HOSTS.map((h, i) => [h.name, basePort + i]));
}

function requireRoot(what: string): void {
  if (process.platform !== 'linux') throw new Error(`\`provision lab ${what}\` needs Linux (network namespaces, systemd-nspawn)`);
  if (process.getuid?.() !== 0) {
    throw new Error(`\`provision lab ${what}\` must run as root (network namespaces, mounts, systemd-nspawn): try sudo`);
  }
}

// ---- prerequisites --------------------------------------------------------------------

/** Programs the lab runs, and the Debian package of each. */
export const PREREQS: Array<{ program: string; pkg: string }> = [
  { program: 'debootstrap', pkg: 'debootstrap' },
  { program: 'systemd-nspawn', pkg: 'systemd-container' },
  { program: 'ip', pkg: 'iproute2' },
  { program: 'socat', pkg: 'socat' },
  { program: 'ssh-keygen', pkg: 'openssh-client' },
  { program: 'ssh', pkg: 'openssh-client' },
  { program: 'mount', pkg: 'mount' },
];

export async function missingPrereqs(): Promise<string[]> {
  const missing: string[] = [];
  for (const { program, pkg } of PREREQS) if (!(await have(program)) && !missing.includes(pkg)) missing.push(pkg);
  if (!(await have('dpkg-scanpackages')) && !(await have('apt-ftparchive'))) missing.push('apt-utils');
  if (!existsSync('/usr/share/keyrings/debian-archive-keyring.gpg')) missing.push('debian-archive-keyring');
  return missing;
}

async function ensurePrereqs(o: LabOptions): Promise<void> {
  const missing = await missingPrereqs();
  if (missing.length === 0) return;
  const debian = existsSync('/etc/debian_version') && (await have('apt-get'));
  if (!debian || o.installPrereqs === false) {
    throw new Error(`provision lab needs these packages (Debian names): ${missing.join(' ')}; install them and run again`);
  }
  o.log(`installing prerequisites: ${missing.join(' ')}`);
  await run`apt-get -q update`;
  await run`env DEBIAN_FRONTEND=noninteractive apt-get -q -y install --no-install-recommends ${missing}`;
  const still = await missingPrereqs();
  if (still.length) throw new Error(`prerequisites still missing after apt-get install: ${still.join(' ')}`);
}

// ---- lock -----------------------------------------------------------------------------

async function withLock<T>(p: LabPaths, what: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(p.runDir, { recursive: true, mode: 0o755 });
  const me = `${process.pid} ${startTimeOf(process.pid)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(p.lock, me, { flag: 'wx' });
      break;
    } catch {
      const [pid, start] = readFileSync(p.lock, 'utf8').trim().split(/\s+/);
      if (pid && startTimeOf(Number(pid)) === start) {
        throw new Error(`another \`provision lab\` command is running (pid ${pid}); wait for it, or remove ${p.lock} if it is stale`);
      }
      rmSync(p.lock, { force: true }); // left by a command that died
      if (attempt > 2) throw new Error(`cannot take the lab lock ${p.lock}`);
    }
  }
  try {
    return await fn();
  } finally {
    // only remove our own lock
    try {
      if (readFileSync(p.lock, 'utf8') === me) rmSync(p.lock, { force: true });
    } catch {
      /* gone */
    }
    void what;
  }
}

// ---- up -------------------------------------------------------------------------------

export interface LabUpResult {
  changed: boolean;
  inventory: string;
  ports: Record<string, number>;
  seconds: number;
}

async function ensureKey(p: LabPaths, log: Log): Promise<boolean> {
  if (existsSync(p.key) && existsSync(p.key + '.pub')) return false;
  mkdirSync(p.sshDir, { recursive: true, mode: 0o700 });
  rmSync(p.key, { force: true });
  rmSync(p.key + '.pub', { force: true });
  await run`ssh-keygen -q -t ed25519 -N ${''} -C ${'provision-lab'} -f ${p.key}`;
  log(`generated the lab SSH key ${p.key}`);
  return true;
}

function writeIfChanged(file: string, text: string, mode?: number): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, mode === undefined ? undefined : { mode });
  return true;
}

/**
 * Build (or resume, or confirm) the lab and write inventory/lab.yaml. Idempotent: when
 * everything is already up it changes nothing and says so.
 */
export async function labUp(o: LabOptions): Promise<LabUpResult> {
  requireRoot('up');
  const t0 = Date.now();
  const p = labPaths(o.repoRoot, o);
  const portMap = ports(o.basePort ?? BASE_PORT);
  return withLock(p, 'up', async () => {
    await ensurePrereqs(o);
    if (!cacheReady(p) && HOSTS.some((h) => existsSync(hostPaths(p, h.name).upper))) {
      // The hosts' overlays sit on the cached base image: never rebuild it under them.
      throw new Error(`the cached base image in ${p.cacheDir} is missing or out of date while lab hosts exist: run \`provision lab down\` first`);
    }
    let changed = await ensureBase(p, o.log);
    changed = (await ensureKey(p, o.log)) || changed;
    changed = (await ensureNetworks(o.log)) || changed;
    const pub = readFileSync(p.key + '.pub', 'utf8');
    const results = await Promise.all(
      HOSTS.map(async (h) => {
        let c = await ensureOverlay(p, h.name);
        c = (await prepareHost(p, h.name, pub)) || c;
        c = (await ensureContainer(p, h, o.log)) || c;
        c = (await ensureForwarders(p, h.name, portMap[h.name])) || c;
        await waitSsh(p, h.name, portMap[h.name], o.bootTimeoutMs);
        return c;
      }),
    );
    changed = results.some(Boolean) || changed;
    const known = HOSTS.map((h) => {
      const k = hostPublicKey(p, h.name);
      if (!k) throw new Error(`${h.name}: no SSH host key in its layer; run lab down, then lab up`);
      return { port: portMap[h.name], publicKey: k };
    });
    changed = writeIfChanged(p.knownHosts, renderKnownHosts(known), 0o644) || changed;
    const inv = renderLabInventory({ ports: portMap, keyFile: p.key, knownHostsFile: p.knownHosts });
    changed = writeIfChanged(p.inventory, inv) || changed;
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    if (changed) {
      o.log(`lab is up in ${seconds} s: ${HOSTS.map((h) => `${h.name}:${portMap[h.name]}`).join(' ')}; inventory ${p.inventory}`);
    } else {
      o.log(`lab is already up: nothing changed (${HOSTS.length} hosts answer; inventory ${p.inventory})`);
    }
    return { changed, inventory: p.inventory, ports: portMap, seconds };
  });
}

// ---- down -----------------------------------------------------------------------------

export interface LabDownResult {
  changed: boolean;
  seconds: number;
}

/**
 * Stop and remove everything `up` made: containers, forwarders, any process left in a lab
 * namespace, overlay mounts, namespaces, per-host layers, the lab key and known_hosts, and
 * inventory/lab.yaml. The cache (base image, apt repository) stays for the next warm up.
 */
export async function labDown(o: LabOptions): Promise<LabDownResult> {
  requireRoot('down');
  const t0 = Date.now();
  const p = labPaths(o.repoRoot, o);
  return withLock(p, 'down', async () => {
    const stopped = await Promise.all(HOSTS.map((h) => stopHost(p, h.name)));
    let changed = stopped.some(Boolean);
    const existing = await listNetns();
    for (const ns of labNamespaces()) {
      if (existing.includes(ns)) {
        await deleteNetns(ns);
        changed = true;
      }
    }
    // Any mount left below the state dir (an overlay of a host no longer listed, say).
    changed = (await unmountUnder(p.stateDir)) > 0 || changed;
    // A base image build that was interrupted (debootstrap may leave /proc mounted in it).
    for (const partial of [`${p.base}.new`, `${p.repo}.new`]) {
      if (existsSync(partial)) {
        await removeTree(partial);
        o.log(`removed the unfinished ${partial}`);
        changed = true;
      }
    }
    if (existsSync(p.stateDir)) {
      await removeTree(p.stateDir);
      changed = true;
    }
    if (existsSync(p.inventory)) {
      rmSync(p.inventory);
      changed = true;
    }
    // The run dir holds only our pid files, sockets and the lock (removed by withLock).
    if (existsSync(p.runDir)) {
      for (const f of readdirSync(p.runDir)) if (f !== 'lock') rmSync(join(p.runDir, f), { force: true, recursive: true });
    }
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    o.log(changed ? `lab is down (${seconds} s): containers, forwarders, namespaces and mounts removed` : 'lab is already down: nothing to do');
    return { changed, seconds };
  });
}

// ---- power of one host (failover measurements) ---------------------------------------

function labHost(host: string) {
  const h = HOSTS.find((x) => x.name === host);
  if (!h) throw new Error(`unknown lab host "${host}" (hosts: ${HOSTS.map((x) => x.name).join(', ')})`);
  return h;
}

/**
 * Pull one host's plug: NICs lose carrier, then every process of its container dies at once
 * (no shutdown, no goodbye on the wire). Its namespace and SSH forward stay for labPowerOn.
 * Resolves with whether it was running.
 */
export async function labPowerOff(host: string, o: LabOptions): Promise<{ changed: boolean; ms: number }> {
  requireRoot('power off');
  const t0 = Date.now();
  const p = labPaths(o.repoRoot, o);
  const h = labHost(host);
  return withLock(p, 'power off', async () => {
    const changed = await powerOffHost(p, h);
    return { changed, ms: Date.now() - t0 };
  });
}

/**
 * Power one host on again: VIPs left on its NICs are dropped (as after a reboot), the NICs get
 * carrier, the container boots; resolves once its sshd answers through the forward.
 */
export async function labPowerOn(host: string, o: LabOptions): Promise<{ changed: boolean; ms: number }> {
  requireRoot('power on');
  const t0 = Date.now();
  const p = labPaths(o.repoRoot, o);
  const h = labHost(host);
  return withLock(p, 'power on', async () => {
    const changed = await powerOnHost(p, h, ports(o.basePort ?? BASE_PORT)[host], o.log, o.bootTimeoutMs);
    return { changed, ms: Date.now() - t0 };
  });
}

// ---- status ---------------------------------------------------------------------------

export async function labStatus(o: LabOptions): Promise<LabStatus> {
  requireRoot('status');
  const p = labPaths(o.repoRoot, o);
  const portMap = ports(o.basePort ?? BASE_PORT);
  const existing = await listNetns();
  const hosts = await Promise.all(
    HOSTS.map(async (h): Promise<LabHostStatus> => {
      const ns = hostNetns(h.name);
      const pid = containerAlive(p, h.name);
      const hasNs = existing.includes(ns);
      const addrs = hasNs ? await addressesOf(ns) : [];
      const sshAnswers = pid ? await sshBanner(portMap[h.name], 1500) : false;
      const state = pid ? (sshAnswers ? 'running' : 'booting') : hasNs || existsSync(hostPaths(p, h.name).dir) ? 'stopped' : 'absent';
      return {
        name: h.name,
        state,
        namespace: ns,
        addresses: addrs.filter((a) => a.family === 'inet').map((a) => `${a.ifname} ${a.cidr}`),
        port: portMap[h.name],
        sshAnswers,
        pid,
      };
    }),
  );
  const up = hosts.every((h) => h.state === 'running') && existsSync(p.inventory);
  const w = Math.max(...hosts.map((h) => h.name.length));
  for (const h of hosts) {
    o.log(
      `${h.name.padEnd(w)}  ${h.state.padEnd(8)}  ssh 127.0.0.1:${h.port}  ${h.addresses.join(', ') || '-'}`,
    );
  }
  o.log(up ? `lab is up; inventory ${p.inventory}` : hosts.every((h) => h.state === 'absent') ? 'lab is down' : 'lab is partly up: run `provision lab up` to finish it or `provision lab down` to clean it');
  return { up, hosts, inventory: existsSync(p.inventory) ? p.inventory : undefined };
}

// ---- ssh ------------------------------------------------------------------------------

/** OpenSSH client arguments that reach a lab host as ops with strict host key checking. */
export function sshArgs(host: string, o: Pick<LabOptions, 'repoRoot' | 'basePort' | 'stateDir' | 'cacheDir' | 'runDir'>): string[] {
  const p = labPaths(o.repoRoot, o);
  const port = ports(o.basePort ?? BASE_PORT)[host];
  if (!port) throw new Error(`unknown lab host "${host}" (hosts: ${HOSTS.map((h) => h.name).join(', ')})`);
  return [
    '-i',
    p.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${p.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=no',
    '-p',
    String(port),
    'ops@127.0.0.1',
  ];
}

/**
 * An interactive ssh to a lab host (stdio inherited). Resolves with ssh's exit code.
 * `command` (optional) runs instead of a login shell.
 */
export async function labSsh(host: string, o: LabOptions & { command?: string[] }): Promise<number> {
  const p = labPaths(o.repoRoot, o);
  const args = sshArgs(host, o);
  if (!existsSync(p.key) || !existsSync(p.knownHosts)) throw new Error('the lab is not up: run `provision lab up` first');
  const child = spawn('ssh', [...args, ...(o.command ?? [])], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`cannot run ssh: ${e.message}`)));
    child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

/** Run one command on a lab host over real SSH (strict host keys); for tests and checks. */
export async function labSshExec(host: string, command: string, o: Pick<LabOptions, 'repoRoot' | 'basePort' | 'stateDir' | 'cacheDir' | 'runDir'>) {
  const args = [...sshArgs(host, o), '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', command];
  return probe`ssh ${args}`;
}

/** Everything the lab would leave if `down` failed: for tests and `status`-style checks. */
export async function labLeftovers(o: Pick<LabOptions, 'repoRoot' | 'stateDir' | 'cacheDir' | 'runDir'>): Promise<string[]> {
  const p = labPaths(o.repoRoot, o);
  const out: string[] = [];
  for (const ns of await listNetns()) if (ns.startsWith('lab-')) out.push(`namespace ${ns}`);
  for (const h of HOSTS) {
    const hp = hostPaths(p, h.name);
    for (const f of [hp.nspawnPid, hp.fwdInPid, hp.fwdOutPid]) if (existsSync(f)) out.push(`pid file ${f}`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m.startsWith(p.stateDir + '/') || m.startsWith(p.cacheDir + '/')));
  for (const m of mounts) out.push(`mount ${m}`);
  return out;
}

/** The processes the lab recorded (pid files under the run dir), and whether each still lives. */
export function labPids(o: Pick<LabOptions, 'repoRoot' | 'stateDir' | 'cacheDir' | 'runDir'>): Array<{ file: string; pid: number; start: string; alive: boolean }> {
  const p = labPaths(o.repoRoot, o);
  const out: Array<{ file: string; pid: number; start: string; alive: boolean }> = [];
  for (const h of HOSTS) {
    const hp = hostPaths(p, h.name);
    for (const file of [hp.nspawnPid, hp.fwdInPid, hp.fwdOutPid]) {
      const rec = readPidFile(file);
      if (rec) out.push({ file, pid: rec.pid, start: rec.start, alive: startTimeOf(rec.pid) === rec.start });
    }
  }
  return out;
}
