// Parsers of `ip -j addr` (JSON) and `ip addr` (text) output: the host's interfaces.
import type { InterfaceFacts } from './types.js';
import { isRecord, lines } from './parsers.js';

function cidr(addr: string, prefix: unknown): string | null {
  if (!addr) return null;
  const p = typeof prefix === 'number' ? prefix : Number(prefix);
  return Number.isInteger(p) && p >= 0 && p <= 128 ? `${addr}/${p}` : null;
}

/** `ip -j addr` (iproute2 JSON). Garbage or a non-array gives []. */
export function parseInterfacesJson(text: string): InterfaceFacts[] {
  let data: unknown;
  try {
    data = JSON.parse(typeof text === 'string' ? text.trim() : '');
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: InterfaceFacts[] = [];
  for (const link of data) {
    if (!isRecord(link) || typeof link.ifname !== 'string' || !link.ifname) continue;
    const flags = Array.isArray(link.flags) ? link.flags.filter((f): f is string => typeof f === 'string') : [];
    const iface: InterfaceFacts = {
      name: link.ifname,
      up: flags.includes('UP'),
      multicast: flags.includes('MULTICAST'),
      ipv4: [],
      ipv6: [],
    };
    if (typeof link.address === 'string' && link.link_type !== 'none') iface.mac = link.address;
    if (typeof link.mtu === 'number') iface.mtu = link.mtu;
    if (typeof link.operstate === 'string') iface.operstate = link.operstate;
    const infos = Array.isArray(link.addr_info) ? link.addr_info : [];
    for (const a of infos) {
      if (!isRecord(a) || typeof a.local !== 'string') continue;
      const c = cidr(a.local, a.prefixlen);
      if (!c) continue;
      if (a.family === 'inet') iface.ipv4.push(c);
      else if (a.family === 'inet6') iface.ipv6.push(c);
    }
    out.push(iface);
  }
  return out;
}

/**
 * Text forms of iproute2: the full `ip addr` (a link line `N: name: <FLAGS> mtu ...` followed
 * by indented `link/ether`, `inet`, `inet6` lines), `ip -o link` and `ip -o addr` (one line
 * each; the address form carries no flags, so up/multicast stay false unless a link line
 * for the same interface says otherwise). "eth0@if5" (veth in a netns) is named "eth0".
 */
export function parseInterfacesText(text: string): InterfaceFacts[] {
  const byName = new Map<string, InterfaceFacts>();
  const get = (name: string): InterfaceFacts => {
    let i = byName.get(name);
    if (!i) {
      i = { name, up: false, multicast: false, ipv4: [], ipv6: [] };
      byName.set(name, i);
    }
    return i;
  };
  const addAddr = (iface: InterfaceFacts, fam: string, addr: string): void => {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(addr)) return;
    const list = fam === 'inet' ? iface.ipv4 : iface.ipv6;
    if (!list.includes(addr)) list.push(addr);
  };
  let current: InterfaceFacts | null = null;
  for (const rawLine of lines(text)) {
    // `ip -o` joins continuation lines with "\" and spaces.
    const line = rawLine.replace(/\\\s+/g, ' ');
    const linkM = /^\d+:\s+([^:\s@]+)(?:@[^:\s]*)?:\s+<([^>]*)>(.*)$/.exec(line);
    if (linkM) {
      current = get(linkM[1]);
      const flags = linkM[2].split(',');
      current.up = flags.includes('UP');
      current.multicast = flags.includes('MULTICAST');
      const rest = linkM[3];
      const mtu = /\bmtu (\d+)/.exec(rest);
      if (mtu) current.mtu = Number(mtu[1]);
      const st = /\bstate (\S+)/.exec(rest);
      if (st) current.operstate = st[1];
      const mac = /\blink\/\S+ ([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2})+)/.exec(rest);
      if (mac) current.mac = mac[1];
      continue;
    }
    const oAddr = /^\d+:\s+([^:\s@]+)(?:@\S*)?\s+(inet6?)\s+(\S+)/.exec(line);
    if (oAddr) {
      addAddr(get(oAddr[1]), oAddr[2], oAddr[3]);
      continue;
    }
    if (!current) continue;
    const macM = /^\s+link\/\S+\s+([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2})+)/.exec(line);
    if (macM) {
      current.mac = macM[1];
      continue;
    }
    const addrM = /^\s+(inet6?)\s+(\S+)/.exec(line);
    if (addrM) addAddr(current, addrM[1], addrM[2]);
  }
  return [...byName.values()];
}

// ---------------------------------------------------------------------------------------
// virtualization, keepalived, clock, uid
