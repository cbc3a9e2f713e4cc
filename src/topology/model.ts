// deriveTopology: from `ha` (networks, VIPs) and the LB hosts, every VRRP instance of every
// node. Rules (docs/topology-schema.md): the i-th VIP of a network is mastered by LB i mod N
// (inventory order) at the profile's master priority (250; 100 for `howto`); the other LBs
// follow round-robin after the master at 249, 248, ... (95, 90, ... for `howto`); VRIDs not written are derived so they never collide with any VRID in the
// topology. A host may instead list `vrrp_instances` explicitly (migrations).
import { InputError } from '../errors.js';
import type { Host } from '../inventory/types.js';
import { parseCidr } from './ip.js';
import { PROFILES, profile as profileOf } from './profiles.js';
import { fmtPath, validateHa, validateHostVars, type HaSpec, type HostTopologySpec } from './schema.js';
import { Secret, SecretError, type SecretOptions, type SecretSpec } from './secret.js';
import type { Backend, Finding, HaModel, HaNetwork, HaVip, LbNode, PosResolver, Probe, SyncGroup, VrrpInstance } from './types.js';

export interface DeriveOptions extends SecretOptions {
  /** Directory of the inventory file: `{file: path}` secrets are relative to it. */
  baseDir?: string;
  /** Var path -> source position, used for the positions of errors (see PosResolver). */
  resolvePos?: PosResolver;
}

export interface BuildResult {
  /** Undefined when the input is too broken to build a model. */
  model?: HaModel;
  /** Schema, secret and structural findings (check.ts adds the semantic rules). */
  findings: Finding[];
  /** True when the model must not be deployed (schema errors, unresolved secrets). */
  fatal: boolean;
}

/** First VRID tried for derived VRIDs (keepalived's own examples use 51). */
export const VRID_BASE = 51;
/** The default profile's master priority (near 255: short skew time, see profiles.ts). */
export const MASTER_PRIORITY = PROFILES.default.priorities.master;

/** The topology could not be derived; `findings` holds every reason. */
export class TopologyError extends InputError {
  readonly findings: Finding[];
  constructor(findings: Finding[]) {
    const errs = findings.filter((f) => f.severity === 'error');
    const first = errs[0] ?? findings[0];
    const more = errs.length > 1 ? ` (and ${errs.length - 1} more error${errs.length > 2 ? 's' : ''})` : '';
    super(`${first ? first.message : 'invalid HA topology'}${more}`, first?.pos);
    this.name = 'TopologyError';
    this.findings = findings;
  }
}

/** Build the HA model or throw TopologyError (schema errors, missing secrets). */
export function deriveTopology(hosts: Host[], opts: DeriveOptions = {}): HaModel {
  const r = buildTopology(hosts, opts);
  if (r.fatal || !r.model) throw new TopologyError(r.findings.filter((f) => f.severity === 'error'));
  return r.model;
}

const upper = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** Build the model and collect findings without throwing (what `provision check` uses). */
export function buildTopology(hosts: Host[], opts: DeriveOptions = {}): BuildResult {
  const findings: Finding[] = [];
  const withPos = (): BuildResult['findings'] => {
    if (opts.resolvePos) for (const f of findings) if (f.path && !f.pos) f.pos = opts.resolvePos(f.path);
    return findings;
  };
  const err = (code: string, message: string, fix: string, extra: Partial<Finding> = {}, severity: 'error' | 'warning' = 'error') =>
    findings.push({ severity, code, message, fix, ...extra });

  // `ha` lives in every host's vars (all.vars); read it from the first LB.
  const withHa = hosts.find((h) => h.vars.ha !== undefined);
  const rawHa = withHa?.vars.ha as Record<string, unknown> | undefined;
  const lbGroup = typeof rawHa?.lb_group === 'string' ? rawHa.lb_group : 'lb';
  const lbs = hosts.filter((h) => h.groups.includes(lbGroup));
  const haHost = lbs[0] ?? withHa ?? hosts[0];
  if (!haHost) {
    err('lb-group-empty', 'the inventory has no hosts', 'add the load balancers to the inventory');
    return { findings: withPos(), fatal: true };
  }
  const v = validateHa(haHost.vars.ha, haHost.name);
  findings.push(...v.findings);
  if (lbs.length === 0) {
    err('lb-group-empty', `no host is in group "${lbGroup}" (ha.lb_group)`, `put the load balancers under children.${lbGroup}.hosts, or set ha.lb_group`, { path: [haHost.name, 'ha', 'lb_group'] });
  }
  const spec = v.spec;
  if (!spec) {
    // Still report what is wrong in the LBs' own vars, so one run shows every mistake.
    for (const h of lbs) findings.push(...validateHostVars(h.name, h.vars, { lb: true, networks: [] }).findings);
    return { findings: withPos(), fatal: true };
  }
  const fatalBefore = () => findings.some((f) => f.severity === 'error' && (f.code.startsWith('schema-') || f.code === 'ha-missing' || f.code === 'secret-unresolved'));

  warnHaDiffers(lbs, haHost, err);

  const netNames = spec.networks.map((n) => n.name);
  const backendHosts = hosts.filter((h) => h.groups.includes(spec.backend_group) && !h.groups.includes(lbGroup));
  const probeHosts = hosts.filter((h) => h.groups.includes(spec.probe_group));
  const hostSpecs = hostSpecsOf([...new Set([...lbs, ...backendHosts, ...probeHosts])], lbs, netNames, findings);

  // Secrets: resolved now, so a missing variable or file is reported before any connection.
  const resolveSecret = secretResolver({ baseDir: opts.baseDir, env: opts.env }, err);
  const defaultPassword = resolveSecret(spec.password, [haHost.name, 'ha', 'password'], haHost.name);

  const networks: HaNetwork[] = spec.networks.map((n) => ({ name: n.name, interface: n.interface, subnet: n.subnet, network: parseCidr(n.subnet)!.network, prefix: parseCidr(n.subnet)!.prefix }));
  const prof = profileOf(spec.profile, spec.advert_int);
  const nodes = lbNodes(lbs, hostSpecs, networks);
  const explicit = lbs.some((h) => hostSpecs.get(h.name)?.vrrp_instances !== undefined || h.vars.vrrp_instances !== undefined);
  const vips: HaVip[] = explicit
    ? explicitInstances(spec, networks, nodes, hostSpecs, prof, defaultPassword, resolveSecret, haHost.name, err)
    : deriveInstances(spec, networks, nodes, prof, defaultPassword, resolveSecret, haHost.name, err);
  const syncGroups = spec.sync ? syncGroupsOf(nodes, vips) : [];
  const backends = backendsOf(backendHosts, hostSpecs, networks, spec.backend_port, err);
  // Without probes, the LBs request each other's VIPs.
  const probes: Probe[] = probeHosts.length
    ? probeHosts.map((h) => ({ host: h.name, addresses: { ...(hostSpecs.get(h.name)?.addresses ?? {}) }, isLb: false }))
    : nodes.map((n) => ({ host: n.host, addresses: { ...n.addresses }, isLb: true }));

  const model: HaModel = {
    mode: explicit ? 'explicit' : 'derived',
    lbGroup,
    backendGroup: spec.backend_group,
    probeGroup: spec.probe_group,
    profile: prof,
    mcastGroup: spec.mcast_group,
    sync: spec.sync,
    vrrpStrict: spec.vrrp_strict,
    listenPort: spec.listen_port,
    notifyMail: spec.notify_mail,
    networks,
    vips,
    nodes,
    syncGroups,
    backends,
    probes,
    haHost: haHost.name,
  };
  return { model, findings: withPos(), fatal: fatalBefore() };
}

type ErrFn = (code: string, message: string, fix: string, extra?: Partial<Finding>, severity?: 'error' | 'warning') => void;
type ResolveSecret = (s: SecretSpec | undefined, path: (string | number)[], host: string) => Secret | undefined;

/** Each host's topology vars, validated (their findings added); hosts with errors have none. */
function hostSpecsOf(hosts: Host[], lbs: Host[], networks: string[], findings: Finding[]): Map<string, HostTopologySpec> {
  const hostSpecs = new Map<string, HostTopologySpec>();
  for (const h of hosts) {
    const r = validateHostVars(h.name, h.vars, { lb: lbs.includes(h), networks });
    findings.push(...r.findings);
    if (r.spec) hostSpecs.set(h.name, r.spec);
  }
  return hostSpecs;
}

/** The LB nodes (instances come later): addresses, and each network's interface (the host's own, else the network's). */
function lbNodes(lbs: Host[], hostSpecs: Map<string, HostTopologySpec>, networks: HaNetwork[]): LbNode[] {
  return lbs.map((h) => {
    const hs = hostSpecs.get(h.name);
    const interfaces: Record<string, string> = {};
    for (const n of networks) interfaces[n.name] = hs?.interfaces[n.name] ?? n.interface;
    return { host: h.name, addresses: { ...(hs?.addresses ?? {}) }, interfaces, instances: [], firewallBackend: hs?.firewall_backend };
  });
}

/** Every LB should see the same `ha`; a host_vars override would make the nodes disagree. */
function warnHaDiffers(lbs: Host[], haHost: Host, err: ErrFn): void {
  const canon = JSON.stringify(haHost.vars.ha);
  for (const h of lbs.slice(1)) {
    if (JSON.stringify(h.vars.ha) !== canon) {
      err('ha-differs', `${h.name} has a different "ha" than ${haHost.name}; the model is read from ${haHost.name}`, 'define ha once, in all.vars or group_vars/all.yaml', { host: h.name, path: [h.name, 'ha'] }, 'warning');
    }
  }
}

/** Resolve a secret now; one that cannot be (missing variable or file) is a finding, and undefined. */
function secretResolver(secretOpts: SecretOptions, err: ErrFn): ResolveSecret {
  return (s, path, host) => {
    if (s === undefined) return undefined;
    try {
      return Secret.resolve(s, secretOpts);
    } catch (e) {
      if (!(e instanceof SecretError)) throw e;
      const fix = e.spec.startsWith('env ') ? `export ${e.spec.slice(4)}=<password> before running provision` : e.spec.startsWith('file ') ? `create the file (relative to the inventory's directory) holding the password` : 'write the password as a string, {env: NAME} or {file: path}';
      err('secret-unresolved', `${fmtPath(path.slice(1))}: ${e.message}`, fix, { host, path });
      return undefined;
    }
  };
}

/** Sync groups: one per master node, holding the instances it masters; identical on every LB. */
function syncGroupsOf(nodes: LbNode[], vips: HaVip[]): SyncGroup[] {
  const syncGroups: SyncGroup[] = [];
  for (const n of nodes) {
    const names = [...new Set(vips.filter((v) => v.master === n.host).map((v) => v.instance))];
    if (names.length) syncGroups.push({ name: `VG_${upper(n.host)}`, master: n.host, instances: names });
  }
  return syncGroups;
}

/** Each backend at its address on the first network of ha.networks it has one on. */
function backendsOf(backendHosts: Host[], hostSpecs: Map<string, HostTopologySpec>, networks: HaNetwork[], defaultPort: number, err: ErrFn): Backend[] {
  const backends: Backend[] = [];
  for (const h of backendHosts) {
    const hs = hostSpecs.get(h.name);
    if (!hs) continue;
    const net = networks.find((n) => hs.addresses[n.name] !== undefined);
    if (!net) {
      err('backend-no-address', `backend ${h.name} has no address on any network of ha.networks`, `add addresses: { ${networks[networks.length - 1]?.name ?? 'internal'}: <address> } to ${h.name}`, { host: h.name, path: [h.name, 'addresses'] });
      continue;
    }
    backends.push({ host: h.name, address: hs.addresses[net.name], port: hs.backend_port ?? defaultPort, network: net.name });
  }
  return backends;
}

/**
 * Priorities down the round-robin from the profile's master: 250, 249, ... (100, 95, ... for
 * howto). When the last node would fall below 1 the step shrinks to 1, then to 0 (all tie).
 */
export function priorityAt(rank: number, nodeCount: number, p: { master: number; step: number } = PROFILES.default.priorities): number {
  const fits = (s: number) => p.master - s * (nodeCount - 1) >= 1;
  const step = fits(p.step) ? p.step : fits(1) ? 1 : 0;
  return Math.max(1, p.master - step * rank);
}

function deriveInstances(
  spec: HaSpec,
  networks: HaNetwork[],
  nodes: LbNode[],
  prof: HaModel['profile'],
  defaultPassword: Secret | undefined,
  resolveSecret: ResolveSecret,
  haHost: string,
  err: ErrFn,
): HaVip[] {
  const vips: HaVip[] = [];
  const used = new Set<number>();
  for (const n of spec.networks) for (const v of n.vips) if (v.vrid !== undefined) used.add(v.vrid);
  let next = VRID_BASE;
  const nextVrid = (): number | undefined => {
    for (let tries = 0; tries < 255; tries++) {
      const c = next;
      next = next >= 255 ? 1 : next + 1;
      if (!used.has(c)) {
        used.add(c);
        return c;
      }
    }
    return undefined;
  };
  const N = nodes.length;
  spec.networks.forEach((ns, ni) => {
    const net = networks[ni];
    ns.vips.forEach((vs, vi) => {
      const path = [haHost, 'ha', 'networks', ni, 'vips', vi];
      let vrid = vs.vrid;
      if (vrid === undefined) {
        vrid = nextVrid();
        if (vrid === undefined) {
          err('vrid-exhausted', `no free VRID left for VIP ${vs.address}`, 'use fewer VIPs (at most 255 VRIDs)', { path });
          vrid = 0;
        }
      }
      const name = `${upper(net.name)}_${vi + 1}`;
      const password = vs.password !== undefined ? resolveSecret(vs.password, [...path, 'password'], haHost) : defaultPassword;
      const masterIdx = N ? vi % N : -1;
      const vip: HaVip = { address: vs.address, network: net.name, vrid, vridGiven: vs.vrid !== undefined, instance: name, master: nodes[masterIdx]?.host, masters: nodes[masterIdx] ? [nodes[masterIdx].host] : [], password };
      vips.push(vip);
      for (let k = 0; k < N; k++) {
        const node = nodes[(masterIdx + k) % N];
        const inst: VrrpInstance = {
          name,
          network: net.name,
          interface: node.interfaces[net.name],
          vrid,
          state: k === 0 ? 'MASTER' : 'BACKUP',
          priority: priorityAt(k, N, prof.priorities),
          vips: [vs.address],
          advertInt: prof.advertInt,
          version: prof.version,
          authPass: prof.version === 2 ? password : undefined,
          mcastGroup: spec.mcast_group,
          source: path,
        };
        node.instances.push(inst);
      }
    });
  });
  // Instances in a stable order per node: network order, then VIP order.
  const order = (i: VrrpInstance) => networks.findIndex((n) => n.name === i.network) * 1000 + Number(i.name.split('_').pop());
  for (const node of nodes) node.instances.sort((a, b) => order(a) - order(b));
  return vips;
}

function explicitInstances(
  spec: HaSpec,
  networks: HaNetwork[],
  nodes: LbNode[],
  hostSpecs: Map<string, HostTopologySpec>,
  prof: HaModel['profile'],
  defaultPassword: Secret | undefined,
  resolveSecret: ResolveSecret,
  haHost: string,
  err: ErrFn,
): HaVip[] {
  // Passwords written on a VIP in ha.networks apply to instances carrying that VIP.
  const vipPasswords = new Map<string, Secret | undefined>();
  spec.networks.forEach((ns, ni) =>
    ns.vips.forEach((vs, vi) => {
      if (vs.password !== undefined) vipPasswords.set(vs.address, resolveSecret(vs.password, [haHost, 'ha', 'networks', ni, 'vips', vi, 'password'], haHost));
    }),
  );
  for (const node of nodes) {
    const list = hostSpecs.get(node.host)?.vrrp_instances;
    if (list === undefined) {
      err('lb-no-instances', `${node.host} lists no vrrp_instances while other load balancers do`, `add vrrp_instances to ${node.host}, or remove them from every host to derive instances from ha.networks`, { host: node.host, path: [node.host] }, 'warning');
      continue;
    }
    list.forEach((is, i) => {
      const path = [node.host, 'vrrp_instances', i];
      const net = is.network
        ? networks.find((n) => n.name === is.network)
        : networks.find((n) => node.interfaces[n.name] === is.interface);
      if (!net) {
        err('instance-unknown-network', `${node.host} instance ${is.name}: interface ${is.interface} is not the interface of any network in ha.networks`, `set "network:" on the instance or add the network to ha.networks`, { host: node.host, instance: is.name, path: [...path, 'interface'] });
        return;
      }
      const version = is.version ?? prof.version;
      const password = is.password !== undefined ? resolveSecret(is.password, [...path, 'password'], node.host) : is.vips.map((a) => vipPasswords.get(a)).find((p) => p) ?? defaultPassword;
      node.instances.push({
        name: is.name,
        network: net.name,
        interface: is.interface ?? node.interfaces[net.name],
        vrid: is.vrid,
        state: is.state,
        priority: is.priority,
        vips: [...is.vips],
        advertInt: is.advert_int ?? prof.advertInt,
        version,
        authPass: version === 2 ? password : undefined,
        mcastGroup: spec.mcast_group,
        source: path,
      });
    });
  }
  // VIPs: every address in an instance, plus those listed in ha.networks (which may then lack a master).
  const vips = new Map<string, HaVip>();
  for (const node of nodes) {
    for (const inst of node.instances) {
      for (const a of inst.vips) {
        const key = `${inst.network}/${inst.vrid}/${a}`;
        let vip = vips.get(key);
        if (!vip) {
          vip = { address: a, network: inst.network, vrid: inst.vrid, vridGiven: true, instance: inst.name, masters: [], password: inst.authPass };
          vips.set(key, vip);
        }
        if (inst.state === 'MASTER') vip.masters.push(node.host);
      }
    }
  }
  spec.networks.forEach((ns) =>
    ns.vips.forEach((vs) => {
      if (![...vips.values()].some((v) => v.address === vs.address)) {
        vips.set(`${ns.name}/-/${vs.address}`, { address: vs.address, network: ns.name, vrid: vs.vrid ?? 0, vridGiven: vs.vrid !== undefined, instance: '', masters: [], password: vipPasswords.get(vs.address) ?? defaultPassword });
      }
    }),
  );
  for (const v of vips.values()) v.master = v.masters[0];
  return [...vips.values()];
}
