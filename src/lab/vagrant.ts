// `provision lab up|down|status --vagrant`: the reference topology as Vagrant VMs on this
// machine, from the repository's own Vagrantfile. libvirt runs inside a network namespace
// of its own (virtlogd and libvirtd started by hand: no systemd is needed), and so does
// vagrant itself: every bridge, dnsmasq, tap device and VM address exists only there. The
// root namespace gets nothing but one SSH forward per VM on 127.0.0.1 (socat into the
// namespace through a unix socket, as the container lab does). Daemons and forwards are
// recorded by pid; `down` removes VMs, networks, daemons and the namespace.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ensureBase } from './base.js';
import { outerForwarderArgs, sshBanner } from './host.js';
import { labPaths, type LabPaths } from './config.js';
import { deleteNetns, listNetns, netnsPids } from './net.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { aliveFromPidFile, probe, run, runStreaming, spawnDaemon, stopFromPidFile, type Log } from './sys.js';
import { BOX_NAME, boxKey, ensureBox } from './vagrant-box.js';

export const VAGRANT_NETNS = 'lab-vagrant';
/** The VMs, in Vagrantfile order, and the loopback port each one's SSH is forwarded to. */
export const VM_PORTS: Record<string, number> = { ka67: 2222, ka68: 2223, web1: 2224, web2: 2225, 'client-int': 2226, 'client-ext': 2227 };
/** The reduced set CI boots (TCG VMs are slow): both LBs, one backend, one probe. */
export const CI_VMS = ['ka67', 'ka68', 'web1', 'client-int'];
/** Domain names are `<prefix><host>` (the Vagrantfile's default_prefix under the lab). */
export const DOMAIN_PREFIX = 'provision_';
const LIBVIRT = 'qemu:///system';

export interface VagrantOptions {
  log: Log;
  repoRoot: string;
  /** Hosts to bring up (default all six). */
  hosts?: string[];
  stateDir?: string;
  runDir?: string;
  cacheDir?: string;
}

export interface VagrantPaths {
  lab: LabPaths;
  stateDir: string;
  runDir: string;
  vagrantHome: string;
  dotfile: string;
  knownHosts: string;
  inventory: string;
  boxKeyFile: string;
}

export function vagrantPaths(o: Pick<VagrantOptions, 'repoRoot' | 'stateDir' | 'runDir' | 'cacheDir'>): VagrantPaths {
  const stateDir = o.stateDir ?? '/var/lib/provision-vagrant';
  return {
    lab: labPaths(o.repoRoot, { cacheDir: o.cacheDir }),
    stateDir,
    runDir: o.runDir ?? '/run/provision-vagrant',
    // Outside /root (0700): libvirt's qemu user must read the box's kernel and initrd.
    vagrantHome: join(stateDir, 'vagrant.d'),
    dotfile: join(stateDir, 'dot'),
    knownHosts: join(stateDir, 'known_hosts'),
    inventory: join(o.repoRoot, 'inventory', 'vagrant-lab.yaml'),
    boxKeyFile: join(stateDir, 'box-key'),
  };
}

/** The environment vagrant runs with here: our box, libvirt in the namespace, state outside the repo. */
export function vagrantEnv(v: VagrantPaths, repoRoot: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VAGRANT_HOME: v.vagrantHome,
    VAGRANT_DOTFILE_PATH: v.dotfile,
    VAGRANT_CWD: repoRoot,
    VAGRANT_DEFAULT_PROVIDER: 'libvirt',
    VAGRANT_CHECKPOINT_DISABLE: '1',
    PROVISION_VAGRANT_BOX: BOX_NAME,
    PROVISION_VAGRANT_LAB: '1',
    LIBVIRT_DEFAULT_URI: LIBVIRT,
  };
}

const pidFile = (v: VagrantPaths, name: string) => join(v.runDir, `${name}.pid`);
const logFile = (v: VagrantPaths, name: string) => join(v.runDir, `${name}.log`);
const sockFile = (v: VagrantPaths, host: string) => join(v.runDir, `${host}.sock`);

/** Run vagrant inside the namespace; its output goes to the log, line by line. */
async function vagrant(v: VagrantPaths, repoRoot: string, args: string[], log: Log): Promise<void> {
  await runStreaming('ip', ['netns', 'exec', VAGRANT_NETNS, 'vagrant', ...args], (l) => log(`  vagrant: ${l}`), vagrantEnv(v, repoRoot));
}

async function virsh(...args: string[]): Promise<{ code: number; stdout: string }> {
  return probe`virsh -q -c ${LIBVIRT} ${args}`;
}

/** The namespace and libvirt in it (virtlogd, libvirtd), each started once and recorded by pid. */
async function ensureLibvirt(v: VagrantPaths, log: Log): Promise<void> {
  mkdirSync(v.runDir, { recursive: true, mode: 0o755 });
  if (!(await listNetns()).includes(VAGRANT_NETNS)) {
    await run`ip netns add ${VAGRANT_NETNS}`;
    await run`ip -n ${VAGRANT_NETNS} link set lo up`;
    log(`namespace ${VAGRANT_NETNS} created`);
  }
  for (const d of ['virtlogd', 'libvirtd']) {
    if (aliveFromPidFile(pidFile(v, d))) continue;
    await spawnDaemon('ip', ['netns', 'exec', VAGRANT_NETNS, d], logFile(v, d), pidFile(v, d));
    log(`${d} started in ${VAGRANT_NETNS}`);
  }
  for (let i = 0; (await virsh('version')).code !== 0; i++) {
    if (i > 100) throw new Error(`libvirtd does not answer on ${LIBVIRT}; see ${logFile(v, 'libvirtd')}`);
    await sleep(200);
  }
  // vagrant-libvirt puts its volumes into the pool "default".
  const pools = (await virsh('pool-list', '--all', '--name')).stdout.split('\n').map((s) => s.trim());
  if (!pools.includes('default')) {
    mkdirSync('/var/lib/libvirt/images', { recursive: true });
    await run`virsh -q -c ${LIBVIRT} pool-define-as default dir --target /var/lib/libvirt/images`;
  }
  const info = (await virsh('pool-info', 'default')).stdout;
  if (!/State:\s+running/.test(info)) await run`virsh -q -c ${LIBVIRT} pool-start default`;
}

/** The box: built (cached), and added to Vagrant when the cached build changed. */
async function ensureBoxAdded(v: VagrantPaths, repoRoot: string, log: Log): Promise<void> {
  await ensureBase(v.lab, log);
  const box = await ensureBox(v.lab, log);
  const key = boxKey();
  const added = existsSync(v.boxKeyFile) && readFileSync(v.boxKeyFile, 'utf8').trim() === key && existsSync(join(v.vagrantHome, 'boxes'));
  if (added && !box.built) return;
  mkdirSync(v.stateDir, { recursive: true, mode: 0o755 });
  log(`vagrant box add ${BOX_NAME}`);
  await runStreaming('vagrant', ['box', 'add', '--force', '--name', BOX_NAME, box.file], () => {}, vagrantEnv(v, repoRoot));
  writeFileSync(v.boxKeyFile, key + '\n');
}

/** HostName and IdentityFile of a VM, from `vagrant ssh-config` (run in the namespace). */
async function sshConfig(v: VagrantPaths, repoRoot: string, host: string): Promise<{ ip: string; key: string }> {
  let out = '';
  await runStreaming('ip', ['netns', 'exec', VAGRANT_NETNS, 'vagrant', 'ssh-config', host], (l) => (out += l + '\n'), vagrantEnv(v, repoRoot));
  const ip = /^\s*HostName\s+(\S+)/m.exec(out)?.[1];
  const key = /^\s*IdentityFile\s+"?([^"\n]+)"?/m.exec(out)?.[1];
  if (!ip || !key) throw new Error(`${host}: no HostName/IdentityFile in vagrant ssh-config:\n${out}`);
  return { ip, key };
}

/** socat in the namespace (unix socket -> the VM's sshd) and on 127.0.0.1:PORT in the root namespace. */
async function ensureForward(v: VagrantPaths, host: string, ip: string): Promise<void> {
  const inner = pidFile(v, `${host}.fwd-in`);
  const outer = pidFile(v, `${host}.fwd-out`);
  if (!aliveFromPidFile(inner)) {
    rmSync(sockFile(v, host), { force: true });
    await spawnDaemon('ip', ['netns', 'exec', VAGRANT_NETNS, 'socat', `UNIX-LISTEN:${sockFile(v, host)},fork,unlink-early,mode=600`, `TCP:${ip}:22,nodelay`], logFile(v, `${host}.fwd-in`), inner);
  }
  if (!aliveFromPidFile(outer)) await spawnDaemon('socat', outerForwarderArgs(VM_PORTS[host], sockFile(v, host)), logFile(v, `${host}.fwd-out`), outer);
  for (let i = 0; !(await sshBanner(VM_PORTS[host], 1500)); i++) {
    if (i > 40) throw new Error(`${host}: no SSH banner on 127.0.0.1:${VM_PORTS[host]} through the forward`);
    await sleep(250);
  }
}

/** The VMs' host keys, read through the forwards (a path this machine controls end to end). */
async function writeKnownHosts(v: VagrantPaths, hosts: string[]): Promise<void> {
  const lines: string[] = [];
  for (const h of hosts) {
    const out = await run`ssh-keyscan -T 10 -t ed25519 -p ${VM_PORTS[h]} 127.0.0.1`;
    const line = out.split('\n').find((l) => l.includes('ssh-ed25519'));
    if (!line) throw new Error(`${h}: ssh-keyscan returned no ed25519 key`);
    lines.push(line.trim());
  }
  writeFileSync(v.knownHosts, lines.join('\n') + '\n', { mode: 0o644 });
}

/** inventory/vagrant.yaml, pointed at this machine's forwards, keys and known_hosts, for `hosts` only. */
export function vagrantLabInventory(template: string, v: Pick<VagrantPaths, 'knownHosts'>, keys: Record<string, string>): string {
  const inv = parse(template) as { all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } };
  for (const g of Object.values(inv.all.children)) {
    for (const [name, h] of Object.entries(g.hosts)) {
      if (!keys[name]) {
        delete g.hosts[name];
        continue;
      }
      h.ansible_port = VM_PORTS[name];
      h.ansible_ssh_private_key_file = keys[name];
      h.provision_known_hosts_file = v.knownHosts;
      h.ansible_ssh_common_args = `-o UserKnownHostsFile=${v.knownHosts} -o StrictHostKeyChecking=yes`;
    }
  }
  return ['# Generated by `provision lab up --vagrant`: the Vagrant VMs on this machine (libvirt in', '# namespace lab-vagrant, SSH forwarded on 127.0.0.1). Removed by `provision lab down --vagrant`.', stringify(inv)].join('\n');
}

export async function vagrantUp(o: VagrantOptions): Promise<{ inventory: string; seconds: number; upSeconds: number }> {
  requireRoot();
  const t0 = Date.now();
  const v = vagrantPaths(o);
  const hosts = o.hosts ?? Object.keys(VM_PORTS);
  for (const h of hosts) if (!VM_PORTS[h]) throw new Error(`unknown VM ${h} (${Object.keys(VM_PORTS).join(', ')})`);
  await ensureBoxAdded(v, o.repoRoot, o.log);
  await ensureLibvirt(v, o.log);
  const t1 = Date.now();
  o.log(`vagrant up ${hosts.join(' ')} (libvirt, ${existsSync('/dev/kvm') ? 'KVM' : 'QEMU TCG: slow'})`);
  await vagrant(v, o.repoRoot, ['up', '--provider', 'libvirt', ...hosts], o.log);
  const upSeconds = Math.round((Date.now() - t1) / 1000);
  const keys: Record<string, string> = {};
  for (const h of hosts) {
    const c = await sshConfig(v, o.repoRoot, h);
    keys[h] = c.key;
    await ensureForward(v, h, c.ip);
  }
  await writeKnownHosts(v, hosts);
  writeFileSync(v.inventory, vagrantLabInventory(readFileSync(join(o.repoRoot, 'inventory', 'vagrant.yaml'), 'utf8'), v, keys));
  const seconds = Math.round((Date.now() - t0) / 1000);
  o.log(`VMs up in ${seconds} s (vagrant up ${upSeconds} s); inventory ${v.inventory}`);
  return { inventory: v.inventory, seconds, upSeconds };
}

/** Names of libvirt objects this project made (domains, networks). */
async function ownObjects(kind: 'list' | 'net-list'): Promise<string[]> {
  const r = await virsh(kind, '--all', '--name');
  const mine = (n: string) => (kind === 'list' ? n.startsWith(DOMAIN_PREFIX) : n.startsWith('provision-') || n === 'vagrant-libvirt');
  return r.code === 0 ? r.stdout.split('\n').map((s) => s.trim()).filter(mine) : [];
}

export async function vagrantDown(o: VagrantOptions): Promise<{ seconds: number }> {
  requireRoot();
  const t0 = Date.now();
  const v = vagrantPaths(o);
  if (aliveFromPidFile(pidFile(v, 'libvirtd'))) {
    await vagrant(v, o.repoRoot, ['destroy', '-f'], o.log).catch((e: Error) => o.log(`vagrant destroy: ${e.message}`));
    for (const d of await ownObjects('list')) {
      await virsh('destroy', d);
      await virsh('undefine', d, '--remove-all-storage');
    }
    for (const n of await ownObjects('net-list')) {
      await virsh('net-destroy', n);
      await virsh('net-undefine', n);
    }
  }
  for (const h of Object.keys(VM_PORTS)) {
    for (const f of ['fwd-out', 'fwd-in']) await stopFromPidFile(pidFile(v, `${h}.${f}`), { group: true });
  }
  for (const d of ['libvirtd', 'virtlogd']) await stopFromPidFile(pidFile(v, d), { graceMs: 5000 });
  if ((await listNetns()).includes(VAGRANT_NETNS)) {
    for (const pid of await netnsPids(VAGRANT_NETNS)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(200);
    await deleteNetns(VAGRANT_NETNS);
  }
  rmSync(v.runDir, { recursive: true, force: true });
  rmSync(v.dotfile, { recursive: true, force: true });
  rmSync(v.knownHosts, { force: true });
  rmSync(v.inventory, { force: true });
  const seconds = Math.round((Date.now() - t0) / 1000);
  o.log(`vagrant lab down in ${seconds} s`);
  return { seconds };
}

export interface VmStatus {
  name: string;
  state: string;
  port: number;
  sshAnswers: boolean;
}

/** Is libvirtd of `lab up --vagrant` running (so `lab status` has VMs to show)? */
export function vagrantRunning(o: Pick<VagrantOptions, 'repoRoot' | 'stateDir' | 'runDir' | 'cacheDir'>): boolean {
  return aliveFromPidFile(pidFile(vagrantPaths(o), 'libvirtd')) !== undefined;
}

export async function vagrantStatus(o: VagrantOptions): Promise<{ up: boolean; vms: VmStatus[] }> {
  requireRoot();
  const v = vagrantPaths(o);
  const running = aliveFromPidFile(pidFile(v, 'libvirtd'));
  const vms: VmStatus[] = [];
  for (const name of Object.keys(VM_PORTS)) {
    const st = running ? (await virsh('domstate', DOMAIN_PREFIX + name)).stdout.trim() : '';
    const fwd = !!aliveFromPidFile(pidFile(v, `${name}.fwd-out`));
    vms.push({ name, state: st || 'absent', port: VM_PORTS[name], sshAnswers: fwd && (await sshBanner(VM_PORTS[name], 1500)) });
  }
  for (const m of vms) o.log(`${m.name.padEnd(10)}  ${m.state.padEnd(8)}  ssh 127.0.0.1:${m.port}${m.sshAnswers ? '' : ' (no answer)'}`);
  const up = running !== undefined && vms.some((m) => m.state === 'running') && existsSync(v.inventory);
  o.log(up ? `VMs up (libvirtd in ${VAGRANT_NETNS}); inventory ${v.inventory}` : running ? 'libvirtd runs but the VMs are not all up' : 'no Vagrant VMs');
  return { up, vms };
}

function requireRoot(): void {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('provision lab --vagrant needs root on Linux (libvirt in a network namespace)');
}
