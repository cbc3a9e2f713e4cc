// IPv4 helpers for the HA model and its checks. Strict dotted-quad parsing: no leading
// zeros (which some tools read as octal), no shorthand, no whitespace.

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let n = 0;
  for (const part of m.slice(1)) {
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const v = Number(part);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr {
  /** The network address as written normalised to its prefix (172.16.8.0). */
  network: string;
  prefix: number;
  /** The address part as written (may have host bits set). */
  address: string;
  hostBitsSet: boolean;
}

export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const addr = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (addr === undefined || prefix > 32 || (m[2].length > 1 && m[2].startsWith('0'))) return undefined;
  const net = networkOf(addr, prefix);
  return { network: formatIpv4(net), prefix, address: m[1], hostBitsSet: net !== addr };
}

function networkOf(addr: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return Math.floor(addr / size) * size;
}

/** Whether `ip` lies inside network/prefix. */
export function inSubnet(ip: string, network: string, prefix: number): boolean {
  const a = parseIpv4(ip);
  const n = parseIpv4(network);
  if (a === undefined || n === undefined) return false;
  return networkOf(a, prefix) === networkOf(n, prefix);
}

/** The network and broadcast addresses of a subnet (not usable as host addresses for prefixes < 31). */
export function isNetworkOrBroadcast(ip: string, network: string, prefix: number): boolean {
  if (prefix >= 31) return false;
  const a = parseIpv4(ip);
  const n = parseIpv4(network);
  if (a === undefined || n === undefined) return false;
  const base = networkOf(n, prefix);
  return a === base || a === base + 2 ** (32 - prefix) - 1;
}

/** Compare two IPv4 addresses numerically (VRRP breaks priority ties by the higher primary address). */
export function compareIpv4(a: string, b: string): number {
  return (parseIpv4(a) ?? -1) - (parseIpv4(b) ?? -1);
}

export function isMulticast(ip: string): boolean {
  return inSubnet(ip, '224.0.0.0', 4);
}
