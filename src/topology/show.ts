// The VRRP layout as an operator reviews it before applying (`provision check --show`, and
// after a `--check` run): per network and VIP, the VRID, the master and the backups in
// priority order, how nginx is tracked, the advert interval and the failover times to expect.
// Everything is read from keepalivedConfData, the data the keepalived.conf template renders,
// so the table cannot disagree with the configs.
import { chooseTrackMethod, keepalivedConfData, type KeepalivedConfData, type Tracker } from './render.js';
import { expectedFailover, type ExpectedFailover } from './show-timing.js';
import type { HaModel, HaVip, ProfileName, TrackMethod, VrrpState } from './types.js';

export interface PlanMember {
  host: string;
  priority: number;
  state: VrrpState;
  interface: string;
  /** The host's own address on the VIP's network, when the inventory gives one. */
  address?: string;
}

export interface PlanTracking {
  method: TrackMethod;
  /** The keepalived block: "track_process nginx_process", "vrrp_script chk_nginx", ... */
  block: string;
  weight: number;
  /** The block's settings in keepalived's words. */
  detail: string;
  /** Where this method is chosen ("facts of ka67", "profile howto", "VMs and bare metal", ...). */
  when: string;
}

export interface PlanVip {
  address: string;
  network: string;
  vrid: number;
  instance: string;
  master?: PlanMember;
  /** The other LBs' instances for this VIP, highest priority first (the first takes over). */
  backups: PlanMember[];
  /** advert_int as rendered (seconds). */
  advertInt: number;
  version: 2 | 3;
  /** The master's tracking: one entry, or one per method the master may get from its facts. */
  tracking: PlanTracking[];
  /** Per tracking entry (same order), what to expect when the master fails; empty without a master and a backup. */
  expected: ExpectedFailover[];
  /** Problems that make the row incomplete (no master, several masters, no backup). */
  notes: string[];
}

export interface PlanNetwork {
  name: string;
  interface: string;
  subnet: string;
  vips: PlanVip[];
}

export interface HaPlan {
  mode: HaModel['mode'];
  profile: ProfileName;
  mcastGroup: string;
  networks: PlanNetwork[];
}

/** What is known of an LB for its tracking method: its facts (a `--check` run), or nothing. */
export interface HostTracking {
  container: boolean;
  keepalivedVersion: string | null;
}

/** Tracking methods a host may get: the profile's fixed one, the one its facts choose, or both candidates. */
function candidates(model: HaModel, host: string, known?: HostTracking): { method: TrackMethod; version: string | null; when: string }[] {
  if (model.profile.fixedMethod) return [{ method: model.profile.fixedMethod, version: known?.keepalivedVersion ?? null, when: `profile ${model.profile.name}` }];
  if (known) return [{ method: chooseTrackMethod(known), version: known.keepalivedVersion, when: `facts of ${host}` }];
  return [
    { method: 'process', version: null, when: 'VMs and bare metal' },
    { method: 'file', version: null, when: 'containers' },
  ];
}

export function describeTracker(t: Tracker): Pick<PlanTracking, 'block' | 'weight' | 'detail'> {
  switch (t.kind) {
    case 'script':
      return { block: `vrrp_script ${t.name}`, weight: t.weight, detail: `"${t.script}" interval ${t.interval} fall ${t.fall} rise ${t.rise}` };
    case 'process':
      return { block: `track_process ${t.name}`, weight: t.weight, detail: `process ${t.process} quorum ${t.quorum}` };
    case 'file':
      return { block: `${t.keyword} ${t.name}`, weight: t.weight, detail: `file ${t.file} init_file ${t.initValue}` };
  }
}

/** The rendered instance of `vip` in one node's config data, as a plan member. */
function memberOf(model: HaModel, data: KeepalivedConfData, vip: HaVip): PlanMember | undefined {
  const i = data.instances.find((x) => x.vrid === vip.vrid && x.vips.some((v) => v.address === vip.address));
  if (!i) return undefined;
  const address = model.nodes.find((n) => n.host === data.hostname)?.addresses[vip.network];
  return { host: data.hostname, priority: i.priority, state: i.state, interface: i.interface, ...(address ? { address } : {}) };
}

/**
 * The plan of every VIP. `known` holds the facts of LBs whose tracking method is known (a
 * `--check` run); the others show every method they may get.
 */
export function haPlan(model: HaModel, known: Record<string, HostTracking> = {}): HaPlan {
  // Every LB's config data, once per candidate method (only the tracker differs between them).
  const rendered = new Map<string, { when: string; method: TrackMethod; data: KeepalivedConfData }[]>();
  for (const n of model.nodes) {
    rendered.set(
      n.host,
      candidates(model, n.host, known[n.host]).map((c) => ({ when: c.when, method: c.method, data: keepalivedConfData(model, n.host, { trackMethod: c.method, keepalivedVersion: c.version }) })),
    );
  }
  const networks: PlanNetwork[] = model.networks.map((net) => ({ name: net.name, interface: net.interface, subnet: net.subnet, vips: [] }));
  for (const vip of model.vips) {
    const net = networks.find((n) => n.name === vip.network);
    if (net) net.vips.push(vipPlan(model, vip, rendered));
  }
  return { mode: model.mode, profile: model.profile.name, mcastGroup: model.mcastGroup, networks };
}

function vipPlan(model: HaModel, vip: HaVip, rendered: Map<string, { when: string; method: TrackMethod; data: KeepalivedConfData }[]>): PlanVip {
  const members = model.nodes.flatMap((n) => {
    const m = memberOf(model, rendered.get(n.host)![0].data, vip);
    return m ? [m] : [];
  });
  const notes: string[] = [];
  if (vip.masters.length > 1) notes.push(`${vip.masters.length} instances say MASTER: ${vip.masters.join(', ')}`);
  const master = members.find((m) => m.host === vip.master);
  if (!master) notes.push('no instance says MASTER');
  const backups = members.filter((m) => m !== master).sort((a, b) => b.priority - a.priority);
  if (master && backups.length === 0) notes.push('no backup: nothing takes this VIP over');
  if (master && backups[0] && backups[0].priority >= master.priority) notes.push(`backup ${backups[0].host} has priority ${backups[0].priority}, not below the master's ${master.priority}: it may hold the VIP instead`);
  const first = master ?? backups[0];
  const inst = first ? rendered.get(first.host)![0].data.instances.find((i) => i.vrid === vip.vrid && i.vips.some((v) => v.address === vip.address)) : undefined;
  const advertInt = Number(inst?.advertInt ?? model.profile.advertInt);
  const version = inst?.version ?? model.profile.version;
  const tracking: PlanTracking[] = [];
  const expected: ExpectedFailover[] = [];
  for (const r of master ? rendered.get(master.host)! : []) {
    tracking.push({ method: r.method, when: r.when, ...describeTracker(r.data.tracker) });
    if (backups[0]) expected.push(expectedFailover({ tracker: r.data.tracker, masterPriority: master!.priority, peerPriority: backups[0].priority, advertInt, version }));
  }
  return { address: vip.address, network: vip.network, vrid: vip.vrid, instance: vip.instance, ...(master ? { master } : {}), backups, advertInt, version, tracking, expected, notes };
}
