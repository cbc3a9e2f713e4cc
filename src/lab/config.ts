// The lab's fixed layout: the reference topology of the how-to, where things live on disk,
// which packages the base image and the offline apt repository carry. Pure data.
import { join } from 'node:path';

export type NetName = 'external' | 'internal';

export interface LabNet {
  name: NetName;
  /** Namespace holding the bridge (the "switch"). */
  netns: string;
  bridge: string;
  subnet: string;
  prefix: number;
}

export interface LabNic {
  /** Interface name inside the host. */
  ifname: string;
  net: NetName;
  address: string;
}

export interface LabHostSpec {
  name: string;
  group: 'lb' | 'web' | 'probes';
  nics: LabNic[];
  /** Extra per-host inventory vars. */
  vars?: Record<string, unknown>;
}

export const NETS: Record<NetName, LabNet> = {
  external: { name: 'external', netns: 'lab-sw-ext', bridge: 'br0', subnet: '172.16.8.0/24', prefix: 24 },
  internal: { name: 'internal', netns: 'lab-sw-int', bridge: 'br0', subnet: '10.16.8.0/24', prefix: 24 },
};

/**
 * The six hosts, in inventory order. The LBs use the how-to's names (eth0 external, eth1
 * internal); every single-homed host has its one NIC as eth0, whichever network it is on.
 */
export const HOSTS: LabHostSpec[] = [
  {
    name: 'ka67',
    group: 'lb',
    nics: [
      { ifname: 'eth0', net: 'external', address: '172.16.8.10' },
      { ifname: 'eth1', net: 'internal', address: '10.16.8.10' },
    ],
    vars: { firewall_backend: 'firewalld' },
  },
  {
    name: 'ka68',
    group: 'lb',
    nics: [
      { ifname: 'eth0', net: 'external', address: '172.16.8.11' },
      { ifname: 'eth1', net: 'internal', address: '10.16.8.11' },
    ],
    vars: { firewall_backend: 'nftables' },
  },
  { name: 'web1', group: 'web', nics: [{ ifname: 'eth0', net: 'internal', address: '10.16.8.8' }] },
  { name: 'web2', group: 'web', nics: [{ ifname: 'eth0', net: 'internal', address: '10.16.8.9' }] },
  { name: 'client-int', group: 'probes', nics: [{ ifname: 'eth0', net: 'internal', address: '10.16.8.50' }] },
  { name: 'client-ext', group: 'probes', nics: [{ ifname: 'eth0', net: 'external', address: '172.16.8.50' }] },
];

/** VIPs and VRIDs of the reference topology (docs/topology-schema.md). */
export const VIPS: Record<NetName, Array<{ address: string; vrid: number }>> = {
  external: [
    { address: '172.16.8.100', vrid: 191 },
    { address: '172.16.8.101', vrid: 192 },
  ],
  internal: [
    { address: '10.16.8.100', vrid: 171 },
    { address: '10.16.8.101', vrid: 172 },
  ],
};

export const LB_INTERFACE: Record<NetName, string> = { external: 'eth0', internal: 'eth1' };
export const MCAST_GROUP = '224.0.0.111';
/** The lab's VRRP password: inline, at most 8 characters (keepalived cuts PASS to 8). */
export const LAB_VRRP_PASSWORD = 'lab8pass';

/** First forwarded SSH port on 127.0.0.1; hosts get consecutive ports in HOSTS order. */
export const BASE_PORT = 2201;

export const SUITE = 'bookworm';
/** Packages debootstrap puts into the base image (on top of --variant=minbase). */
export const BASE_INCLUDE = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'sudo',
  'python3',
  'iproute2',
  'procps',
  'netbase',
  'iputils-ping',
];
/** Packages the offline repository serves (with every dependency the base image lacks). */
export const REPO_PACKAGES = [
  'keepalived',
  'nginx',
  'psmisc',
  'chrony',
  'nftables',
  'firewalld',
  'tcpdump',
  'curl',
  'iptables',
  'ipvsadm',
  'less',
];
/** Where every host sees the offline repository, and its one apt source line. */
export const REPO_MOUNT = '/srv/lab-apt';
export const REPO_SOURCE_LINE = `deb [trusted=yes] file:${REPO_MOUNT} ./`;

/** Bump to force a rebuild of cached images when the recipe below changes in a way the key misses. */
export const RECIPE_VERSION = 1;

export interface LabPaths {
  /** Cache shared by every lab: base image and apt repository (outside the repo). */
  cacheDir: string;
  base: string;
  repo: string;
  /** One lab's state: per-host overlay layers, SSH key and known_hosts. */
  stateDir: string;
  sshDir: string;
  key: string;
  knownHosts: string;
  /** Runtime: pid files, sockets, lock (tmpfs; gone with the processes on reboot). */
  runDir: string;
  lock: string;
  /** Written by up, removed by down. */
  inventory: string;
}

export interface PathOverrides {
  cacheDir?: string;
  stateDir?: string;
  runDir?: string;
}

export function labPaths(repoRoot: string, o: PathOverrides = {}): LabPaths {
  const cacheDir = o.cacheDir ?? '/var/cache/provision-lab';
  const stateDir = o.stateDir ?? '/var/lib/provision-lab';
  const runDir = o.runDir ?? '/run/provision-lab';
  const sshDir = join(stateDir, 'ssh');
  return {
    cacheDir,
    base: join(cacheDir, 'base'),
    repo: join(cacheDir, 'repo'),
    stateDir,
    sshDir,
    key: join(sshDir, 'id_ed25519'),
    knownHosts: join(sshDir, 'known_hosts'),
    runDir,
    lock: join(runDir, 'lock'),
    inventory: join(repoRoot, 'inventory', 'lab.yaml'),
  };
}

export interface HostPaths {
  dir: string;
  upper: string;
  work: string;
  merged: string;
  console: string;
  nspawnPid: string;
  fwdInPid: string;
  fwdOutPid: string;
  fwdInLog: string;
  fwdOutLog: string;
  sock: string;
}

export function hostPaths(p: LabPaths, host: string): HostPaths {
  const dir = join(p.stateDir, 'hosts', host);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'root'),
    console: join(dir, 'console.log'),
    nspawnPid: join(p.runDir, `${host}.nspawn.pid`),
    fwdInPid: join(p.runDir, `${host}.fwd-in.pid`),
    fwdOutPid: join(p.runDir, `${host}.fwd-out.pid`),
    fwdInLog: join(dir, 'fwd-in.log'),
    fwdOutLog: join(dir, 'fwd-out.log'),
    sock: join(p.runDir, `${host}.sock`),
  };
}

export function hostNetns(host: string): string {
  return `lab-${host}`;
}

export function portOf(host: string, basePort = BASE_PORT): number {
  const i = HOSTS.findIndex((h) => h.name === host);
  if (i < 0) throw new Error(`unknown lab host "${host}" (hosts: ${HOSTS.map((h) => h.name).join(', ')})`);
  return basePort + i;
}
