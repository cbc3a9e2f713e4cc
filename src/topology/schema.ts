// Validation of the `ha` variable and of the per-host topology vars (addresses, interfaces,
// vrrp_instances, firewall_backend, backend_port). Produces typed specs plus findings with
// var paths ([host, ...keys]); check.ts turns paths into file:line:col via a resolver.
import { isIpv4, parseCidr } from './ip.js';
import { didYouMean } from '../did-you-mean.js';
import { Secret, type SecretSpec } from './secret.js';
import type { Finding, FirewallBackendSetting, ProfileName, VrrpState } from './types.js';

export interface VipSpec {
  address: string;
  vrid?: number;
  password?: SecretSpec;
}

export interface NetworkSpec {
  name: string;
  interface: string;
  subnet: string;
  vips: VipSpec[];
}

export interface HaSpec {
  lb_group: string;
  backend_group: string;
  probe_group: string;
  mcast_group: string;
  profile: ProfileName;
  sync: boolean;
  password?: SecretSpec;
  backend_port: number;
  listen_port: number;
  advert_int?: number;
  vrrp_strict: boolean;
  notify_mail?: string;
  networks: NetworkSpec[];
}

export interface InstanceSpec {
  name: string;
  interface?: string;
  network?: string;
  vrid: number;
  state: VrrpState;
  priority: number;
  vips: string[];
  password?: SecretSpec;
  advert_int?: number;
  version?: 2 | 3;
}

export interface HostTopologySpec {
  addresses: Record<string, string>;
  interfaces: Record<string, string>;
  vrrp_instances?: InstanceSpec[];
  firewall_backend?: FirewallBackendSetting;
  backend_port?: number;
}

export const HA_DEFAULTS = {
  lb_group: 'lb',
  backend_group: 'web',
  probe_group: 'probes',
  mcast_group: '224.0.0.18',
  profile: 'default' as ProfileName,
  sync: false,
  backend_port: 80,
  listen_port: 80,
  vrrp_strict: false,
};

const HA_KEYS = [
  'lb_group',
  'backend_group',
  'probe_group',
  'mcast_group',
  'profile',
  'sync',
  'password',
  'backend_port',
  'listen_port',
  'advert_int',
  'vrrp_strict',
  'notify_mail',
  'networks',
];
const NETWORK_KEYS = ['name', 'interface', 'subnet', 'vips'];
const VIP_KEYS = ['address', 'vrid', 'password'];
const INSTANCE_KEYS = ['name', 'interface', 'network', 'vrid', 'state', 'priority', 'vips', 'password', 'advert_int', 'version'];
/** Host-level vars this module reads; near misses of these are flagged. */
export const HOST_TOPOLOGY_KEYS = ['addresses', 'interfaces', 'vrrp_instances', 'firewall_backend', 'backend_port'];
const PROFILES: ProfileName[] = ['default', 'howto', 'fast'];
const FIREWALLS: FirewallBackendSetting[] = ['firewalld', 'nftables', 'none'];
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const IFNAME_RE = /^[A-Za-z0-9_.:@-]{1,15}$/;

type Path = (string | number)[];

class Ctx {
  findings: Finding[] = [];
  constructor(readonly host: string) {}
  add(path: Path, code: string, message: string, fix: string, severity: 'error' | 'warning' = 'error'): void {
    this.findings.push({ severity, code, host: this.host, message: `${fmtPath(path)}: ${message}`, fix, path: [this.host, ...path] });
  }
  get errors(): number {
    return this.findings.filter((f) => f.severity === 'error').length;
  }
}

/** "ha.networks[0].vips[1].vrid" */
export function fmtPath(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Secret);
}

function unknownKeys(ctx: Ctx, obj: Record<string, unknown>, known: string[], path: Path, what: string): void {
  for (const k of Object.keys(obj)) {
    if (known.includes(k)) continue;
    const guess = didYouMean(k, known);
    ctx.add(
      [...path, k],
      'schema-unknown-key',
      `unknown key "${k}" in ${what}${guess ? ` (did you mean "${guess}"?)` : ''}`,
      guess ? `rename "${k}" to "${guess}"` : `remove "${k}"; known keys: ${known.join(', ')}`,
    );
  }
}

function str(ctx: Ctx, obj: Record<string, unknown>, key: string, path: Path, required: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) ctx.add([...path, key], 'schema-required', `"${key}" is required`, `add ${key}: <value>`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') {
    ctx.add([...path, key], 'schema-type', `"${key}" must be a non-empty string, not ${typeName(v)}`, `write ${key} as a string`);
    return undefined;
  }
  return v;
}

function num(ctx: Ctx, obj: Record<string, unknown>, key: string, path: Path, required: boolean, integer: boolean): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) ctx.add([...path, key], 'schema-required', `"${key}" is required`, `add ${key}: <number>`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    const quoted = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v);
    ctx.add(
      [...path, key],
      'schema-type',
      `"${key}" must be ${integer ? 'an integer' : 'a number'}, not ${typeName(v)}`,
      quoted ? `remove the quotes: ${key}: ${v}` : `write ${key} as ${integer ? 'an integer' : 'a number'}`,
    );
    return undefined;
  }
  return v;
}

function bool(ctx: Ctx, obj: Record<string, unknown>, key: string, path: Path): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    ctx.add([...path, key], 'schema-type', `"${key}" must be true or false, not ${typeName(v)}`, `write ${key}: true or ${key}: false (unquoted)`);
    return undefined;
  }
  return v;
}

function secretSpec(ctx: Ctx, obj: Record<string, unknown>, key: string, path: Path): SecretSpec | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    ctx.add([...path, key], 'schema-type', `"${key}" must be a string (YAML read it as a number)`, `quote it: ${key}: "<value>"`);
    return undefined;
  }
  if (!Secret.isSpec(v)) {
    ctx.add([...path, key], 'schema-type', `"${key}" must be a string, {env: NAME} or {file: path}, not ${typeName(v)}`, `write ${key}: {env: PROVISION_VRRP_PASS}`);
    return undefined;
  }
  return v;
}

function ipv4(ctx: Ctx, value: unknown, path: Path, what: string): string | undefined {
  if (typeof value !== 'string') {
    ctx.add(path, 'schema-type', `${what} must be an IPv4 address string, not ${typeName(value)}`, `write it as a dotted quad, e.g. 10.16.8.10`);
    return undefined;
  }
  if (!isIpv4(value)) {
    const slash = /^[\d.]+\/\d+$/.test(value);
    ctx.add(
      path,
      'schema-value',
      `${what} "${value}" is not an IPv4 address`,
      slash ? `write the address without a prefix (${value.split('/')[0]}); the prefix comes from the network's subnet` : 'write a dotted quad without leading zeros, e.g. 10.16.8.10',
    );
    return undefined;
  }
  return value;
}

/** ha.networks: each with a name, interface, subnet and VIPs (a network with errors is left out). */
function networkSpecs(ctx: Ctx, nets: unknown, P: Path): NetworkSpec[] {
  const out: NetworkSpec[] = [];
  if (nets === undefined || nets === null) {
    ctx.add([...P, 'networks'], 'schema-required', '"networks" is required', 'list the networks: networks: [{name: external, interface: eth0, subnet: 172.16.8.0/24, vips: [...]}]');
  } else if (!Array.isArray(nets)) {
    ctx.add([...P, 'networks'], 'schema-type', `"networks" must be a list, not ${typeName(nets)}`, 'write networks as a YAML list (- name: ...)');
  } else {
    if (nets.length === 0) ctx.add([...P, 'networks'], 'schema-required', '"networks" is empty', 'list at least one network');
    nets.forEach((n, i) => {
      const np: Path = [...P, 'networks', i];
      if (!isMap(n)) {
        ctx.add(np, 'schema-type', `a network must be a mapping, not ${typeName(n)}`, 'write {name, interface, subnet, vips}');
        return;
      }
      unknownKeys(ctx, n, NETWORK_KEYS, np, 'a network');
      const name = str(ctx, n, 'name', np, true);
      if (name && !NAME_RE.test(name)) ctx.add([...np, 'name'], 'schema-value', `network name "${name}" must start with a letter and hold only letters, digits, _ and -`, 'rename the network');
      if (name && out.some((x) => x.name === name)) ctx.add([...np, 'name'], 'schema-value', `network "${name}" is listed twice`, 'give each network a distinct name');
      const iface = str(ctx, n, 'interface', np, true);
      if (iface && !IFNAME_RE.test(iface)) ctx.add([...np, 'interface'], 'schema-value', `"${iface}" is not a valid interface name`, 'write the interface name as `ip link` shows it (at most 15 characters)');
      const subnet = str(ctx, n, 'subnet', np, true);
      let subnetOk = false;
      if (subnet) {
        const c = parseCidr(subnet);
        if (!c) ctx.add([...np, 'subnet'], 'schema-value', `subnet "${subnet}" is not an IPv4 CIDR`, 'write it as address/prefix, e.g. 10.16.8.0/24');
        else {
          subnetOk = true;
          if (c.hostBitsSet) ctx.add([...np, 'subnet'], 'schema-value', `subnet "${subnet}" has host bits set`, `write ${c.network}/${c.prefix}`, 'warning');
        }
      }
      const vips = vipSpecs(ctx, n.vips, np);
      if (name && iface && subnet && subnetOk) out.push({ name, interface: iface, subnet, vips });
    });
  }
  return out;
}

/** A network's VIPs: addresses, or {address, vrid, password}. */
function vipSpecs(ctx: Ctx, rawVips: unknown, np: Path): VipSpec[] {
  const vips: VipSpec[] = [];
  if (rawVips !== undefined && rawVips !== null && !Array.isArray(rawVips)) {
    ctx.add([...np, 'vips'], 'schema-type', `"vips" must be a list, not ${typeName(rawVips)}`, 'write vips as a list of {address, vrid}');
  } else if (Array.isArray(rawVips)) {
    rawVips.forEach((v, j) => {
      const vp: Path = [...np, 'vips', j];
      if (typeof v === 'string') {
        const a = ipv4(ctx, v, vp, 'VIP');
        if (a) vips.push({ address: a });
        return;
      }
      if (!isMap(v)) {
        ctx.add(vp, 'schema-type', `a VIP must be an address or {address, vrid, password}, not ${typeName(v)}`, 'write - { address: 10.16.8.100, vrid: 171 }');
        return;
      }
      unknownKeys(ctx, v, VIP_KEYS, vp, 'a VIP');
      if (v.address === undefined || v.address === null) {
        ctx.add([...vp, 'address'], 'schema-required', '"address" is required', 'add address: <IPv4>');
        return;
      }
      const a = ipv4(ctx, v.address, [...vp, 'address'], 'VIP address');
      const vrid = num(ctx, v, 'vrid', vp, false, true);
      const password = secretSpec(ctx, v, 'password', vp);
      if (a) vips.push({ address: a, vrid, password });
    });
  }
  return vips;
}

/** Validate `ha` (read from `host`'s vars). Returns the spec with defaults applied, or undefined when unusable. */
export function validateHa(raw: unknown, host: string): { spec?: HaSpec; findings: Finding[] } {
  const ctx = new Ctx(host);
  const P: Path = ['ha'];
  if (raw === undefined || raw === null) {
    ctx.add(P, 'ha-missing', 'no "ha" variable is set for the load balancers', 'describe the topology under all.vars.ha (see docs/topology-schema.md)');
    return { findings: ctx.findings };
  }
  if (!isMap(raw)) {
    ctx.add(P, 'schema-type', `"ha" must be a mapping, not ${typeName(raw)}`, 'see docs/topology-schema.md');
    return { findings: ctx.findings };
  }
  unknownKeys(ctx, raw, HA_KEYS, P, 'ha');
  const spec: HaSpec = { ...HA_DEFAULTS, networks: [] };
  for (const k of ['lb_group', 'backend_group', 'probe_group'] as const) {
    const v = str(ctx, raw, k, P, false);
    if (v !== undefined) spec[k] = v;
  }
  if (raw.mcast_group !== undefined && raw.mcast_group !== null) {
    const v = ipv4(ctx, raw.mcast_group, [...P, 'mcast_group'], 'mcast_group');
    if (v) spec.mcast_group = v;
  }
  if (raw.profile !== undefined && raw.profile !== null) {
    if (typeof raw.profile === 'string' && (PROFILES as string[]).includes(raw.profile)) spec.profile = raw.profile as ProfileName;
    else {
      const guess = typeof raw.profile === 'string' ? didYouMean(raw.profile, PROFILES) : undefined;
      ctx.add([...P, 'profile'], 'schema-value', `profile must be one of ${PROFILES.join(', ')}, not ${typeName(raw.profile)}${guess ? ` (did you mean "${guess}"?)` : ''}`, `profile: ${guess ?? 'default'}`);
    }
  }
  const sync = bool(ctx, raw, 'sync', P);
  if (sync !== undefined) spec.sync = sync;
  const strict = bool(ctx, raw, 'vrrp_strict', P);
  if (strict !== undefined) spec.vrrp_strict = strict;
  spec.password = secretSpec(ctx, raw, 'password', P);
  for (const k of ['backend_port', 'listen_port'] as const) {
    const v = num(ctx, raw, k, P, false, false);
    if (v !== undefined) spec[k] = v;
  }
  const ai = num(ctx, raw, 'advert_int', P, false, false);
  if (ai !== undefined) {
    if (ai <= 0 || ai > 255) ctx.add([...P, 'advert_int'], 'schema-value', `advert_int must be between 0.01 and 255 seconds, not ${ai}`, 'remove advert_int to use the profile default');
    else spec.advert_int = ai;
  }
  spec.notify_mail = str(ctx, raw, 'notify_mail', P, false);
  if (spec.notify_mail !== undefined && !/^[^\s@'"]+(@[^\s@'"]+)?$/.test(spec.notify_mail)) {
    ctx.add([...P, 'notify_mail'], 'schema-value', `notify_mail "${spec.notify_mail}" is not a mail address`, 'notify_mail: root@localhost');
    spec.notify_mail = undefined;
  }

  spec.networks = networkSpecs(ctx, raw.networks, P);
  return { spec: ctx.errors === 0 ? spec : undefined, findings: ctx.findings };
}

/** One entry of an LB's vrrp_instances (undefined when it has errors). */
function instanceSpec(ctx: Ctx, it: unknown, p: Path, networks: string[]): InstanceSpec | undefined {
  if (!isMap(it)) {
    ctx.add(p, 'schema-type', `an instance must be a mapping, not ${typeName(it)}`, 'write - { name, interface, vrid, state, priority, vips }');
    return undefined;
  }
  unknownKeys(ctx, it, INSTANCE_KEYS, p, 'a vrrp instance');
  const name = str(ctx, it, 'name', p, true);
  if (name && !/^[A-Za-z0-9_.-]+$/.test(name)) ctx.add([...p, 'name'], 'schema-value', `instance name "${name}" may hold only letters, digits, _ . -`, 'rename the instance');
  const iface = str(ctx, it, 'interface', p, false);
  const network = str(ctx, it, 'network', p, false);
  if (!iface && !network) ctx.add([...p, 'interface'], 'schema-required', 'an instance needs "interface" (or "network")', 'add interface: eth1');
  if (network && networks.length && !networks.includes(network)) ctx.add([...p, 'network'], 'schema-value', `"${network}" is not a network in ha.networks`, `known networks: ${networks.join(', ')}`);
  const vrid = num(ctx, it, 'vrid', p, true, true);
  let state: VrrpState | undefined;
  if (it.state === undefined || it.state === null) ctx.add([...p, 'state'], 'schema-required', '"state" is required', 'add state: MASTER or state: BACKUP');
  else if (typeof it.state === 'string' && ['MASTER', 'BACKUP'].includes(it.state.toUpperCase())) state = it.state.toUpperCase() as VrrpState;
  else ctx.add([...p, 'state'], 'schema-value', `state must be MASTER or BACKUP, not ${typeName(it.state)}`, 'state: BACKUP');
  const priority = num(ctx, it, 'priority', p, true, true);
  let vips: string[] | undefined;
  if (it.vips === undefined || it.vips === null) ctx.add([...p, 'vips'], 'schema-required', '"vips" is required', 'add vips: [10.16.8.100]');
  else if (!Array.isArray(it.vips)) {
    if (typeof it.vips === 'string' && isIpv4(it.vips)) vips = [it.vips];
    else ctx.add([...p, 'vips'], 'schema-type', `"vips" must be a list of addresses, not ${typeName(it.vips)}`, 'vips: [10.16.8.100]');
  } else {
    vips = [];
    it.vips.forEach((a, j) => {
      const ok = ipv4(ctx, typeof a === 'string' ? a.replace(/\/32$/, '') : a, [...p, 'vips', j], 'VIP');
      if (ok) vips!.push(ok);
    });
  }
  const password = secretSpec(ctx, it, 'password', p);
  const advert = num(ctx, it, 'advert_int', p, false, false);
  let version: 2 | 3 | undefined;
  if (it.version !== undefined && it.version !== null) {
    if (it.version === 2 || it.version === 3) version = it.version;
    else ctx.add([...p, 'version'], 'schema-value', `version must be 2 or 3, not ${typeName(it.version)}`, 'version: 2');
  }
  if (name && (iface || network) && vrid !== undefined && state && priority !== undefined && vips) {
    return { name, interface: iface, network, vrid, state, priority, vips, password, advert_int: advert, version };
  }
  return undefined;
}

/** A host's addresses and interfaces, each a mapping of network name to value. */
function hostMaps(ctx: Ctx, vars: Record<string, unknown>, spec: HostTopologySpec, networks: string[]): void {
  for (const key of ['addresses', 'interfaces'] as const) {
    const raw = vars[key];
    if (raw === undefined || raw === null) continue;
    if (!isMap(raw)) {
      ctx.add([key], 'schema-type', `"${key}" must be a mapping of network name to ${key === 'addresses' ? 'address' : 'interface'}, not ${typeName(raw)}`, `write ${key}: { internal: ${key === 'addresses' ? '10.16.8.10' : 'eth1'} }`);
      continue;
    }
    for (const [net, v] of Object.entries(raw)) {
      if (networks.length && !networks.includes(net)) {
        const guess = didYouMean(net, networks);
        ctx.add([key, net], 'schema-unknown-key', `"${net}" is not a network in ha.networks${guess ? ` (did you mean "${guess}"?)` : ''}`, guess ? `rename "${net}" to "${guess}"` : `known networks: ${networks.join(', ')}`);
        continue;
      }
      if (key === 'addresses') {
        const a = ipv4(ctx, v, [key, net], `address on ${net}`);
        if (a) spec.addresses[net] = a;
      } else if (typeof v !== 'string' || !IFNAME_RE.test(v)) {
        ctx.add([key, net], 'schema-value', `interface for ${net} must be an interface name, not ${typeName(v)}`, 'write the interface name as `ip link` shows it');
      } else spec.interfaces[net] = v;
    }
  }
}

/** Validate the topology vars of one host (LB, backend or probe). `lb`: also read vrrp_instances etc. */
export function validateHostVars(
  host: string,
  vars: Record<string, unknown>,
  opts: { lb: boolean; networks: string[] },
): { spec?: HostTopologySpec; findings: Finding[] } {
  const ctx = new Ctx(host);
  const spec: HostTopologySpec = { addresses: {}, interfaces: {} };
  // Near misses of our keys at host level ("adresses:") — everything else is someone else's var.
  for (const k of Object.keys(vars)) {
    if (HOST_TOPOLOGY_KEYS.includes(k)) continue;
    const guess = didYouMean(k, HOST_TOPOLOGY_KEYS, 2);
    if (guess && vars[guess] === undefined && k !== 'ha') {
      ctx.add([k], 'schema-unknown-key', `"${k}" looks like a misspelt "${guess}"`, `rename "${k}" to "${guess}"`, 'warning');
    }
  }
  hostMaps(ctx, vars, spec, opts.networks);
  const fw = vars.firewall_backend;
  if (fw !== undefined && fw !== null) {
    if (typeof fw === 'string' && (FIREWALLS as string[]).includes(fw)) spec.firewall_backend = fw as FirewallBackendSetting;
    else ctx.add(['firewall_backend'], 'schema-value', `firewall_backend must be one of ${FIREWALLS.join(', ')}, not ${typeName(fw)}`, 'remove it to detect the firewall from facts');
  }
  const bp = num(ctx, vars, 'backend_port', [], false, false);
  if (bp !== undefined) spec.backend_port = bp;

  const vi = vars.vrrp_instances;
  if (opts.lb && vi !== undefined && vi !== null) {
    if (!Array.isArray(vi)) {
      ctx.add(['vrrp_instances'], 'schema-type', `"vrrp_instances" must be a list, not ${typeName(vi)}`, 'write - { name, interface, vrid, state, priority, vips }');
    } else {
      spec.vrrp_instances = [];
      vi.forEach((it, i) => {
        const inst = instanceSpec(ctx, it, ['vrrp_instances', i], opts.networks);
        if (inst) spec.vrrp_instances!.push(inst);
      });
    }
  }
  return { spec: ctx.errors === 0 ? spec : undefined, findings: ctx.findings };
}
