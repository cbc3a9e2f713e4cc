// Pure, total parsers: text in, facts out. None of them throws; odd input gives
// "unknown", empty maps/lists or null. Each is tested on captured output in test/fixtures/facts.
import type {
  Facts,
  FirewallBackend,
  FirewallTools,
  InterfaceFacts,
  OsFacts,
  PackageManager,
  ServiceState,
} from './types.js';
// The interfaces' parsers and the gather output's assembly live beside this file.
export * from './parse-interfaces.js';
export * from './parse-gather.js';

// ---------------------------------------------------------------------------------------
// small helpers
// (Name -> value maps are built in a Map and returned through Object.fromEntries, so a name
// like "__proto__" becomes an ordinary key.)

export function lines(text: unknown): string[] {
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

export function isRecord(v: unknown): v is Record<string, unknown> {
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

