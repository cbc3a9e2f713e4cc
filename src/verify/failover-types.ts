// The failover measurement's options and report (./failover.ts), and what its steps share.
import type { Transport } from '../transport/types.js';
import type { HaModel } from '../topology/types.js';
import type { Connect } from './cluster.js';
import type { GapResult } from './parse.js';
import type { LbTransition, ProbeTrace, TimelineEvent } from './timeline.js';

/** The fault injected on a load balancer. */
export type FailoverMode = 'nginx' | 'keepalived' | 'poweroff';
export const FAILOVER_MODES: readonly FailoverMode[] = ['nginx', 'keepalived', 'poweroff'];
/** Probe loop defaults: a request every 20 ms per VIP, given up after 50 ms. */
export const DEFAULT_RATE_HZ = 50;
export const DEFAULT_TIMEOUT_MS = 50;

/** Power of a host, for mode poweroff (the lab: labPowerOff / labPowerOn). */
export interface PowerControl {
  /** Cut the power: resolves once the host is off. */
  off(host: string): Promise<void>;
  /** Power on: resolves once the host answers SSH again. */
  on(host: string): Promise<void>;
}

export interface FailoverOptions {
  /** The fault (default nginx). */
  mode?: FailoverMode;
  /** Required for mode poweroff. */
  power?: PowerControl;
  /**
   * A new connection to a host that was powered off and on again (mode poweroff; default
   * `connect` itself, which must then not cache). Transports it returns are closed here.
   */
  reconnect?: Connect;
  /** LBs to fail, in this order (default: every LB that masters a VIP, in inventory order). */
  lbs?: string[];
  /** Requests before nginx is killed / started, in ms (default 1000). */
  baselineMs?: number;
  /** Requests per second per VIP (default 50, at least 20). */
  rateHz?: number;
  /** Per-request timeout in ms, per step (connect, response; default 50). */
  requestTimeoutMs?: number;
  /** How long the peer may take to hold L's VIPs after nginx died (default 20000). */
  takeoverTimeoutMs?: number;
  /** How long L may take to hold its VIPs again after nginx started (default 30000). */
  preemptTimeoutMs?: number;
  /** Requests kept running after the VIPs moved, in ms (default 1500). */
  settleMs?: number;
  /** Interval of `ip addr` polls, in ms (default 250). */
  pollMs?: number;
  /** Hard limit of one probe loop, in seconds (default 120). */
  maxLoopSeconds?: number;
  /** Fail when a client-observed gap exceeds this many ms (default: report only). */
  maxGapMs?: number;
  /** The service killed in mode nginx, whose death must move the VIPs (default "nginx"). */
  service?: string;
  /** Port the VIPs are requested on (default: the model's listenPort). */
  port?: number;
  /** Progress lines ("killing nginx on ka67"), for the CLI. */
  onProgress?: (message: string) => void;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface FailoverVipResult {
  vip: string;
  network: string;
  vrid: number;
  /** Host the requests came from. */
  probe: string;
  /** The loop while nginx was killed and the peer took over. */
  failover?: GapResult;
  /** The loop while nginx was started and L took the VIP back. */
  preempt?: GapResult;
  /** Every request of each loop, for the timeline of the HTML report. */
  trace?: { failover?: ProbeTrace; preempt?: ProbeTrace };
}

export interface FailoverLbResult {
  lb: string;
  mode: FailoverMode;
  /** VIPs L masters. */
  vips: string[];
  ok: boolean;
  /** Why it failed (every problem, in order). */
  problems: string[];
  /** VIP -> LBs holding it after the takeover. */
  takeoverBy: Record<string, string[]>;
  /** VIP -> the LB expected to take it over (highest-priority backup). */
  expectedPeer: Record<string, string>;
  /** Controller-side ms from the fault (its injection done) until the peer held every VIP (undefined: never). */
  takeoverMs?: number;
  /** Controller-side ms from the start of the repair (systemctl start, power on) until L held every VIP again. */
  preemptMs?: number;
  /** Mode poweroff: ms from power on until L answered SSH again. */
  bootMs?: number;
  /** L holds its VIPs and runs nginx again at the end. */
  restored: boolean;
  results: FailoverVipResult[];
  /** What was done, in order (for the report). */
  steps: string[];
  /** The same steps' instants (controller clock), for the timeline. */
  events?: TimelineEvent[];
  /** VRRP state changes the LBs logged during both loops. */
  transitions?: LbTransition[];
}

export interface FailoverReport {
  ok: boolean;
  mode: FailoverMode;
  lbs: FailoverLbResult[];
}

/** What the steps of one run share (internal to the failover modules). */
export interface FailoverCtx {
  model: HaModel;
  conn: Connect;
  /** LBs powered off right now. */
  off: Set<string>;
  /** Replace a host's transport after it was powered on again. */
  renew(host: string): Promise<Transport>;
  o: Required<Omit<FailoverOptions, 'lbs' | 'maxGapMs' | 'onProgress' | 'port' | 'power' | 'reconnect'>> &
    Pick<FailoverOptions, 'maxGapMs' | 'onProgress' | 'power'> & { port: number };
}

/** Inject and repair one kind of fault on an LB. */
export interface Fault {
  /** What must run on L before (e.g. nginx, keepalived). */
  needs: string[];
  injectLabel: string;
  inject(): Promise<void>;
  repairLabel: string;
  repair(): Promise<void>;
}

