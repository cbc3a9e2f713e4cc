// Firewall rules from one policy, for two backends:
// - nftables: a table of our own (inet provision), applied atomically with `nft -f`
//   after `nft -c` validation, persisted under /etc/nftables.d and included from /etc/nftables.conf;
// - firewalld: rich rules in the zone of each interface, runtime and permanent.
// The SSH ports the controller uses always stay open, and established connections are
// accepted first, so the running session cannot be cut.
import { createHash } from 'node:crypto';
import { sh, raw } from '../transport/quote.js';
import type { OpContext, Plan } from './types.js';
import { OpError } from './types.js';
import { run, fact } from './remote.js';
import { nftTable } from '../facts/system.js';
import { firewalldBus, firewalldZones, firewalldState, firewalldInterfaceZones, firewalldZone, zonesOfInterfaces, type FirewalldZones } from '../facts/firewalld.js';
import { planFile, remoteRead } from './files.js';
import { unifiedDiff } from './diff.js';

export interface FirewallPolicy {
  /** TCP ports that must stay open for SSH (the controller's way in). */
  sshPorts: number[];
  /** VRRP adverts accepted: from these peers, to this group, on this interface. */
  vrrp: { iface: string; peers: string[]; group: string }[];
  /** TCP ports accepted, optionally only to some destination addresses / from some sources. */
  tcp: { port: number; daddr?: string[]; saddr?: string[] }[];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IFACE = /^[A-Za-z0-9_.:-]{1,15}$/;

/** Refuse anything that is not an address/interface/port before it reaches a rule text. */
export function validatePolicy(p: FirewallPolicy): void {
  const bad = (what: string, v: unknown) => {
    throw new OpError(`firewall policy: invalid ${what} ${JSON.stringify(v)}`);
  };
  for (const port of [...p.sshPorts, ...p.tcp.map((t) => t.port)]) if (!Number.isInteger(port) || port < 1 || port > 65535) bad('port', port);
  for (const v of p.vrrp) {
    if (!IFACE.test(v.iface)) bad('interface', v.iface);
    if (!IPV4.test(v.group)) bad('multicast group', v.group);
    for (const a of v.peers) if (!IPV4.test(a)) bad('address', a);
  }
  for (const t of p.tcp) for (const a of [...(t.daddr ?? []), ...(t.saddr ?? [])]) if (!IPV4.test(a)) bad('address', a);
}

export const NFT_TABLE = 'provision';
export const NFT_FILE = '/etc/nftables.d/provision.nft';

/** The nftables ruleset: re-creating the table in one transaction (declare, delete, define). */
export function renderNftables(p: FirewallPolicy): string {
  validatePolicy(p);
  const set = (xs: string[]) => (xs.length === 1 ? xs[0] : `{ ${xs.join(', ')} }`);
  const lines = [
    '# Managed by provision (role firewall). Applied with `nft -f`; replaces only this table.',
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    `  comment "${rulesHash(p)}"`,
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    ct state established,related accept',
    '    ct state invalid drop',
    '    iif "lo" accept',
    '    meta l4proto { icmp, ipv6-icmp } accept',
    `    tcp dport ${set([...new Set(p.sshPorts)].map(String))} accept comment "ssh: the controller's way in"`,
  ];
  for (const v of p.vrrp) {
    if (v.peers.length === 0) continue;
    lines.push(`    iifname "${v.iface}" ip saddr ${set(v.peers)} ip daddr ${v.group} ip protocol vrrp accept comment "VRRP from peers"`);
  }
  for (const t of p.tcp) {
    const parts = ['   '];
    if (t.saddr?.length) parts.push(`ip saddr ${set(t.saddr)}`);
    if (t.daddr?.length) parts.push(`ip daddr ${set(t.daddr)}`);
    parts.push(`tcp dport ${t.port} accept`);
    lines.push(parts.join(' '));
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}

/** Plan the nftables backend: the rules file, the include in /etc/nftables.conf, and the live table. */
export async function planNftables(ctx: OpContext, p: FirewallPolicy, opts: { rollbackSeconds?: number } = {}): Promise<Plan> {
  const text = renderNftables(p);
  const file = await planFile(ctx, {
    path: NFT_FILE,
    content: text,
    mode: '0644',
    owner: 'root',
    group: 'root',
    validate: (cand) => sh`nft -c -f ${cand}`,
  });
  const conf = (await remoteRead(ctx, '/etc/nftables.conf')) ?? '';
  const include = `include "${NFT_FILE}"`;
  const needInclude = !conf.split('\n').includes(include);
  // Is the live table the one this file defines? The table carries the rules' hash as its comment.
  const live = await fact(ctx, nftTable, NFT_TABLE);
  const liveDiffers = live === undefined || !live.includes(rulesHash(p));
  if (!file.changed && !needInclude && !liveDiffers) return { changed: false };
  const guard = opts.rollbackSeconds ?? 60;
  return {
    changed: true,
    diff: [file.diff, needInclude && ctx.diff ? unifiedDiff('/etc/nftables.conf', conf, conf + include + '\n') : ''].filter(Boolean).join('\n') || undefined,
    message: [file.changed ? 'rules file' : '', needInclude ? 'include in /etc/nftables.conf' : '', liveDiffers ? 'live table' : ''].filter(Boolean).join(', '),
    apply: async () => {
      await run(ctx, sh`mkdir -p /etc/nftables.d`, 'mkdir /etc/nftables.d');
      if (file.changed) await file.apply!();
      if (needInclude) {
        const base = conf.trim() === '' ? '#!/usr/sbin/nft -f\n' : conf.endsWith('\n') ? conf : conf + '\n';
        await ctx.transport.put('/etc/nftables.conf', base + include + '\n', { mode: '0755', owner: 'root', group: 'root' });
      }
      // A dead man's switch: unless we confirm, the table is removed after `guard` seconds,
      // so even a ruleset that somehow cut new SSH connections heals itself.
      const timer = await run(
        ctx,
        sh`nohup setsid sh -c ${`sleep ${guard}; nft delete table inet ${NFT_TABLE}`} >/dev/null 2>&1 </dev/null & echo $!`,
        'arm rollback timer',
      );
      const pid = timer.stdout.trim();
      await run(ctx, sh`nft -f ${NFT_FILE}`, 'nft -f');
      if (ctx.probeNewConnection) await ctx.probeNewConnection();
      if (/^\d+$/.test(pid)) await ctx.transport.exec(sh`kill ${pid}`);
    },
  };
}

/** Identifies a policy: stored as the live table's comment, so "is the live table current" is one lookup. */
export function rulesHash(p: FirewallPolicy): string {
  return 'provision-sha256:' + createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 16);
}

/** firewalld rich rules for the policy, per zone. */
export function firewalldRichRules(p: FirewallPolicy): string[] {
  validatePolicy(p);
  const rules: string[] = [];
  for (const v of p.vrrp) {
    for (const peer of v.peers) rules.push(`rule family="ipv4" source address="${peer}" destination address="${v.group}" protocol value="vrrp" accept`);
  }
  for (const t of p.tcp) {
    const srcs = t.saddr?.length ? t.saddr : [undefined];
    const dsts = t.daddr?.length ? t.daddr : [undefined];
    for (const s of srcs)
      for (const d of dsts) {
        rules.push(`rule family="ipv4"${s ? ` source address="${s}"` : ''}${d ? ` destination address="${d}"` : ''} port port="${t.port}" protocol="tcp" accept`);
      }
  }
  return rules;
}

/** Normalise a rich rule as firewalld prints it back (it re-orders nothing, but may drop quotes). */
export function normalizeRich(r: string): string {
  return r.replace(/"/g, '').replace(/\s+/g, ' ').trim();
}

/** firewalld's state as the plan needs it: running, the zone of each interface, each zone's runtime and permanent content. */
export interface FirewalldState {
  running: boolean;
  /** Why it is not running (firewall-cmd's or busctl's message). */
  message?: string;
  zones: FirewalldZones;
}

/**
 * Read firewalld's state over D-Bus: two round trips, five calls for one zone whatever the
 * number of interfaces, no Python. With dbus-send (libdbus's small client) when the host has
 * it, else with busctl (systemd >= 240's client; its `--json` output is needed). firewalld >=
 * 0.9's getZoneSettings2 is needed either way. firewall-cmd starts a Python interpreter per
 * call, several times what the D-Bus clients take for the same reads. Returns undefined when
 * neither client can answer (not installed, too old, output not as expected): the caller then
 * asks firewall-cmd.
 */
export async function readFirewalldBus(ctx: OpContext, ifaces: string[]): Promise<FirewalldState | undefined> {
  const bus = await fact(ctx, firewalldBus);
  if (bus.state === 'unknown') return undefined;
  if (bus.state === 'down') return { running: false, message: bus.message, zones: new Map() };
  const zones = zonesOfInterfaces(bus, ifaces);
  if (!zones) return undefined;
  const settings = await fact(ctx, firewalldZones, bus.via, ...zones);
  return settings && { running: true, zones: settings };
}

/** The same reads through firewall-cmd: one Python start per call, so only where no D-Bus client can answer. */
async function readFirewalldCmd(ctx: OpContext, ifaces: string[]): Promise<FirewalldState> {
  const state = await fact(ctx, firewalldState);
  if (!state.running) return { running: false, message: state.message, zones: new Map() };
  const out: FirewalldState = { running: true, zones: new Map() };
  if (ifaces.length === 0) return out;
  for (const zone of await fact(ctx, firewalldInterfaceZones, ...(ifaces as [string, ...string[]]))) {
    out.zones.set(zone, { runtime: await fact(ctx, firewalldZone, zone, 'runtime'), permanent: await fact(ctx, firewalldZone, zone, 'permanent') });
  }
  return out;
}

export async function planFirewalld(ctx: OpContext, p: FirewallPolicy, ifaces: string[]): Promise<Plan> {
  const want = firewalldRichRules(p);
  const state = (await readFirewalldBus(ctx, ifaces)) ?? (await readFirewalldCmd(ctx, ifaces));
  if (ctx.check && !state.running) {
    // Check mode after a planned install/start: nothing to ask yet, every rule would be added.
    return { changed: true, message: `firewalld not running yet: ${want.length} rich rule(s) and the SSH port(s) would be added` };
  }
  if (!state.running) throw new OpError(`firewalld is not running: ${state.message ?? ''}`.trim());
  const zones = [...state.zones.keys()];
  const todo: { zone: string; rule: string; permanent: boolean }[] = [];
  const sshTodo: { zone: string; port: number; permanent: boolean }[] = [];
  for (const [zone, both] of state.zones) {
    for (const permanent of [false, true]) {
      const have = permanent ? both.permanent : both.runtime;
      const haveSet = new Set(have.rich.map(normalizeRich));
      for (const rule of want) if (!haveSet.has(normalizeRich(rule))) todo.push({ zone, rule, permanent });
      for (const port of p.sshPorts) {
        if (!(have.ports.includes(`${port}/tcp`) || (port === 22 && have.services.includes('ssh')))) sshTodo.push({ zone, port, permanent });
      }
    }
  }
  if (todo.length === 0 && sshTodo.length === 0) return { changed: false };
  return {
    changed: true,
    message: `${todo.length} rich rule(s)${sshTodo.length ? `, ssh port(s) ${[...new Set(sshTodo.map((s) => s.port))].join(',')}` : ''} in zone(s) ${zones.join(', ')}`,
    apply: async () => {
      // Open SSH first, then add rules: firewalld only adds here, so the session is never cut.
      for (const s of sshTodo) await run(ctx, sh`firewall-cmd ${s.permanent ? ['--permanent'] : []} --zone=${s.zone} --add-port=${`${s.port}/tcp`}`, 'open ssh port');
      for (const t of todo) await run(ctx, sh`firewall-cmd ${t.permanent ? ['--permanent'] : []} --zone=${t.zone} --add-rich-rule=${t.rule}`, 'add rich rule');
    },
  };
}
