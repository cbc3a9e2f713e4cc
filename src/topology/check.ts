// The rules of `provision check`: static checks of the HA topology, connecting to nothing.
// checkTopology = schema validation + secrets + derivation (model.ts) + the rules below.
import type { Host } from '../inventory/types.js';
import { inSubnet, isMulticast, isNetworkOrBroadcast } from './ip.js';
import { buildTopology, type DeriveOptions } from './model.js';
import type { Finding, HaModel } from './types.js';
import { checkRouters } from './check-router.js';

export type CheckOptions = DeriveOptions;

/** Every finding for the inventory's hosts: schema, secrets, then the topology rules. */
export function checkTopology(hosts: Host[], opts: CheckOptions = {}): Finding[] {
  const r = buildTopology(hosts, opts);
  const findings = [...r.findings];
  if (r.model) findings.push(...checkModel(r.model));
  if (opts.resolvePos) for (const f of findings) if (f.path && !f.pos) f.pos = opts.resolvePos(f.path);
  return findings;
}

/** Whether any finding is an error (`provision check` exits 4 then). */
export function hasErrors(findings: Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** Add a finding (an error unless it says otherwise). */
export type AddFinding = (f: Omit<Finding, 'severity'> & { severity?: Finding['severity'] }) => void;

const haPathOf = (model: HaModel) => (...p: (string | number)[]) => [model.haHost, 'ha', ...p];

/** The semantic rules, over a built model. */
export function checkModel(model: HaModel): Finding[] {
  const out: Finding[] = [];
  const add: AddFinding = (f) => out.push({ severity: 'error', ...f });
  checkGlobals(model, add);
  checkLbAddresses(model, add);
  checkVips(model, add);
  checkRouters(model, add);
  checkBackends(model, add);
  return out;
}

/** Global settings: multicast group, vrrp_strict, one LB only, listen port, no VIPs. */
function checkGlobals(model: HaModel, add: AddFinding): void {
  const haPath = haPathOf(model);
  // --- global settings ---
  if (!isMulticast(model.mcastGroup)) {
    add({ code: 'mcast-range', message: `ha.mcast_group ${model.mcastGroup} is not a multicast address (224.0.0.0/4)`, fix: 'use an address in 224.0.0.0/24, e.g. 224.0.0.18 (the VRRP default) or 224.0.0.111', path: haPath('mcast_group') });
  }
  if (model.vrrpStrict) {
    add({ code: 'vrrp-strict', message: 'ha.vrrp_strict is on: keepalived then drops packets to VIPs of non-owner instances (no_accept) and adds nftables/iptables blocks, so nginx cannot serve on the VIPs', fix: 'remove vrrp_strict (PASS auth is also refused in strict mode)', path: haPath('vrrp_strict') });
  }
  if (model.nodes.length === 1) {
    add({ severity: 'warning', code: 'lb-single', message: `only one load balancer (${model.nodes[0].host}): no failover`, fix: `add a second host to group ${model.lbGroup}`, path: [model.nodes[0].host] });
  }
  if (!Number.isInteger(model.listenPort) || model.listenPort < 1 || model.listenPort > 65535) {
    add({ code: 'upstream-port', message: `ha.listen_port ${model.listenPort} is not a TCP port (1..65535)`, fix: 'listen_port: 80', path: haPath('listen_port') });
  }

  if (model.vips.length === 0) {
    add({ code: 'no-vips', message: 'the topology has no VIPs: no network lists any and no vrrp_instances carry any', fix: 'list VIPs under ha.networks[].vips', path: haPath('networks') });
  }
}

/** Every LB has an address, inside the subnet, on every network that carries VIPs. */
function checkLbAddresses(model: HaModel, add: AddFinding): void {
  const nets = new Map(model.networks.map((n) => [n.name, n]));
  // --- addresses of the load balancers ---
  const networksInUse = new Set(model.nodes.flatMap((n) => n.instances.map((i) => i.network)));
  for (const n of model.vips) networksInUse.add(n.network);
  for (const node of model.nodes) {
    for (const netName of networksInUse) {
      const net = nets.get(netName);
      if (!net) continue;
      const addr = node.addresses[netName];
      if (addr === undefined) {
        add({ code: 'lb-missing-address', host: node.host, message: `${node.host} has no address on network ${netName} (${net.subnet}, interface ${node.interfaces[netName]}), which carries VIPs`, fix: `add addresses: { ${netName}: <address in ${net.subnet}> } to ${node.host}`, path: [node.host, 'addresses'] });
      } else if (!inSubnet(addr, net.network, net.prefix)) {
        add({ code: 'address-outside-subnet', host: node.host, message: `${node.host}'s address ${addr} on ${netName} is outside ${net.subnet}`, fix: `use an address in ${net.subnet}, or correct the subnet`, path: [node.host, 'addresses', netName] });
      }
    }
  }
}

/** Each VIP: inside its subnet, no host's address, listed once, exactly one master. */
function checkVips(model: HaModel, add: AddFinding): void {
  const nets = new Map(model.networks.map((n) => [n.name, n]));
  // --- VIPs ---
  const hostAddrs = new Map<string, string>();
  for (const n of model.nodes) for (const a of Object.values(n.addresses)) hostAddrs.set(a, n.host);
  for (const b of model.backends) hostAddrs.set(b.address, b.host);
  for (const p of model.probes) for (const a of Object.values(p.addresses)) if (!hostAddrs.has(a)) hostAddrs.set(a, p.host);
  const seenVip = new Map<string, string>();
  for (const v of model.vips) {
    const net = nets.get(v.network);
    const vipPath = vipSource(model, v.address);
    if (net && !inSubnet(v.address, net.network, net.prefix)) {
      add({ code: 'vip-outside-subnet', instance: v.instance, message: `VIP ${v.address} is outside ${net.subnet}, the subnet of its interface ${net.interface} (network ${v.network})`, fix: `move the VIP into ${net.subnet} or list it under the right network`, path: vipPath });
    } else if (net && isNetworkOrBroadcast(v.address, net.network, net.prefix)) {
      add({ code: 'vip-outside-subnet', instance: v.instance, message: `VIP ${v.address} is the network or broadcast address of ${net.subnet}`, fix: 'pick a usable host address for the VIP', path: vipPath });
    }
    const owner = hostAddrs.get(v.address);
    if (owner) {
      add({ code: 'vip-is-host-address', instance: v.instance, host: owner, message: `VIP ${v.address} is also the address of ${owner}`, fix: 'a VIP must be an address no host owns; pick a free one', path: vipPath });
    }
    const prev = seenVip.get(v.address);
    if (prev !== undefined && prev !== `${v.network}/${v.vrid}`) {
      add({ code: 'vip-duplicate', instance: v.instance, message: `VIP ${v.address} is carried by two virtual routers (${prev} and ${v.network}/${v.vrid})`, fix: 'list each VIP once', path: vipPath });
    }
    seenVip.set(v.address, `${v.network}/${v.vrid}`);
    if (v.masters.length === 0) {
      add({ code: 'vip-no-master', instance: v.instance || undefined, message: `VIP ${v.address} (${v.network}) has no node in state MASTER${v.instance ? '' : ' (no instance carries it)'}`, fix: v.instance ? `set state: MASTER on exactly one node's ${v.instance}` : 'add it to an instance, or remove it from ha.networks', path: vipPath });
    } else if (v.masters.length > 1) {
      add({ code: 'vip-multiple-masters', instance: v.instance, message: `VIP ${v.address} (${v.network}, VRID ${v.vrid}) has ${v.masters.length} masters: ${v.masters.join(', ')}`, fix: `keep state MASTER on one of them and set BACKUP (with a lower priority) on the others`, path: vipPath });
    }
  }
}

/** Backends exist, with TCP ports and addresses inside their network. */
function checkBackends(model: HaModel, add: AddFinding): void {
  const haPath = haPathOf(model);
  const nets = new Map(model.networks.map((n) => [n.name, n]));
  // --- backends ---
  if (model.backends.length === 0) {
    add({ code: 'backends-missing', message: `no backends: group ${model.backendGroup} (ha.backend_group) has no host with an address`, fix: `add the web servers under children.${model.backendGroup}.hosts with addresses`, path: haPath('backend_group') });
  }
  for (const b of model.backends) {
    if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535) {
      add({ code: 'upstream-port', host: b.host, message: `backend ${b.host} port ${b.port} is not a TCP port (1..65535)`, fix: 'backend_port: 80', path: [b.host, 'backend_port'] });
    }
    const net = nets.get(b.network);
    if (net && !inSubnet(b.address, net.network, net.prefix)) {
      add({ severity: 'warning', code: 'address-outside-subnet', host: b.host, message: `backend ${b.host}'s address ${b.address} is outside ${net.subnet} (network ${b.network}); the LBs reach it only through a router`, fix: `check ${b.host}'s addresses`, path: [b.host, 'addresses', b.network] });
    }
  }
}

function vipSource(model: HaModel, address: string): (string | number)[] | undefined {
  for (const n of model.nodes) for (const i of n.instances) if (i.vips.includes(address)) return i.source;
  return undefined;
}
