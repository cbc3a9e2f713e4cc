// One lab host: an overlay root (base image below, per-host layer above), its identity
// (machine-id, SSH host key, the operator's key), a booted systemd-nspawn container in the
// host's network namespace, and the two socat forwarders that carry SSH from 127.0.0.1:PORT.
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, chownSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_MOUNT, hostNetns, hostPaths, type LabHostSpec, type LabPaths } from './config.js';
import { netnsPids } from './net.js';
import { aliveFromPidFile, isMountPoint, pidAlive, probe, run, spawnDaemon, stopFromPidFile, tail, unmountUnder, type Log } from './sys.js';

export async function ensureOverlay(p: LabPaths, host: string): Promise<boolean> {
  const hp = hostPaths(p, host);
  if (isMountPoint(hp.merged)) return false;
  for (const d of [hp.upper, hp.work, hp.merged]) mkdirSync(d, { recursive: true });
  await run`mount -t overlay ${'provision-lab-' + host} -o ${`lowerdir=${p.base},upperdir=${hp.upper},workdir=${hp.work}`} ${hp.merged}`;
  return true;
}

function opsIds(base: string): { uid: number; gid: number } {
  const line = readFileSync(join(base, 'etc/passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ops:'));
  if (!line) throw new Error(`the base image ${base} has no user ops; remove ${base} and run lab up again`);
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Render /etc/hosts for a lab host (Debian installer style: 127.0.1.1 is the host's own name). */
export function etcHosts(host: string): string {
  return [
    '127.0.0.1\tlocalhost',
    `127.0.1.1\t${host}`,
    '',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    '',
  ].join('\n');
}

/**
 * Give the host its own identity in its upper layer, before its first boot: machine-id,
 * hostname, /etc/hosts, an ed25519 SSH host key, and the lab's public key for ops.
 */
export async function prepareHost(p: LabPaths, host: string, publicKey: string): Promise<boolean> {
  const hp = hostPaths(p, host);
  const marker = join(hp.dir, 'prepared');
  if (existsSync(marker)) return false;
  const root = hp.merged;
  writeFileSync(join(root, 'etc/machine-id'), randomBytes(16).toString('hex') + '\n');
  writeFileSync(join(root, 'etc/hostname'), host + '\n');
  writeFileSync(join(root, 'etc/hosts'), etcHosts(host));
  const keyFile = join(root, 'etc/ssh/ssh_host_ed25519_key');
  rmSync(keyFile, { force: true });
  rmSync(keyFile + '.pub', { force: true });
  await run`ssh-keygen -q -t ed25519 -N ${''} -C ${'root@' + host} -f ${keyFile}`;
  const { uid, gid } = opsIds(p.base);
  const sshDir = join(root, 'home/ops/.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  chownSync(sshDir, uid, gid);
  const ak = join(sshDir, 'authorized_keys');
  writeFileSync(ak, publicKey.trim() + '\n', { mode: 0o600 });
  chownSync(ak, uid, gid);
  writeFileSync(marker, new Date().toISOString() + '\n');
  return true;
}

/** The host's SSH host public key ("ssh-ed25519 AAAA..."), from its upper layer. */
export function hostPublicKey(p: LabPaths, host: string): string | undefined {
  const f = join(hostPaths(p, host).upper, 'etc/ssh/ssh_host_ed25519_key.pub');
  if (!existsSync(f)) return undefined;
  return readFileSync(f, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

export function nspawnArgs(p: LabPaths, host: string): string[] {
  const hp = hostPaths(p, host);
  return [
    '-b',
    '-D',
    hp.merged,
    '-M',
    host,
    `--hostname=${host}`,
    // No host systemd here: do not register with machined, stay in our own process group.
    '--register=no',
    '--keep-unit',
    // Join the namespace we wired. --private-network as well makes nspawn treat the network as
    // the container's own: it keeps CAP_NET_ADMIN and mounts /proc/sys/net read-write, so
    // keepalived can add VIPs, nftables/firewalld load rules and sysctl net.* works inside.
    '--private-network',
    `--network-namespace-path=/run/netns/${hostNetns(host)}`,
    '--capability=CAP_NET_ADMIN,CAP_NET_RAW',
    `--bind-ro=${p.repo}:${REPO_MOUNT}`,
    '--console=read-only',
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
  ];
}

export function containerAlive(p: LabPaths, host: string): number | undefined {
  return aliveFromPidFile(hostPaths(p, host).nspawnPid);
}

/** Kill (SIGKILL) every process in the host's namespace except `keep`; wait until they are gone. */
async function killNetnsProcesses(host: string, keep: number[] = []): Promise<number> {
  let pids = (await netnsPids(hostNetns(host))).filter((x) => !keep.includes(x));
  const n = pids.length;
  for (let i = 0; i < 50 && pids.length; i++) {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(100);
    pids = pids.filter(pidAlive);
  }
  return n;
}

/**
 * A container's own cgroup in the hierarchies systemd uses: cgroup2 (at /sys/fs/cgroup, or at
 * /sys/fs/cgroup/unified in hybrid mode) and the name=systemd v1 hierarchy (hybrid/legacy).
 */
export function containerCgroupDirs(host: string, root = '/sys/fs/cgroup'): string[] {
  if (!/^[A-Za-z0-9_.-]+$/.test(host)) throw new Error(`lab host name ${JSON.stringify(host)} cannot name a cgroup`);
  const dirs: string[] = [];
  if (existsSync(join(root, 'cgroup.controllers'))) dirs.push(root);
  else {
    if (existsSync(join(root, 'unified/cgroup.controllers'))) dirs.push(join(root, 'unified'));
    if (existsSync(join(root, 'systemd/cgroup.procs'))) dirs.push(join(root, 'systemd'));
  }
  return dirs.map((d) => join(d, 'provision-lab', host));
}

/** Remove a stopped container's cgroups (deepest first; a cgroup is removed with rmdir). */
export async function removeContainerCgroups(host: string): Promise<void> {
  for (const d of containerCgroupDirs(host)) {
    if (!existsSync(d)) continue;
    await probe`find ${d} -depth -type d -exec rmdir {} +`;
  }
}

/** Boot the container if it is not running. */
export async function ensureContainer(p: LabPaths, h: LabHostSpec, log: Log): Promise<boolean> {
  const hp = hostPaths(p, h.name);
  if (containerAlive(p, h.name)) return false;
  // A container that died leaves the inner forwarder and maybe strays in the namespace.
  await stopFromPidFile(hp.fwdInPid, { group: true });
  await killNetnsProcesses(h.name);
  writeFileSync(hp.console, '');
  // nspawn (--keep-unit, --register=no) makes the container's cgroups below its own: started in
  // one shared cgroup, all six containers' systemd would manage the same /payload/system.slice/
  // <unit> cgroups and collide (units failing with 219/CGROUP at boot, a host refusing logins).
  // So it first moves itself into a cgroup of its own, then becomes systemd-nspawn (same pid).
  const dirs = containerCgroupDirs(h.name);
  const move = dirs.map((d) => `mkdir -p '${d}' && echo $$ > '${d}/cgroup.procs'`).join(' && ');
  await spawnDaemon('sh', ['-c', `${move || 'true'} && exec systemd-nspawn "$@"`, 'sh', ...nspawnArgs(p, h.name)], hp.console, hp.nspawnPid);
  log(`${h.name}: booting container (log ${hp.console})`);
  return true;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** socat's arguments for the forwarder inside a namespace: a unix socket to sshd on 127.0.0.1:22. */
export function innerForwarderArgs(sock: string): string[] {
  return [`UNIX-LISTEN:${sock},fork,unlink-early,mode=600`, 'TCP:127.0.0.1:22,nodelay'];
}

/** socat's arguments for the forwarder in the root namespace: 127.0.0.1:PORT to that socket. */
export function outerForwarderArgs(port: number, sock: string, opts: { backlog?: number } = {}): string[] {
  return [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay${opts.backlog ? `,backlog=${opts.backlog}` : ''}`, `UNIX-CONNECT:${sock}`];
}

/**
 * The SSH forward: socat inside the host's namespace from a unix socket to its sshd on
 * 127.0.0.1:22, and socat in the root namespace from 127.0.0.1:PORT to that socket.
 * Both TCP ends set TCP_NODELAY: without it each small reply waited for a delayed ACK
 * (Nagle), and a read-only command on the persistent shell took 47 ms instead of a few.
 * No route, interface or address of the lab ever appears in the root namespace.
 */
export async function ensureForwarders(p: LabPaths, host: string, port: number): Promise<boolean> {
  const hp = hostPaths(p, host);
  let changed = false;
  if (!aliveFromPidFile(hp.fwdInPid)) {
    rmSync(hp.sock, { force: true });
    await spawnDaemon(
      'ip',
      ['netns', 'exec', hostNetns(host), 'socat', ...innerForwarderArgs(hp.sock)],
      hp.fwdInLog,
      hp.fwdInPid,
    );
    changed = true;
  }
  if (!aliveFromPidFile(hp.fwdOutPid)) {
    if (!(await portFree(port))) {
      throw new Error(`${host}: port 127.0.0.1:${port} is taken by another program (see \`ss -ltnp 'sport = :${port}'\`)`);
    }
    await spawnDaemon('socat', outerForwarderArgs(port, hp.sock), hp.fwdOutLog, hp.fwdOutPid);
    changed = true;
  }
  if (changed) {
    await sleep(150);
    for (const [f, log] of [
      [hp.fwdInPid, hp.fwdInLog],
      [hp.fwdOutPid, hp.fwdOutLog],
    ] as const) {
      if (!aliveFromPidFile(f)) throw new Error(`${host}: SSH forwarder exited at once: ${tail(readText(log), 2) || 'no output'}`);
    }
  }
  return changed;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Does an SSH server answer with its banner on 127.0.0.1:port within `ms`? */
export function sshBanner(port: number, ms = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on('data', (d) => {
      data += d.toString();
      if (data.includes('SSH-')) done(true);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(data.includes('SSH-')));
  });
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export function consoleTail(p: LabPaths, host: string, lines = 3): string {
  return tail(readText(hostPaths(p, host).console).replace(ANSI, ''), lines);
}

/** Wait until the host's sshd answers through its forward; a clear error with the console tail if not. */
export async function waitSsh(p: LabPaths, host: string, port: number, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await sshBanner(port, 1500)) return;
    if (!containerAlive(p, host)) {
      throw new Error(`${host}: container exited while booting; console: ${consoleTail(p, host) || 'empty'}`);
    }
    await sleep(250);
  }
  throw new Error(
    `${host}: sshd did not answer on 127.0.0.1:${port} within ${Math.round(timeoutMs / 1000)} s; console: ${consoleTail(p, host) || 'empty'}`,
  );
}

/**
 * Stop everything of one host: the container (SIGTERM to nspawn: an orderly poweroff),
 * the forwarders (their process groups), any process left in its namespace, its overlay.
 * `hard`: the plug pulled instead (SIGKILL to everything in the namespace, nspawn first).
 */
export async function stopHost(p: LabPaths, host: string, o: { hard?: boolean } = {}): Promise<boolean> {
  const hp = hostPaths(p, host);
  if (o.hard) await killNetnsProcesses(host);
  let changed = await stopFromPidFile(hp.nspawnPid, o.hard ? { sig: 'SIGKILL', graceMs: 5_000 } : { sig: 'SIGTERM', graceMs: 20_000 });
  changed = (await stopFromPidFile(hp.fwdOutPid, { group: true })) || changed;
  changed = (await stopFromPidFile(hp.fwdInPid, { group: true })) || changed;
  changed = (await killNetnsProcesses(host)) > 0 || changed;
  changed = (await unmountUnder(hp.merged)) > 0 || changed;
  rmSync(hp.sock, { force: true });
  await removeContainerCgroups(host);
  return changed;
}

/** Run a command in the running container (all its namespaces), for diagnostics and tests. */
export async function containerInit(p: LabPaths, host: string): Promise<number | undefined> {
  const pid = containerAlive(p, host);
  if (!pid) return undefined;
  const r = await probe`cat /proc/${pid}/task/${pid}/children`;
  const first = Number(r.stdout.trim().split(/\s+/)[0]);
  return Number.isInteger(first) && first > 1 ? first : undefined;
}

/**
 * Cut one host's power, as a measurement needs it: its NICs lose carrier first (nothing more
 * leaves or is answered on the wire: no priority-0 VRRP advert, no ARP reply, no TCP reset
 * for a VIP it held), then its container's init gets SIGKILL, which makes the kernel kill
 * every process of the container at once (no shutdown runs). The namespace, its addresses
 * and the forwarders stay, like a machine's disk and cabling; powerOnHost boots it again.
 * Returns false when the container was not running.
 */
export async function powerOffHost(p: LabPaths, h: LabHostSpec): Promise<boolean> {
  const nspawn = containerAlive(p, h.name);
  if (!nspawn) return false;
  const ns = hostNetns(h.name);
  const init = await containerInit(p, h.name);
  // Every NIC in one `ip -batch` (one process: they go down within a millisecond).
  const down = spawnSync('ip', ['-n', ns, '-batch', '-'], { input: h.nics.map((n) => `link set dev ${n.ifname} down`).join('\n') + '\n', encoding: 'utf8' });
  if (down.status !== 0) throw new Error(`${h.name}: taking its NICs down failed: ${tail(down.stderr || String(down.error ?? ''), 2) || `exit ${down.status}`}`);
  try {
    process.kill(init ?? nspawn, 'SIGKILL');
  } catch {
    /* already gone */
  }
  // nspawn exits when its container's init is gone; make sure of it.
  await stopFromPidFile(hostPaths(p, h.name).nspawnPid, { sig: 'SIGKILL', graceMs: 10_000 });
  return true;
}

/**
 * Power a host on again after powerOffHost (or any stop that left its namespace): addresses a
 * running keepalived had added (VIPs) are gone as after a real reboot, the NICs get carrier,
 * the container boots, the SSH forward is re-made, and this waits until sshd answers.
 * Returns false when the container was already running.
 */
export async function powerOnHost(p: LabPaths, h: LabHostSpec, port: number, log: Log, bootTimeoutMs = 90_000): Promise<boolean> {
  if (containerAlive(p, h.name)) return false;
  const ns = hostNetns(h.name);
  const r = await probe`ip -n ${ns} -j addr show`;
  const links = r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as Array<{ ifname: string; addr_info?: Array<{ family: string; local: string; prefixlen: number }> }>) : [];
  for (const nic of h.nics) {
    const link = links.find((l) => l.ifname === nic.ifname);
    for (const a of link?.addr_info ?? []) {
      if (a.family === 'inet' && a.local !== nic.address) await run`ip -n ${ns} addr del ${`${a.local}/${a.prefixlen}`} dev ${nic.ifname}`;
    }
    await run`ip -n ${ns} link set dev ${nic.ifname} up`;
  }
  await ensureContainer(p, h, log);
  await ensureForwarders(p, h.name, port);
  await waitSsh(p, h.name, port, bootTimeoutMs);
  return true;
}
