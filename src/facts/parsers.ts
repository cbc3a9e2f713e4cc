// Pure, total parsers: text in, facts out. None of them throws; odd input gives
// "unknown", empty maps/lists or null. Each is tested on captured output in test/fixtures/facts.
import { MARKERS, MARKER_PREFIX, MARKER_SUFFIX, SECTIONS, FROM_PACKAGES, type SectionName } from './gather.js';
import type {
  Facts,
  FirewallBackend,
  FirewallTools,
  InterfaceFacts,
  OsFacts,
  PackageManager,
  ServiceState,
} from './types.js';

// ---------------------------------------------------------------------------------------
// small helpers
// (Name -> value maps are built in a Map and returned through Object.fromEntries, so a name
// like "__proto__" becomes an ordinary key.)

function lines(text: unknown): string[] {
  if (typeof text !== 'string') return [];
  return text.split(/\r?\n/);
}

/** `key=value` lines (first `=` splits); later keys win. */
function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------
// os-release

/** Unquote one os-release value (shell-like: "..." with \-escapes, or '...'). */
function unquoteOsValue(v: string): string {
  const s = v.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    return s.slice(1, -1).replace(/\\([\\$"`])/g, '$1');
  }
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1);
  return s;
}

const DEBIAN_IDS = new Set(['debian', 'ubuntu', 'raspbian', 'linuxmint', 'pop', 'devuan', 'kali']);
const REDHAT_IDS = new Set([
  'rhel',
  'centos',
  'rocky',
  'almalinux',
  'fedora',
  'ol',
  'oracle',
  'amzn',
  'scientific',
  'eurolinux',
  'circle',
  'navylinux',
]);

/** debian/ubuntu (or ID_LIKE debian) -> debian; rhel/centos/rocky/alma/fedora (or ID_LIKE rhel/fedora) -> redhat. */
export function familyOf(id: string, idLike = ''): OsFacts['family'] {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const ids = [str(id), ...str(idLike).split(/\s+/)].map((s) => s.toLowerCase()).filter(Boolean);
  if (ids.some((x) => DEBIAN_IDS.has(x))) return 'debian';
  if (ids.some((x) => REDHAT_IDS.has(x))) return 'redhat';
  return 'unknown';
}

export function parseOsRelease(text: string): OsFacts {
  const kv = new Map<string, string>();
  for (const line of lines(text)) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) kv.set(m[1], unquoteOsValue(m[2]));
  }
  const id = (kv.get('ID') ?? '').toLowerCase() || 'unknown';
  return {
    id,
    versionId: kv.get('VERSION_ID') ?? 'unknown',
    family: familyOf(id === 'unknown' ? '' : id, kv.get('ID_LIKE') ?? ''),
    prettyName: kv.get('PRETTY_NAME') ?? kv.get('NAME') ?? 'unknown',
  };
}

// ---------------------------------------------------------------------------------------
// package manager and packages

/** The pm section lists the commands present (apt-get, dnf, yum, dpkg-query, rpm). */
export function parsePackageManager(text: string, family: OsFacts['family'] = 'unknown'): PackageManager {
  const have = new Set(lines(text).map((l) => l.trim()).filter(Boolean));
  const apt = have.has('apt-get');
  const rh: PackageManager = have.has('dnf') ? 'dnf' : have.has('yum') ? 'yum' : 'unknown';
  if (family === 'debian') return apt ? 'apt' : 'unknown';
  if (family === 'redhat') return rh;
  // Family unknown: trust what exists, apt first (rpm tools sometimes sit on Debian hosts).
  if (apt) return 'apt';
  return rh;
}

/**
 * `dpkg-query -W -f '${Package}\t${Version}\t${db:Status-Abbrev}\n'`. Keeps packages whose
 * status (2nd letter of the abbreviation) is "i" = installed: "ii" and held "hi"; drops
 * "rc" (removed, config left), "un", half-installed "iU"/"iF" and so on.
 * A line without a status column is taken as installed (plain `-f '${Package}\t${Version}\n'`).
 */
export function parsePackagesDpkg(text: string): Record<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const f = line.split('\t');
    if (f.length < 2) continue;
    const name = f[0].trim();
    const version = f[1].trim();
    if (!name || !version || /\s/.test(name)) continue;
    if (f.length >= 3) {
      const status = f[2].trim();
      if (status.length < 2 || status[1] !== 'i') continue;
    }
    out.set(name, version);
  }
  return Object.fromEntries(out);
}

/** `rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n'`. Several versions of one name (kernel): the last line wins. */
export function parsePackagesRpm(text: string): Record<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const f = line.split('\t');
    if (f.length !== 2) continue;
    const name = f[0].trim();
    const version = f[1].trim();
    if (!name || !version || /\s/.test(name) || /\s/.test(version)) continue;
    out.set(name, version);
  }
  return Object.fromEntries(out);
}

// ---------------------------------------------------------------------------------------
// services

const UNKNOWN_SERVICE: ServiceState = Object.freeze({ active: 'unknown', enabled: 'unknown', load: 'unknown' });

/** Words `systemctl is-enabled` answers with (systemctl(1)). */
const ENABLED_WORDS = new Set([
  'enabled',
  'enabled-runtime',
  'linked',
  'linked-runtime',
  'alias',
  'masked',
  'masked-runtime',
  'static',
  'indirect',
  'disabled',
  'generated',
  'transient',
  'bad',
  'not-found',
]);
const ACTIVE_WORDS = new Set(['active', 'reloading', 'inactive', 'failed', 'activating', 'deactivating', 'maintenance', 'refreshing']);

function stateFromBlock(kv: Map<string, string>): ServiceState {
  const load = kv.get('LoadState') || '';
  const activeRaw = kv.get('ActiveState') || '';
  const fileRaw = kv.get('UnitFileState') || '';
  const isEnabled = kv.get('is-enabled') || '';
  const isActive = kv.get('is-active') || '';
  if (load === 'not-found') return { active: 'unknown', enabled: 'unknown', load: 'not-found' };
  let active = ACTIVE_WORDS.has(activeRaw) ? activeRaw : ACTIVE_WORDS.has(isActive) ? isActive : 'unknown';
  let enabled = fileRaw && /^[a-z-]+$/.test(fileRaw) ? fileRaw : ENABLED_WORDS.has(isEnabled) ? isEnabled : 'unknown';
  let loadOut = load && /^[a-z-]+$/.test(load) ? load : 'unknown';
  // systemctl is-enabled without a running systemd: "Failed to get unit file state for x.service: No such file or directory"
  if (!load && /No such file or directory|not-found|could not be found/i.test(isEnabled)) {
    return { active: 'unknown', enabled: 'unknown', load: 'not-found' };
  }
  if (enabled === 'not-found') {
    enabled = 'unknown';
    loadOut = 'not-found';
    active = 'unknown';
  }
  return { active, enabled, load: loadOut };
}

/**
 * The services section of the gather output: per unit a `unit=<name>` line, then either the
 * `systemctl show -p LoadState -p ActiveState -p UnitFileState` properties, or `error=` lines
 * (e.g. "System has not been booted with systemd") and `is-enabled=<answer>`.
 * Also accepts plain `systemctl show` output of several units (blocks separated by blank
 * lines, keyed by `Id=`, ".service" dropped). Anything undeterminable is "unknown".
 */
export function parseServices(text: string): Record<string, ServiceState> {
  const out = new Map<string, ServiceState>();
  const all = lines(text);
  if (all.some((l) => l.startsWith('unit='))) {
    let name: string | null = null;
    let block: string[] = [];
    const flush = (): void => {
      if (name) out.set(name, stateFromBlock(keyValues(block.join('\n'))));
    };
    for (const line of all) {
      if (line.startsWith('unit=')) {
        flush();
        name = line.slice(5).trim() || null;
        block = [];
      } else block.push(line);
    }
    flush();
    return Object.fromEntries(out);
  }
  // Plain multi-unit `systemctl show` output.
  const blocks = (typeof text === 'string' ? text : '').split(/\r?\n\s*\r?\n/);
  for (const b of blocks) {
    const kv = keyValues(b);
    const id = kv.get('Id');
    if (!id) continue;
    out.set(id.replace(/\.service$/, ''), stateFromBlock(kv));
  }
  return Object.fromEntries(out);
}

/** The init section: `booted=yes|no` (/run/systemd/system exists), `pid1=<comm>`. */
export function parseInit(text: string): { systemd: boolean | undefined; pid1: string | undefined } {
  const kv = keyValues(text);
  const b = kv.get('booted');
  return { systemd: b === 'yes' ? true : b === 'no' ? false : undefined, pid1: kv.get('pid1') || undefined };
}

/** State of one requested service, or unknown when the output said nothing about it. */
export function serviceFrom(services: Record<string, ServiceState>, name: string): ServiceState {
  if (!isRecord(services) || typeof name !== 'string') return { ...UNKNOWN_SERVICE };
  const own = (k: string): unknown => (Object.hasOwn(services, k) ? services[k] : undefined);
  const s = own(name) ?? own(name.replace(/\.service$/, ''));
  return isRecord(s) ? (s as unknown as ServiceState) : { ...UNKNOWN_SERVICE };
}

// ---------------------------------------------------------------------------------------
// SELinux

/**
 * `getenforce=<Enforcing|Permissive|Disabled>`, `enforce=<1|0>` (/sys/fs/selinux/enforce),
 * `config-SELINUX=<...>`. A bare "Enforcing"/"1" (raw getenforce or enforce file) works too.
 * Neither getenforce nor the selinuxfs file: absent.
 */
export function parseSelinux(text: string): Facts['selinux'] {
  const kv = keyValues(text);
  let g = (kv.get('getenforce') ?? '').toLowerCase();
  let e = kv.get('enforce') ?? '';
  if (!kv.size) {
    const first = lines(text).map((l) => l.trim()).find(Boolean) ?? '';
    if (/^(enforcing|permissive|disabled)$/i.test(first)) g = first.toLowerCase();
    else if (first === '1' || first === '0') e = first;
  }
  if (g === 'enforcing' || g === 'permissive' || g === 'disabled') return g;
  if (e === '1') return 'enforcing';
  if (e === '0') return 'permissive';
  // No getenforce and no selinuxfs (e.g. a container whose image ships /etc/selinux/config):
  // nothing here can read or change SELinux, whatever the config file says.
  return 'absent';
}

// ---------------------------------------------------------------------------------------
// firewall

export function parseFirewallTools(text: string): FirewallTools {
  const bins = new Set(
    lines(text)
      .filter((l) => l.startsWith('bin='))
      .map((l) => l.slice(4).trim()),
  );
  return { firewallCmd: bins.has('firewall-cmd'), nft: bins.has('nft'), iptables: bins.has('iptables') };
}

function count(v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v.trim())) return 0;
  return Number(v.trim());
}

/**
 * Which backend manages the firewall, in this order:
 *   firewalld running (`firewall-cmd --state` = running, or the unit active) -> firewalld;
 *   nftables.service active -> nftables; iptables.service active -> iptables;
 *   iptables rules present (`iptables -S` has -A lines) -> iptables;
 *   nft tables present (`nft list ruleset`) -> nftables;
 *   otherwise none (nothing filters; the rule sets are readable only by root, so for a
 *   plain user only the service states count).
 * A bare `firewall-cmd --state` answer ("running"/"not running") is accepted too.
 */
export function parseFirewall(text: string): FirewallBackend {
  const kv = keyValues(text);
  const first = lines(text).map((l) => l.trim()).find(Boolean) ?? '';
  if (first === 'running') return 'firewalld';
  if (kv.get('firewall-cmd-state') === 'running' || kv.get('unit-firewalld') === 'active') return 'firewalld';
  if (kv.get('unit-nftables') === 'active') return 'nftables';
  if (kv.get('unit-iptables') === 'active') return 'iptables';
  if (count(kv.get('iptables-rules')) > 0) return 'iptables';
  if (count(kv.get('nft-tables')) > 0) return 'nftables';
  return 'none';
}

// ---------------------------------------------------------------------------------------
// interfaces

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

/** systemd-detect-virt's container names (systemd-detect-virt(1)). */
const CONTAINER_VIRTS = new Set([
  'openvz',
  'lxc',
  'lxc-libvirt',
  'systemd-nspawn',
  'docker',
  'podman',
  'rkt',
  'wsl',
  'proot',
  'pouch',
  'container-other',
]);

/**
 * `virt=<systemd-detect-virt>`, `container=<systemd-detect-virt --container>`, `hint=<...>`
 * (/.dockerenv, /run/.containerenv, /run/systemd/container). A bare detect-virt answer works too.
 */
export function parseVirt(text: string): { virtualization: string; container: boolean } {
  const kv = keyValues(text);
  const word = (s: string | undefined): string | undefined => (s && /^[a-z0-9-]+$/.test(s) ? s : undefined);
  const first = lines(text).map((l) => l.trim()).find(Boolean);
  const virt = kv.size ? word(kv.get('virt')) : word(first);
  const cont = word(kv.get('container'));
  const hints = lines(text)
    .filter((l) => l.startsWith('hint='))
    .map((l) => l.slice(5).trim())
    .filter((h) => /^[a-z0-9-]+$/.test(h));
  if (cont !== undefined) return { virtualization: virt ?? cont, container: cont !== 'none' };
  if (virt !== undefined) return { virtualization: virt, container: CONTAINER_VIRTS.has(virt) || hints.length > 0 };
  if (hints.length > 0) return { virtualization: hints[0], container: true };
  return { virtualization: 'unknown', container: false };
}

/** "Keepalived v2.2.7 (01/16,2022)" or "package-version=1:2.2.7-1" -> "2.2.7"; no keepalived (empty, "not found") -> null. */
export function parseKeepalivedVersion(text: string): string | null {
  const t = typeof text === 'string' ? text : '';
  const m = /\bKeepalived v(\d+(?:\.\d+)+)/i.exec(t);
  if (m) return m[1];
  // The Debian package's version ("1:2.2.7-1+b2"), printed instead of starting keepalived:
  // the upstream version is what follows the epoch, up to the Debian revision.
  const pkg = /^package-version=(?:\d+:)?(\d+(?:\.\d+)+)/m.exec(t);
  return pkg ? pkg[1] : null;
}

const CAP_SYS_TIME = 25n;

function capBit(hex: string | undefined, bit: bigint): boolean | undefined {
  if (!hex || !/^[0-9a-fA-F]{1,32}$/.test(hex)) return undefined;
  return ((BigInt('0x' + hex) >> bit) & 1n) === 1n;
}

/**
 * Whether root on the host can set the clock (CAP_SYS_TIME, bit 25):
 * bit 25 of PID 1's bounding set (`init:CapBnd:`), else of this session's (`self:CapBnd:`),
 * else a bare `CapBnd:`/`CapEff:` line; false in a non-initial user namespace
 * (`uid_map:` other than "0 0 4294967295") and false when nothing is known.
 */
export function parseCapSysTime(text: string): boolean {
  const caps = new Map<string, string>();
  let uidMap: string | undefined;
  for (const line of lines(text)) {
    const m = /^(?:(self|init):)?(Cap[A-Za-z]+):\s*([0-9a-fA-F]+)\s*$/.exec(line);
    if (m) {
      caps.set(`${m[1] ?? 'bare'}:${m[2]}`, m[3]);
      continue;
    }
    if (line.startsWith('uid_map:')) uidMap = (uidMap ?? '') + line.slice(8).trim() + '\n';
  }
  if (uidMap !== undefined && uidMap.trim().split(/\s+/).join(' ') !== '0 0 4294967295') return false;
  const order = ['init:CapBnd', 'self:CapBnd', 'bare:CapBnd', 'bare:CapEff'];
  for (const k of order) {
    const b = capBit(caps.get(k), CAP_SYS_TIME);
    if (b !== undefined) return b;
  }
  return false;
}

/** `id -u` -> number; -1 when unknown. */
export function parseUid(text: string): number {
  const first = lines(text).map((l) => l.trim()).find(Boolean) ?? '';
  return /^\d+$/.test(first) ? Number(first) : -1;
}

/** `uname -n` -> hostname; "unknown" when empty. */
export function parseHostname(text: string): string {
  const first = lines(text).map((l) => l.trim()).find(Boolean) ?? '';
  return first && !/\s/.test(first) ? first : 'unknown';
}

// ---------------------------------------------------------------------------------------
// the whole gather output

/**
 * Split the output at marker lines (`@@provision:<name>@@`). Text before the first marker is
 * dropped; a repeated marker's sections are joined.
 */
export function splitSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | null = null;
  let buf: string[] = [];
  const flush = (): void => {
    if (name === null) return;
    const prev = out.get(name);
    const body = buf.join('\n').replace(/^\n+|\n+$/g, '');
    out.set(name, prev ? `${prev}\n${body}` : body);
  };
  const re = new RegExp(`^${escapeRe(MARKER_PREFIX)}([a-z0-9-]+)${escapeRe(MARKER_SUFFIX)}\\s*$`);
  for (const line of lines(stdout)) {
    const m = re.exec(line);
    if (m) {
      flush();
      name = m[1];
      buf = [];
    } else if (name !== null) buf.push(line);
  }
  flush();
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Facts when nothing is known. */
export function emptyFacts(): Facts {
  return {
    hostname: 'unknown',
    os: { id: 'unknown', versionId: 'unknown', family: 'unknown', prettyName: 'unknown' },
    packageManager: 'unknown',
    packages: {},
    services: {},
    selinux: 'absent',
    firewall: 'none',
    interfaces: [],
    virtualization: 'unknown',
    container: false,
    keepalivedVersion: null,
    canSetClock: false,
    uid: -1,
  };
}

export interface PartialParse {
  facts: Partial<Facts>;
  /** Which sections the output held. */
  present: Set<SectionName>;
  /** The end marker was seen (the script ran to completion). */
  complete: boolean;
}

/** Which marker(s) show that a section ran. */
const SECTION_MARKERS: Record<SectionName, string[]> = {
  os: [MARKERS.os],
  hostname: [MARKERS.hostname],
  packageManager: [MARKERS.packageManager],
  // no marker at all when neither dpkg-query nor rpm exists: decided by `complete`
  packages: [MARKERS.packagesDpkg, MARKERS.packagesRpm],
  services: [MARKERS.services],
  selinux: [MARKERS.selinux],
  firewall: [MARKERS.firewall],
  interfaces: [MARKERS.ipJson, MARKERS.ipText],
  virt: [MARKERS.virt],
  keepalived: [MARKERS.keepalived],
  clock: [MARKERS.clock],
  uid: [MARKERS.uid],
};

/**
 * Parse whatever sections the output holds into the facts they determine (for a partial
 * refresh). `family` picks dpkg or rpm when the output has both lists and no os section.
 */
export function parseGatherPartial(
  stdout: string,
  ctx: { family?: OsFacts['family']; requested?: readonly SectionName[] } = {},
): PartialParse {
  const s = splitSections(typeof stdout === 'string' ? stdout : '');
  const facts: Partial<Facts> = {};
  const present = new Set<SectionName>();
  for (const name of SECTIONS) {
    if (SECTION_MARKERS[name].some((mk) => s.has(mk))) present.add(name);
  }
  const complete = s.has(MARKERS.end);
  let family = ctx.family ?? 'unknown';
  if (s.has(MARKERS.os)) {
    facts.os = parseOsRelease(s.get(MARKERS.os) ?? '');
    family = facts.os.family;
  }
  if (s.has(MARKERS.hostname)) facts.hostname = parseHostname(s.get(MARKERS.hostname) ?? '');
  if (s.has(MARKERS.packageManager)) facts.packageManager = parsePackageManager(s.get(MARKERS.packageManager) ?? '', family);
  if (s.has(MARKERS.packagesDpkg) || s.has(MARKERS.packagesRpm)) {
    const dpkg = s.has(MARKERS.packagesDpkg) ? parsePackagesDpkg(s.get(MARKERS.packagesDpkg) ?? '') : null;
    const rpm = s.has(MARKERS.packagesRpm) ? parsePackagesRpm(s.get(MARKERS.packagesRpm) ?? '') : null;
    if (dpkg && rpm) {
      if (family === 'debian') facts.packages = dpkg;
      else if (family === 'redhat') facts.packages = rpm;
      else facts.packages = Object.keys(rpm).length > Object.keys(dpkg).length ? rpm : dpkg;
    } else facts.packages = dpkg ?? rpm ?? {};
  }
  if (s.has(MARKERS.init)) {
    const init = parseInit(s.get(MARKERS.init) ?? '');
    if (init.systemd !== undefined) facts.systemd = init.systemd;
  }
  if (s.has(MARKERS.services)) facts.services = parseServices(s.get(MARKERS.services) ?? '');
  if (s.has(MARKERS.selinux)) facts.selinux = parseSelinux(s.get(MARKERS.selinux) ?? '');
  if (s.has(MARKERS.firewall)) {
    const fw = s.get(MARKERS.firewall) ?? '';
    facts.firewall = parseFirewall(fw);
    facts.firewallTools = parseFirewallTools(fw);
  }
  if (s.has(MARKERS.ipJson) || s.has(MARKERS.ipText)) {
    let ifs = s.has(MARKERS.ipJson) ? parseInterfacesJson(s.get(MARKERS.ipJson) ?? '') : [];
    if (ifs.length === 0 && s.has(MARKERS.ipText)) ifs = parseInterfacesText(s.get(MARKERS.ipText) ?? '');
    facts.interfaces = ifs;
  }
  if (s.has(MARKERS.virt)) Object.assign(facts, parseVirt(s.get(MARKERS.virt) ?? ''));
  if (s.has(MARKERS.keepalived)) {
    const k = s.get(MARKERS.keepalived) ?? '';
    // The section can defer to the packages list gathered in the same run (gather.ts FROM_PACKAGES).
    const v = k.includes(FROM_PACKAGES) ? facts.packages?.keepalived : undefined;
    facts.keepalivedVersion = parseKeepalivedVersion(v !== undefined ? `package-version=${v}` : k);
  }
  if (s.has(MARKERS.clock)) facts.canSetClock = parseCapSysTime(s.get(MARKERS.clock) ?? '');
  if (s.has(MARKERS.uid)) facts.uid = parseUid(s.get(MARKERS.uid) ?? '');
  // A completed run that asked for packages but printed no list: neither dpkg-query nor rpm
  // exists, so no packages. Same for interfaces without `ip`.
  if (complete && ctx.requested) {
    if (ctx.requested.includes('packages') && !present.has('packages')) facts.packages = {};
    if (ctx.requested.includes('interfaces') && !present.has('interfaces')) facts.interfaces = [];
  }
  return { facts, present, complete };
}

/**
 * The whole gather output -> Facts. Sections the output lacks keep their "unknown"/empty
 * defaults and are listed in `missingSections` (a run cut short, or garbage).
 * Packages are absent legitimately when neither dpkg-query nor rpm exists, and interfaces
 * when `ip` does not: those count as missing only if the end marker is missing too.
 */
export function parseGatherOutput(stdout: string): Facts {
  const { facts, present, complete } = parseGatherPartial(stdout, { requested: SECTIONS });
  const out: Facts = { ...emptyFacts(), ...facts };
  const optionalWhenComplete = new Set<SectionName>(['packages', 'interfaces']);
  const missing = SECTIONS.filter((s) => !present.has(s) && !(complete && optionalWhenComplete.has(s)));
  if (missing.length > 0) out.missingSections = missing;
  return out;
}
