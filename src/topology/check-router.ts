// The rules of `provision check` for each virtual router (the instances sharing network,
// multicast group and VRID): VRID range and uniqueness, priorities and who VRRP elects,
// tracking weight, PASS passwords, and instance names swapped between networks.
import { compareIpv4 } from './ip.js';
import type { HaModel, VrrpInstance } from './types.js';
import type { AddFinding } from './check.js';

interface Member {
  host: string;
  inst: VrrpInstance;
  /** Primary address of the node on the instance's network (VRRP's tie-breaker). */
  ip?: string;
}

/** The nodes of one virtual router: instances sharing network, multicast group and VRID. */
interface Router {
  network: string;
  vrid: number;
  members: Member[];
}

function routersOf(model: HaModel): Router[] {
  const map = new Map<string, Router>();
  for (const node of model.nodes) {
    for (const inst of node.instances) {
      const key = `${inst.network}|${inst.mcastGroup}|${inst.vrid}`;
      let r = map.get(key);
      if (!r) map.set(key, (r = { network: inst.network, vrid: inst.vrid, members: [] }));
      r.members.push({ host: node.host, inst, ip: node.addresses[inst.network] });
    }
  }
  return [...map.values()];
}

const label = (r: Router) => {
  const names = [...new Set(r.members.map((m) => m.inst.name))].join('/');
  const vips = [...new Set(r.members.flatMap((m) => m.inst.vips))].join(', ');
  return `VRID ${r.vrid} on ${r.network} (${names}${vips ? `: ${vips}` : ''})`;
};
const vidPath = (m: Member, key?: string): (string | number)[] => (key ? [...m.inst.source, key] : m.inst.source);
const who = (m: Member) => `${m.host}${m.ip ? ` (${m.ip})` : ''}`;

/** Order members as VRRP would elect them: priority, then higher primary IP. */
function electionOrder(ms: Member[]): Member[] {
  return [...ms].sort((a, b) => b.inst.priority - a.inst.priority || compareIpv4(b.ip ?? '', a.ip ?? ''));
}

/** What one router's rules share. */
interface RouterCtx {
  model: HaModel;
  add: AddFinding;
  r: Router;
  first: Member;
  lbl: string;
}

/** Every router's rules, then those across routers (a VRID on several networks, v3 passwords). */
export function checkRouters(model: HaModel, add: AddFinding): void {
  const byVrid = new Map<number, Set<string>>();
  const reportedPasswords = new Set<string>();
  for (const r of routersOf(model)) {
    if (!byVrid.has(r.vrid)) byVrid.set(r.vrid, new Set());
    byVrid.get(r.vrid)!.add(r.network);
    const c: RouterCtx = { model, add, r, first: r.members[0], lbl: label(r) };
    if (!checkRouterBasics(c)) continue;
    const masterByState = checkPriorities(c);
    checkWeight(c, masterByState);
    checkPasswords(c, reportedPasswords);
    checkInstanceNames(c);
  }
  const haPath = (...p: (string | number)[]) => [model.haHost, 'ha', ...p];
  for (const [vrid, ns] of byVrid) {
    if (ns.size > 1) {
      add({ severity: 'warning', code: 'vrid-reused', message: `VRID ${vrid} is used on several networks (${[...ns].join(', ')}); allowed, but some switches mishandle the same VRID on different interfaces`, fix: 'give each virtual router a VRID unique in the topology' });
    }
  }
  if (model.profile.version === 3 && model.vips.some((v) => v.password)) {
    add({ severity: 'warning', code: 'password-v3', message: `profile ${model.profile.name} runs VRRPv3, which has no authentication: the password is not used`, fix: 'remove the password, or use profile default (VRRPv2)', path: haPath('password') });
  }
}

/** VRID range, one router per VRID and network, a backup, priority range, matching VRRP parameters; false: the other rules do not apply. */
function checkRouterBasics({ add, r, first, lbl }: RouterCtx): boolean {
  if (!Number.isInteger(r.vrid) || r.vrid < 1 || r.vrid > 255) {
    add({ code: 'vrid-range', instance: first.inst.name, message: `${lbl}: VRID ${r.vrid} is outside 1..255`, fix: 'use a VRID between 1 and 255 (or omit vrid to derive one)', path: vidPath(first, 'vrid') });
  }
  // Two different routers on one network with one VRID: different VIP sets, or one node twice.
  const vipSets = new Set(r.members.map((m) => [...m.inst.vips].sort().join(',')));
  const hostsSeen = new Set<string>();
  const dupHost = r.members.find((m) => (hostsSeen.has(m.host) ? true : (hostsSeen.add(m.host), false)));
  if (vipSets.size > 1 || dupHost) {
    const names = [...new Set(r.members.map((m) => `${m.host}:${m.inst.name}`))].join(', ');
    add({ code: 'vrid-duplicate', instance: first.inst.name, host: dupHost?.host, message: `VRID ${r.vrid} is used twice on network ${r.network} (same interface network and multicast group ${first.inst.mcastGroup}) by ${names}${vipSets.size > 1 ? ` with different VIPs (${[...vipSets].join(' | ')})` : ''}`, fix: 'give each virtual router its own VRID on a network', path: vidPath(dupHost ?? first, 'vrid') });
    return false; // the other rules assume one router
  }
  if (r.members.length === 1) {
    add({ severity: 'warning', code: 'vip-no-backup', instance: first.inst.name, host: first.host, message: `${lbl}: only ${first.host} runs this instance; no node backs it up`, fix: 'define the instance on another load balancer too', path: vidPath(first) });
  }
  for (const m of r.members) {
    if (!Number.isInteger(m.inst.priority) || m.inst.priority < 1 || m.inst.priority > 254) {
      add({ code: 'priority-range', host: m.host, instance: m.inst.name, message: `${m.host} ${m.inst.name}: priority ${m.inst.priority} is outside 1..254 (255 means address owner, which tracking cannot lower)`, fix: 'use a priority between 1 and 254', path: vidPath(m, 'priority') });
    }
  }
  const versions = new Set(r.members.map((m) => m.inst.version));
  const adverts = new Set(r.members.map((m) => m.inst.advertInt));
  if (versions.size > 1 || adverts.size > 1) {
    add({ code: 'vrrp-params-mismatch', instance: first.inst.name, message: `${lbl}: nodes disagree on ${versions.size > 1 ? `VRRP version (${[...versions].join(' vs ')})` : `advert_int (${[...adverts].join(' vs ')})`}; adverts from the other side are dropped`, fix: 'use the same version and advert_int on every node', path: vidPath(first) });
  }
  for (const m of r.members) {
    if (m.inst.version === 2 && !Number.isInteger(m.inst.advertInt)) {
      add({ code: 'advert-int-v2', host: m.host, instance: m.inst.name, message: `${m.host} ${m.inst.name}: VRRPv2 advert_int ${m.inst.advertInt} is not whole seconds; keepalived rounds it (and \`keepalived -t\` fails)`, fix: 'use a whole number, or profile fast (VRRPv3) for sub-second adverts', path: vidPath(m, 'advert_int') });
      break;
    }
  }
  return true;
}

/** Priority ties, who wins them, and whether the node meant to be MASTER is elected; returns the MASTERs by state. */
function checkPriorities({ model, add, r, first, lbl }: RouterCtx): Member[] {
  const order = electionOrder(r.members);
  const byPrio = new Map<number, Member[]>();
  for (const m of r.members) byPrio.set(m.inst.priority, [...(byPrio.get(m.inst.priority) ?? []), m]);
  const top = order[0].inst.priority;
  for (const [prio, ms] of byPrio) {
    if (ms.length < 2) continue;
    const tied = electionOrder(ms);
    const winner = tied[0];
    const intended = ms.find((m) => m.inst.state === 'MASTER');
    const losers = tied.slice(1);
    const lose = losers.find((m) => m.inst.state === 'BACKUP') ?? losers[0];
    const unknownIp = ms.some((m) => !m.ip);
    const verdict = unknownIp
      ? `VRRP breaks the tie by the higher primary IP, which is unknown for ${ms.filter((m) => !m.ip).map((m) => m.host).join(', ')}`
      : `VRRP breaks the tie by the higher primary IP, so ${who(winner)} would win over ${tied.slice(1).map(who).join(', ')}`;
    const meant = intended && !unknownIp && intended.host !== winner.host ? `, taking the VIP meant for ${intended.host}` : '';
    const fixTarget = intended && intended.host !== winner.host ? winner : lose;
    add({
      severity: prio === top ? 'error' : 'warning',
      code: 'priority-tie',
      host: fixTarget.host,
      instance: first.inst.name,
      message: `${lbl}: ${ms.map((m) => `${m.host} (${m.inst.state})`).join(' and ')} have the same priority ${prio}; ${verdict}${meant}`,
      fix: `lower ${fixTarget.host}'s ${fixTarget.inst.name} priority below ${prio} (e.g. ${Math.max(1, prio - model.profile.priorities.step)}), keeping the MASTER highest`,
      path: vidPath(fixTarget, 'priority'),
    });
  }
  const masterByState = r.members.filter((m) => m.inst.state === 'MASTER');
  if (masterByState.length === 1 && order[0].host !== masterByState[0].host && order[0].inst.priority > masterByState[0].inst.priority) {
    add({ severity: 'warning', code: 'state-priority-mismatch', host: order[0].host, instance: first.inst.name, message: `${lbl}: ${masterByState[0].host} is MASTER by state but ${order[0].host} has the higher priority (${order[0].inst.priority} > ${masterByState[0].inst.priority}) and will take the VIP once it hears an advert`, fix: `give the MASTER the highest priority`, path: vidPath(order[0], 'priority') });
  }
  return masterByState;
}

/** A negative tracking weight must bring the master below the best backup, or nginx's death never moves the VIP. */
function checkWeight({ model, add, r, first, lbl }: RouterCtx, masterByState: Member[]): void {
  const order = electionOrder(r.members);
  const w = model.profile.weight;
  if (w < 0 && r.members.length > 1) {
    const master = masterByState[0] ?? order[0];
    const others = order.filter((m) => m !== master);
    const best = others[0];
    const lowered = master.inst.priority + w;
    const strictlyBelow = lowered < best.inst.priority;
    const tieLoses = lowered === best.inst.priority && compareIpv4(best.ip ?? '', master.ip ?? '') > 0;
    if (!strictlyBelow && !tieLoses) {
      add({
        code: 'weight-ineffective',
        host: master.host,
        instance: first.inst.name,
        message: `${lbl}: with tracking weight ${w}, ${master.host} drops from ${master.inst.priority} only to ${lowered}, not below ${best.host}'s ${best.inst.priority}${lowered === best.inst.priority ? ' (a tie it wins by its higher IP)' : ''}; the VIP stays on a node whose nginx is dead`,
        fix: `keep the gap between MASTER and best BACKUP smaller than ${-w} (e.g. ${master.inst.priority} and ${Math.max(1, master.inst.priority - Math.max(1, Math.floor(-w / 2)))}), or use profile default (weight 0: FAULT)`,
        path: vidPath(master, 'priority'),
      });
    } else if (!strictlyBelow && tieLoses) {
      add({ severity: 'warning', code: 'weight-ineffective', host: master.host, instance: first.inst.name, message: `${lbl}: with tracking weight ${w}, ${master.host} drops to ${lowered}, equal to ${best.host}'s ${best.inst.priority}; failover relies on the IP tie-break`, fix: `make the gap smaller than ${-w}`, path: vidPath(master, 'priority') });
    }
  }
}

/** PASS passwords (VRRPv2): length, characters, the same on every node; each reported once. */
function checkPasswords({ add, r, first, lbl }: RouterCtx, reportedPasswords: Set<string>): void {
  const v2 = r.members.filter((m) => m.inst.version === 2 && m.inst.authPass);
  for (const m of v2) {
    const p = m.inst.authPass!;
    // A password from env/file is reported once; inline ones once per router.
    const key = p.source === 'inline' ? `inline ${r.network}/${r.vrid}` : p.source;
    if (reportedPasswords.has(key)) continue;
    reportedPasswords.add(key);
    if (p.length > 8) {
      add({ code: 'password-too-long', host: m.host, instance: m.inst.name, message: `${lbl}: the PASS password (${p.source}) has ${p.length} characters; keepalived silently uses only the first 8`, fix: 'use a password of at most 8 characters (PASS auth is a typo guard, not security)', path: vidPath(m, 'password') });
    }
    if (p.matches(/[\s#!"'\\]/) || p.matches(/[^\x21-\x7e]/)) {
      add({ code: 'password-invalid', host: m.host, instance: m.inst.name, message: `${lbl}: the PASS password (${p.source}) holds a space, quote, backslash, # or ! (keepalived.conf comment characters) or a non-ASCII character`, fix: 'use letters and digits', path: vidPath(m, 'password') });
    }
  }
  if (v2.length > 1 && v2.some((m) => !m.inst.authPass!.equals(v2[0].inst.authPass!))) {
    add({ code: 'password-mismatch', instance: first.inst.name, message: `${lbl}: nodes use different PASS passwords; each drops the other's adverts and both become MASTER`, fix: 'use one password per VIP on every node', path: vidPath(v2[0], 'password') });
  } else if (v2.length > 0 && v2.length < r.members.filter((m) => m.inst.version === 2).length) {
    add({ code: 'password-mismatch', instance: first.inst.name, message: `${lbl}: some nodes authenticate with PASS and others do not`, fix: 'set the password on every node', path: vidPath(v2[0], 'password') });
  }
}

/** The how-to's swapped names: an instance named after one network sitting on another. */
function checkInstanceNames({ model, add, r }: RouterCtx): void {
  const nets = new Map(model.networks.map((n) => [n.name, n]));
  for (const name of new Set(r.members.map((m) => m.inst.name))) {
    const named = model.networks.find((n) => n.name !== r.network && new RegExp(`^${escapeRe(n.name)}(?:[_\\-.\\d]|$)`, 'i').test(name));
    if (named) {
      const m = r.members.find((x) => x.inst.name === name)!;
      add({ severity: 'warning', code: 'instance-name-swapped', host: m.host, instance: name, message: `instance ${name} is named after network ${named.name} but sits on ${r.network} (${m.inst.interface}${nets.get(r.network) ? `, ${nets.get(r.network)!.subnet}` : ''})`, fix: `rename it ${r.network.toUpperCase()}_<n>`, path: vidPath(m, 'name') });
    }
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
