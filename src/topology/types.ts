// The HA model: every VRRP instance of every load balancer, derived from `ha` in the
// inventory (docs/topology-schema.md). Built by deriveTopology (model.ts), checked by
// checkTopology (check.ts), turned into template data by render.ts.
import type { SourcePos } from '../errors.js';
import type { Secret } from './secret.js';

export type ProfileName = 'default' | 'howto' | 'fast';
export type VrrpState = 'MASTER' | 'BACKUP';
export type FirewallBackendSetting = 'firewalld' | 'nftables' | 'none';

/** Tracking and timing of a profile. The tracking *method* (script/process/file) is chosen per host from facts. */
export interface Profile {
  name: ProfileName;
  /** VRRP version: 2 (PASS auth allowed, whole-second adverts) or 3 (no auth, sub-second adverts). */
  version: 2 | 3;
  /** Seconds between adverts. */
  advertInt: number;
  /** Priority change when nginx is down; 0 = the instance goes to FAULT (and sends a priority-0 advert). */
  weight: number;
  /**
   * Derived priorities: the master at `master`, each later backup `step` lower (floor 1).
   * A backup waits Skew_Time = (256 - priority) / 256 x advert_int after a priority-0
   * advert, so priorities near 255 shorten the handover (docs/topology-schema.md).
   */
  priorities: { master: number; step: number };
  /** Fixed tracking method, or undefined when the role picks one from facts. */
  fixedMethod?: TrackMethod;
  /** vrrp_script settings (used when the method is 'script'). */
  script: { command: string; interval: number; fall: number; rise: number };
}

/** How keepalived learns that nginx died. */
export type TrackMethod = 'script' | 'process' | 'file';

export interface HaNetwork {
  name: string;
  /** Interface on the LBs (a host may override it with `interfaces: {<network>: ifname}`). */
  interface: string;
  /** As written, e.g. "172.16.8.0/24". */
  subnet: string;
  /** Network address, e.g. "172.16.8.0". */
  network: string;
  prefix: number;
}

export interface HaVip {
  address: string;
  network: string;
  vrid: number;
  /** Whether the VRID was written in the inventory (false: derived). */
  vridGiven: boolean;
  /** Name of the VRRP instance carrying this VIP. */
  instance: string;
  /** The LB meant to hold this VIP (MASTER state); undefined when none is. */
  master?: string;
  /** Every LB whose instance for this VIP says MASTER (normally exactly one). */
  masters: string[];
  password?: Secret;
}

export interface VrrpInstance {
  name: string;
  network: string;
  interface: string;
  vrid: number;
  state: VrrpState;
  priority: number;
  vips: string[];
  advertInt: number;
  version: 2 | 3;
  /** PASS password (VRRPv2 only; VRRPv3 has no authentication). */
  authPass?: Secret;
  /** Adverts go to this multicast group (no unicast peers). */
  mcastGroup: string;
  /** Var path of the instance in the inventory ([host, 'vrrp_instances', i] or [lbHost, 'ha', 'networks', n, 'vips', v]). */
  source: (string | number)[];
}

export interface LbNode {
  host: string;
  /** network name -> this host's address on it (no prefix). */
  addresses: Record<string, string>;
  /** network name -> interface on this host. */
  interfaces: Record<string, string>;
  instances: VrrpInstance[];
  firewallBackend?: FirewallBackendSetting;
}

export interface Backend {
  host: string;
  address: string;
  port: number;
  /** Network the LBs reach it on. */
  network: string;
}

export interface Probe {
  host: string;
  addresses: Record<string, string>;
  /** True when no probe group exists and a peer LB stands in. */
  isLb: boolean;
}

export interface SyncGroup {
  name: string;
  /** The LB that is MASTER for every member. */
  master: string;
  instances: string[];
}

export interface HaModel {
  /** 'derived' from ha.networks[].vips, or 'explicit' from per-host vrrp_instances. */
  mode: 'derived' | 'explicit';
  lbGroup: string;
  backendGroup: string;
  probeGroup: string;
  profile: Profile;
  mcastGroup: string;
  sync: boolean;
  /** Only ever true when the inventory asks for it; check flags it. */
  vrrpStrict: boolean;
  /** Port nginx listens on, on the LBs. */
  listenPort: number;
  /** Address transitions are mailed to, if any. */
  notifyMail?: string;
  networks: HaNetwork[];
  vips: HaVip[];
  nodes: LbNode[];
  /** One per LB that masters something, when sync is on; defined identically on every LB. */
  syncGroups: SyncGroup[];
  backends: Backend[];
  probes: Probe[];
  /** Host whose vars `ha` was read from (the first LB); var paths of `ha` start with it. */
  haHost: string;
}

export interface Finding {
  severity: 'error' | 'warning';
  /** Stable identifier, e.g. "priority-tie", "vrid-duplicate", "schema-unknown-key". */
  code: string;
  host?: string;
  instance?: string;
  message: string;
  /** What to change, in the inventory's terms. */
  fix: string;
  /** Var path: [host, ...keys inside that host's merged vars]. */
  path?: (string | number)[];
  pos?: SourcePos;
}

/**
 * Maps a var path to where it was written. path[0] is a host name, the rest is the key path
 * inside that host's merged vars: ['ka67', 'ha', 'networks', 0, 'vips', 1, 'vrid'].
 */
export type PosResolver = (path: (string | number)[]) => SourcePos | undefined;
