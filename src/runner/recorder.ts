// The run's record: every task result, per-host counts and status, emitted as events as they
// come. The recap, the JSON report and the exit status are read from it.
import type { TaskResult } from '../ops/types.js';
import type { ReadAheadStats } from './read-ahead.js';
import type { EventSink } from './events.js';

export interface HostSummary {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  /** ms spent in this host's tasks (wall time summed over plays) */
  time: number;
  status: 'ok' | 'failed' | 'unreachable' | 'interrupted';
  message?: string;
}

export interface RunReport {
  playbook: string;
  inventory: string;
  check: boolean;
  startedAt: string;
  duration: number;
  interrupted: boolean;
  hosts: Record<string, HostSummary>;
  tasks: TaskResult[];
  /** How the tasks' reads were answered, when read-ahead was on. */
  readAhead?: ReadAheadStats;
}

export class RunRecorder {
  readonly report: RunReport;
  private readonly started = Date.now();

  constructor(
    info: { playbook: string; inventory: string; check: boolean },
    readonly emit: EventSink,
  ) {
    this.report = { ...info, startedAt: new Date(this.started).toISOString(), duration: 0, interrupted: false, hosts: {}, tasks: [] };
  }

  summary(host: string): HostSummary {
    return (this.report.hosts[host] ??= { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, time: 0, status: 'ok' });
  }

  /** A task's result: counted for its host, kept, and emitted. */
  record(r: TaskResult): TaskResult {
    this.report.tasks.push(r);
    const s = this.summary(r.host);
    if (r.status === 'changed') s.changed++;
    else if (r.status === 'ok') s.ok++;
    else if (r.status === 'skipped') s.skipped++;
    else s.failed++;
    this.emit({ type: 'task-end', result: r });
    return r;
  }

  /** The host ended unreachable (its connection failed or was lost). */
  unreachable(host: string, message: string): void {
    const s = this.summary(host);
    s.unreachable++;
    s.status = 'unreachable';
    s.message = message;
    this.emit({ type: 'host-end', host, status: 'unreachable', message });
  }

  /** Hosts of a rolling play that were not run because an earlier batch failed. */
  notRun(play: string, hosts: string[]): void {
    this.emit({ type: 'warn', message: `play "${play}": stopped after a failed batch; not run on ${hosts.join(', ')}` });
    for (const h of hosts) {
      const s = this.summary(h);
      s.skipped++;
      s.message = `rollout stopped before this host: a host of an earlier batch failed`;
      this.report.tasks.push({ host: h, task: `play ${play}`, status: 'skipped', changed: false, duration: 0, message: s.message });
    }
  }

  finish(interrupted: boolean, readAhead?: ReadAheadStats): RunReport {
    this.report.interrupted = interrupted;
    if (readAhead) this.report.readAhead = { ...readAhead };
    this.report.duration = Date.now() - this.started;
    return this.report;
  }
}

export function exitStatus(report: RunReport): 'ok' | 'failed' {
  return Object.values(report.hosts).some((h) => h.status !== 'ok' || h.failed > 0) ? 'failed' : 'ok';
}
