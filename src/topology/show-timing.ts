// The failover times a VRRP layout should give, from keepalived's timers alone (RFC 3768 /
// 5798): a backup that hears a priority-0 advert (its master's instance went to FAULT, or
// keepalived stopped) takes over after Skew_Time = (256 - priority) / 256 x the advert
// interval; a backup that hears nothing (the master lost power) waits Master_Down_Interval =
// 3 x the advert interval + Skew_Time from the last advert it heard. These numbers are the
// window in which no node holds the VIP; a client sees a little more (ARP, its own timeouts).
import type { Tracker } from './render.js';

/** A time window in ms: the earliest and the latest the takeover can come. */
export interface MsRange {
  minMs: number;
  maxMs: number;
}

export interface ExpectedFailover {
  /** Advert interval on the wire, in ms. */
  advertMs: number;
  /** Skew_Time of the backup that takes over. */
  skewMs: number;
  /** nginx dies on the master; null when its priority does not fall below the backup's. */
  nginx: MsRange | null;
  /** keepalived stops on the master (it sends a priority-0 advert on its way out). */
  keepalivedStop: MsRange;
  /** The master loses power: silence until the backup's master-down timer runs out. */
  powerOff: MsRange;
  /** Why nginx's death moves nothing, when it does not. */
  note?: string;
}

/** What VRRP puts on the wire for an advert_int: v2 whole seconds (at least 1), v3 centiseconds. */
export function wireIntervalMs(inst: { advertInt: number; version: 2 | 3 }): number {
  if (inst.version === 2) return Math.max(1, Math.round(inst.advertInt)) * 1000;
  return Math.max(1, Math.round(inst.advertInt * 100)) * 10;
}

/** Skew_Time of a backup with this priority, in ms (rounded to 0.1 ms). */
export function skewMs(priority: number, advertMs: number): number {
  return Math.round(((256 - priority) * advertMs * 10) / 256) / 10;
}

const span = (a: number, b: number): MsRange => ({ minMs: Math.round(a * 10) / 10, maxMs: Math.round(b * 10) / 10 });

/** How long after nginx's death the master's tracker says so: [earliest, latest] in ms. */
export function detectionMs(tracker: Tracker): MsRange {
  // track_process (netlink) and track_file (nginx's ExecStopPost writes the file) react at once;
  // a script is polled: the first failing run comes within one interval, then fall - 1 more.
  if (tracker.kind !== 'script') return span(0, 0);
  return span((tracker.fall - 1) * tracker.interval * 1000, tracker.fall * tracker.interval * 1000);
}

/**
 * Expected takeover windows when the master (priority `masterPriority`, tracker `tracker`)
 * fails and the backup with `peerPriority` takes over.
 */
export function expectedFailover(o: { tracker: Tracker; masterPriority: number; peerPriority: number; advertInt: number; version: 2 | 3 }): ExpectedFailover {
  const advertMs = wireIntervalMs(o);
  const skew = skewMs(o.peerPriority, advertMs);
  const down = span(2 * advertMs + skew, 3 * advertMs + skew);
  const det = detectionMs(o.tracker);
  let nginx: MsRange | null;
  let note: string | undefined;
  if (o.tracker.weight === 0) {
    // FAULT at once, and a priority-0 advert: the backup waits only its skew.
    nginx = span(det.minMs + skew, det.maxMs + skew);
  } else {
    const lowered = Math.min(254, Math.max(1, o.masterPriority + o.tracker.weight));
    if (lowered >= o.peerPriority) {
      nginx = null;
      note = `priority ${o.masterPriority} ${o.tracker.weight >= 0 ? '+' : '-'} ${Math.abs(o.tracker.weight)} = ${lowered} is not below the backup's ${o.peerPriority}`;
    } else {
      // The master keeps advertising at its lowered priority, which a preempting backup
      // ignores: it waits its master-down timer from the last advert it accepted.
      nginx = span(det.minMs + down.minMs, det.maxMs + down.maxMs);
    }
  }
  return { advertMs, skewMs: skew, nginx, keepalivedStop: span(skew, skew), powerOff: down, ...(note ? { note } : {}) };
}

/** "27 ms", "2.03 s", "4.6–7.6 s". */
export function fmtRange(r: MsRange | null): string {
  if (!r) return 'never';
  const one = (ms: number, unit: 's' | 'ms') => (unit === 'ms' ? `${Math.round(ms)}` : `${+(ms / 1000).toFixed(2)}`);
  const unit = r.maxMs >= 1000 ? 's' : 'ms';
  if (Math.abs(r.maxMs - r.minMs) < 0.5) return `${one(r.maxMs, unit)} ${unit}`;
  return `${one(r.minMs, unit)}–${one(r.maxMs, unit)} ${unit}`;
}
