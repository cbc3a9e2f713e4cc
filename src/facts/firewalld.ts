// firewalld's state as facts, each a command and a pure parser of its output:
// - over D-Bus (dbus-send, else busctl; no Python start): `firewalldBus()` (running? default
//   zone, interfaces bound to zones) and `firewalldZones(via, ...zones)` (each zone's runtime
//   and permanent rich rules, ports and services);
// - through firewall-cmd (one Python start per call, where no D-Bus client can answer):
//   `firewalldState()`, `firewalldInterfaceZones(...ifaces)`, `firewalldZone(zone, kind)`.
// A D-Bus answer the parser does not know is 'unknown' / undefined, never a guess: the caller
// then asks firewall-cmd.
import { sh, raw } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';
import { defineFact } from './fact.js';
import { busData, dbusSendReply, replies, type BusValue } from './dbus-reply.js';

export const FWD = 'org.fedoraproject.FirewallD1';
export const FWD_PATH = '/org/fedoraproject/FirewallD1';
export const ZONE_NAME = /^[A-Za-z0-9_+\-/]{1,64}$/;
const call = `busctl --json=short call ${FWD}`;
const send = `dbus-send --system --print-reply --dest=${FWD}`;

/** What firewalld has in one zone, runtime or permanent. */
export interface FirewalldZoneState {
  rich: string[];
  /** "port/proto", e.g. "2201/tcp". */
  ports: string[];
  services: string[];
}

export type FirewalldZones = Map<string, { runtime: FirewalldZoneState; permanent: FirewalldZoneState }>;

/** firewalldBus's answer: which client answered, the default zone and the interfaces bound to a zone. */
export type FirewalldBus =
  | { state: 'unknown' }
  | { state: 'down'; message: string }
  | { state: 'up'; via: 'send' | 'busctl'; defaultZone: string; bound: Record<string, string> };

const checkZones = (zones: string[]) => {
  if (!zones.every((z) => ZONE_NAME.test(z))) throw new Error(`not a firewalld zone name: ${JSON.stringify(zones)}`);
};

/** getActiveZones' {zone: {interfaces: [...], sources: [...]}} -> interface -> zone. */
function boundInterfaces(active: unknown): Record<string, string> {
  const bound: Record<string, string> = {};
  for (const [zone, v] of Object.entries((active ?? {}) as Record<string, { interfaces?: unknown }>)) {
    if (Array.isArray(v?.interfaces)) for (const i of v.interfaces) bound[String(i)] = zone;
  }
  return bound;
}

function parseBus(r: ExecResult): FirewalldBus {
  if (r.code !== 0) return { state: 'unknown' };
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
  const down = lines.find((l) => l[0] === 'down');
  if (down) {
    const message = down.slice(1).join(' ').trim();
    // busctl without --json: not an answer about firewalld.
    return /unrecognized option|invalid option|unknown option/i.test(message) ? { state: 'unknown' } : { state: 'down', message };
  }
  try {
    if (r.stdout.startsWith('@@default\n')) {
      const part = replies(r.stdout);
      return { state: 'up', via: 'send', defaultZone: String(dbusSendReply(part.get('default') ?? '')), bound: boundInterfaces(dbusSendReply(part.get('active') ?? '')) };
    }
    const a = lines.find((l) => l[0] === 'active');
    if (!a) return { state: 'unknown' };
    const defaultZone = String(busData(lines.find((l) => l[0] === 'default')?.[1] ?? '{}') ?? '');
    return { state: 'up', via: 'busctl', defaultZone, bound: boundInterfaces(busData(a[1])) };
  } catch {
    return { state: 'unknown' };
  }
}

/**
 * firewalld answers on the bus only while it runs: a failed getDefaultZone is "not running",
 * unless the client itself is missing or too old (exit 3: then firewall-cmd is asked).
 * dbus-send's replies are several lines each: a line `@@<what>` comes before each.
 */
export const firewalldBus = defineFact({
  name: 'firewalldBus',
  arity: 0,
  command: () => sh`if command -v dbus-send >/dev/null 2>&1; then
d=$(${raw(send)} ${FWD_PATH} ${FWD}.getDefaultZone 2>&1) || { printf 'down\t%s\n' "$d"; exit 0; }
printf '@@default\n%s\n@@active\n' "$d"; ${raw(send)} ${FWD_PATH} ${FWD}.zone.getActiveZones || exit 3; exit 0; fi
command -v busctl >/dev/null 2>&1 || exit 3
d=$(${raw(call)} ${FWD_PATH} ${FWD} getDefaultZone 2>&1) || { printf 'down\t%s\n' "$d"; exit 0; }
printf 'default\t%s\n' "$d"
printf 'active\t'; ${raw(call)} ${FWD_PATH} ${FWD + '.zone'} getActiveZones || exit 3`,
  parse: parseBus,
});

/** The zones of these interfaces (the default zone for one bound to none); undefined when a name is odd. */
export function zonesOfInterfaces(bus: Extract<FirewalldBus, { state: 'up' }>, ifaces: string[]): string[] | undefined {
  const zones = [...new Set(ifaces.map((i) => bus.bound[i] ?? bus.defaultZone))];
  return zones.length > 0 && zones.every((z) => ZONE_NAME.test(z)) ? zones : undefined;
}

/** A zone's settings (an a{sv} of getZoneSettings2 or config.zone.getSettings2). */
export function zoneFromSettings(settings: unknown): FirewalldZoneState {
  const d = (settings && typeof settings === 'object' && !Array.isArray(settings) ? settings : {}) as Record<string, BusValue>;
  const strs = (k: string) => (Array.isArray(d[k]?.data) ? (d[k].data as unknown[]).map(String) : []);
  const ports = Array.isArray(d.ports?.data) ? (d.ports.data as unknown[][]).map((pp) => `${pp[0]}/${pp[1]}`) : [];
  return { rich: strs('rules_str'), ports, services: strs('services') };
}

/** A zone's settings from one busctl `--json=short` reply line. */
export function zoneFromSettings2(line: string): FirewalldZoneState {
  return zoneFromSettings(busData(line));
}

const emptyZone = (): FirewalldZoneState => ({ rich: [], ports: [], services: [] });

function parseZones(r: ExecResult, via: string, zones: string[]): FirewalldZones | undefined {
  if (r.code !== 0) return undefined;
  const out: FirewalldZones = new Map(zones.map((z) => [z, { runtime: emptyZone(), permanent: emptyZone() }]));
  try {
    const got =
      via === 'send'
        ? [...replies(r.stdout)].map(([key, text]) => [...key.split('\t'), text] as const).map(([kind, zone, text]) => [kind, zone, () => zoneFromSettings(dbusSendReply(text ?? ''))] as const)
        : r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')).map(([kind, zone, json]) => [kind, zone, () => zoneFromSettings2(json)] as const);
    for (const [kind, zone, settings] of got) {
      const e = out.get(zone ?? '');
      if (e && (kind === 'runtime' || kind === 'permanent')) e[kind] = settings();
    }
    // Every zone's two answers, or none trusted: a reply dbus-send cut short has no settings.
    return via === 'send' && got.length !== zones.length * 2 ? undefined : out;
  } catch {
    return undefined;
  }
}

/** The runtime and permanent settings of zones; `via` is 'send' (dbus-send) or 'busctl'. */
export const firewalldZones = defineFact<[string, ...string[]], FirewalldZones | undefined>({
  name: 'firewalldZones',
  arity: -1,
  command(via: string, ...zones: string[]) {
    checkZones(zones);
    // The config object of a zone: its path, the text between the reply's first two quotes.
    return via === 'send'
      ? sh`for z in ${zones}; do printf '@@runtime\t%s\n' "$z"; ${raw(send)} ${FWD_PATH} ${FWD}.zone.getZoneSettings2 string:"$z" || exit 3
p=$(${raw(send)} ${FWD_PATH}/config ${FWD}.config.getZoneByName string:"$z"); p=\${p#*'"'}; p=\${p%%'"'*}
[ -n "$p" ] || exit 3
printf '@@permanent\t%s\n' "$z"; ${raw(send)} "$p" ${FWD}.config.zone.getSettings2 || exit 3; done`
      : sh`for z in ${zones}; do printf 'runtime\t%s\t' "$z"; ${raw(call)} ${FWD_PATH} ${FWD + '.zone'} getZoneSettings2 s "$z" || exit 3
p=$(busctl call ${FWD} ${FWD_PATH}/config ${FWD + '.config'} getZoneByName s "$z"); p=\${p#*'"'}; p=\${p%%'"'*}
[ -n "$p" ] || exit 3
printf 'permanent\t%s\t' "$z"; ${raw(call)} "$p" ${FWD + '.config.zone'} getSettings2 || exit 3; done`;
  },
  parse: (r: ExecResult, via: string, ...zones: string[]) => parseZones(r, via, zones),
});

/** `firewall-cmd --state`: "running", or why not. */
export const firewalldState = defineFact({
  name: 'firewalldState',
  arity: 0,
  command: () => sh`firewall-cmd --state`,
  parse: (r: ExecResult) => ({ running: r.stdout.trim() === 'running', message: (r.stderr || r.stdout).trim() }),
});

const failed = (what: string, r: ExecResult) => new Error(`${what} failed (exit ${r.code ?? r.signal}): ${(r.stderr.trim() || r.stdout.trim()).split('\n').slice(-12).join('\n')}`);

/** firewall-cmd: the zones of these interfaces (the default zone for one bound to none), each once. */
export const firewalldInterfaceZones = defineFact<[string, ...string[]], string[]>({
  name: 'firewalldInterfaceZones',
  arity: -1,
  command: (...ifaces: string[]) => sh`for i in ${ifaces}; do z=$(firewall-cmd --get-zone-of-interface="$i" 2>/dev/null) || z=$(firewall-cmd --get-default-zone); echo "$i $z"; done`,
  parse(r: ExecResult): string[] {
    if (r.code !== 0) throw failed('zones', r);
    return [...new Set(r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ')[1]))];
  },
});

const OPEN_MARK = '@@provision-open@@';

/** firewall-cmd: one zone's rich rules, ports and services, 'runtime' or 'permanent'. */
export const firewalldZone = defineFact({
  name: 'firewalldZone',
  arity: 2,
  command(zone: string, kind: string) {
    checkZones([zone]);
    const perm = kind === 'permanent' ? ['--permanent'] : [];
    return sh`firewall-cmd ${perm} --zone=${zone} --list-rich-rules && echo ${OPEN_MARK} && firewall-cmd ${perm} --zone=${zone} --list-ports && firewall-cmd ${perm} --zone=${zone} --list-services`;
  },
  parse(r: ExecResult): FirewalldZoneState {
    if (r.code !== 0) throw failed('list rich rules', r);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf(OPEN_MARK);
    // Rich rules one a line; then one line each: the ports, the services (space-separated).
    const rich = (at < 0 ? lines : lines.slice(0, at)).filter((l) => l.trim());
    const [ports = '', services = ''] = at < 0 ? [] : lines.slice(at + 1);
    const words = (x: string) => x.split(/\s+/).filter(Boolean);
    return { rich, ports: words(ports), services: words(services) };
  },
});
