// Lab networks: one namespace per "switch" holding a bridge, one namespace per host, veth
// pairs created directly inside those namespaces (never in the root namespace), addresses
// set from outside with `ip -n`, no default route anywhere.
import { HOSTS, NETS, hostNetns, type LabHostSpec, type NetName } from './config.js';
import { probe, run, type Log } from './sys.js';

export async function listNetns(): Promise<string[]> {
  const r = await probe`ip -j netns list`;
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as Array<{ name: string }>).map((n) => n.name);
}

/** Every namespace name the lab creates. */
export function labNamespaces(): string[] {
  return [...Object.values(NETS).map((n) => n.netns), ...HOSTS.map((h) => hostNetns(h.name))];
}

async function linkExists(ns: string, ifname: string): Promise<boolean> {
  return (await probe`ip -n ${ns} link show dev ${ifname}`).code === 0;
}

async function ensureNetns(ns: string, existing: string[], log: Log): Promise<boolean> {
  let changed = false;
  if (!existing.includes(ns)) {
    await run`ip netns add ${ns}`;
    log(`created network namespace ${ns}`);
    changed = true;
  }
  await run`ip -n ${ns} link set lo up`;
  return changed;
}

/** The switch of one network: a bridge with multicast snooping off (VRRP adverts reach every port). */
async function ensureSwitch(net: NetName, existing: string[], log: Log): Promise<boolean> {
  const { netns, bridge } = NETS[net];
  let changed = await ensureNetns(netns, existing, log);
  if (!(await linkExists(netns, bridge))) {
    await run`ip -n ${netns} link add ${bridge} type bridge mcast_snooping 0 stp_state 0`;
    changed = true;
  }
  // The switch has no address and needs no IPv6 link-local either.
  await run`ip netns exec ${netns} sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1`;
  await run`ip -n ${netns} link set ${bridge} type bridge mcast_snooping 0`;
  await run`ip -n ${netns} link set ${bridge} up`;
  return changed;
}

/** Name of a host NIC's peer on the switch: "<host>-<ifname>" (at most 15 characters). */
export function peerName(host: string, ifname: string): string {
  const name = `${host}-${ifname}`;
  if (name.length > 15) throw new Error(`interface name ${name} is longer than 15 characters`);
  return name;
}

async function ensureHostNet(h: LabHostSpec, existing: string[], log: Log): Promise<boolean> {
  const ns = hostNetns(h.name);
  let changed = await ensureNetns(ns, existing, log);
  for (const nic of h.nics) {
    const sw = NETS[nic.net];
    const peer = peerName(h.name, nic.ifname);
    if (!(await linkExists(ns, nic.ifname))) {
      // A stale peer left on the switch by an interrupted run would block the name.
      if (await linkExists(sw.netns, peer)) await run`ip -n ${sw.netns} link del ${peer}`;
      // Created inside the switch namespace, the host end moved straight into the host's:
      // neither end ever exists in the root namespace.
      await run`ip -n ${sw.netns} link add ${peer} type veth peer name ${nic.ifname} netns ${ns}`;
      changed = true;
    }
    await run`ip -n ${sw.netns} link set ${peer} master ${sw.bridge}`;
    await run`ip -n ${sw.netns} link set ${peer} up`;
    const cidr = `${nic.address}/${sw.prefix}`;
    const addrs = await addressesOf(ns);
    if (!addrs.some((a) => a.ifname === nic.ifname && a.cidr === cidr)) {
      await run`ip -n ${ns} addr add ${cidr} dev ${nic.ifname}`;
      changed = true;
    }
    await run`ip -n ${ns} link set ${nic.ifname} up`;
  }
  return changed;
}

/** Build (or complete) every namespace, bridge, veth pair and address. Returns whether anything changed. */
export async function ensureNetworks(log: Log): Promise<boolean> {
  const existing = await listNetns();
  let changed = false;
  for (const net of Object.keys(NETS) as NetName[]) changed = (await ensureSwitch(net, existing, log)) || changed;
  for (const h of HOSTS) changed = (await ensureHostNet(h, existing, log)) || changed;
  if (changed) log('networks: internal 10.16.8.0/24 and external 172.16.8.0/24 wired');
  return changed;
}

export interface Addr {
  ifname: string;
  cidr: string;
  family: 'inet' | 'inet6';
}

/** IPv4 and global IPv6 addresses in a namespace (from `ip -n NS -j addr`). */
export async function addressesOf(ns: string): Promise<Addr[]> {
  const r = await probe`ip -n ${ns} -j addr show`;
  if (r.code !== 0 || !r.stdout.trim()) return [];
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; addr_info?: Array<{ family: string; local: string; prefixlen: number; scope: string }> }>;
  const out: Addr[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      if (a.family !== 'inet' && a.family !== 'inet6') continue;
      if (a.scope === 'host' || a.scope === 'link') continue;
      out.push({ ifname: l.ifname, cidr: `${a.local}/${a.prefixlen}`, family: a.family });
    }
  }
  return out;
}

/** Pids of every process whose network namespace is `ns`. */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await probe`ip netns pids ${ns}`;
  if (r.code !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 1);
}

export async function deleteNetns(ns: string): Promise<void> {
  await run`ip netns del ${ns}`;
}
