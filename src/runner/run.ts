// The runner: plays (host groups x roles), forks and serial batches, handlers, check and diff
// modes. It emits events; progress rendering and the report listen to them.
import path from 'node:path';
import { readInputText } from '../input-file.js';
import { existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Host, Inventory } from '../inventory/types.js';
import type { Facts } from '../facts/types.js';
import { SECTIONS, restrictFacts, type SectionName } from '../facts/index.js';
import type { Transport } from '../transport/types.js';
import { HostError } from '../errors.js';
import type { OpContext, Plan, TaskResult } from '../ops/types.js';
import { redact } from '../report/redact.js';
import { importRole } from './role-module.js';
import { sectionRole } from '../tasks/section.js';
import type { Play, Playbook, RoleRef } from './playbook.js';
import { bindOperations, type RoleContext, type RoleDefinition, type TaskOptions } from './role.js';
import type { EventSink } from './events.js';
import { callSite, failureOf, type Site } from './call-site.js';
import type { ReadAhead, ReadAheadStats } from './read-ahead.js';

export interface RunOptions {
  inventory: Inventory;
  playbook: Playbook;
  /** Hosts the run may touch (after --limit); undefined = all. */
  limit?: Set<string>;
  /** Resolve a play's `hosts:` patterns to hosts in inventory order. */
  selectHosts: (patterns: string[]) => Host[];
  /** Open (or reuse) the connection to a host; throws HostError('unreachable') on failure. */
  connect: (host: Host) => Promise<Transport>;
  /** Open a fresh connection to a host and close it (proves new SSH sessions get in). */
  probeConnection?: (host: Host) => Promise<void>;
  /** Gather facts over a connection (one round trip): at least these sections (the roles' declared needs). */
  gatherFacts: (t: Transport, host: Host, sections: readonly SectionName[]) => Promise<Facts>;
  check?: boolean;
  diff?: boolean;
  forks?: number;
  tags?: string[];
  skipTags?: string[];
  extraVars?: Record<string, unknown>;
  signal?: AbortSignal;
  emit?: EventSink;
  /**
   * Before the first play, connect to every host of the run at once (forks at a time), gather
   * its facts and let its transport warm up (the root shell), so that connection set-up and
   * fact gathering overlap instead of adding up play after play and batch after batch (a
   * serial play otherwise pays them per batch). Needs `connect` to return one shared
   * transport per host (a pool). A host that cannot be reached is reported by the first play
   * that reaches it, as without prefetch.
   */
  prefetch?: boolean;
  /**
   * Answer the tasks' reads from one batch per host run at the start, while nothing has been
   * written yet (./read-ahead.ts). Without it every read is a round trip of its own.
   */
  readAhead?: ReadAhead;
}

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

class TaskFailed extends Error {}
class Interrupted extends Error {}

const roleCache = new Map<string, Promise<{ def: RoleDefinition; defaults: Record<string, unknown> }>>();

async function loadRole(ref: RoleRef) {
  if (ref.yaml) return { def: sectionRole(ref.yaml), defaults: {} };
  let p = roleCache.get(ref.dir);
  if (!p) {
    p = (async () => {
      const mod = await importRole(ref.dir);
      const def = mod.default as RoleDefinition;
      if (!def || typeof def.tasks !== 'function') throw new Error(`role ${ref.name}: index.ts must export default defineRole({...})`);
      const dfile = path.join(ref.dir, 'defaults.yaml');
      const defaults = existsSync(dfile) ? ((parseYaml(await readInputText(dfile, { what: 'role defaults file' })) as Record<string, unknown>) ?? {}) : {};
      return { def, defaults };
    })();
    roleCache.set(ref.dir, p);
  }
  return p;
}

async function limitConcurrency<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export async function runPlaybook(o: RunOptions): Promise<RunReport> {
  const started = Date.now();
  const emit: EventSink = o.emit ?? (() => {});
  const report: RunReport = {
    playbook: o.playbook.file,
    inventory: o.inventory.file,
    check: !!o.check,
    startedAt: new Date(started).toISOString(),
    duration: 0,
    interrupted: false,
    hosts: {},
    tasks: [],
  };
  const summary = (h: string): HostSummary =>
    (report.hosts[h] ??= { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, time: 0, status: 'ok' });
  const dead = new Set<string>(); // failed or unreachable: excluded from later plays
  const facts = new Map<string, { sections: Set<SectionName>; facts: Promise<Facts> }>();
  /** The sections a role reads (all when it does not say). */
  const sectionsOf = (def: RoleDefinition): readonly SectionName[] => def.facts ?? SECTIONS;
  // Per host, the sections every role it will run reads: the first gather asks for all of them,
  // whichever role (or the prefetch) asks first. A role that fails to load counts as "all";
  // its play reports the error.
  const planned = new Map<string, Set<SectionName>>();
  // Each play's hosts (after --limit), resolved once for the plan, the prefetch and the run.
  const playHosts = new Map(o.playbook.plays.map((play) => [play, o.selectHosts(play.hosts).filter((h) => !o.limit || o.limit.has(h.name))]));
  const rolesLoaded = (async () => {
    const plays = o.playbook.plays.filter((play) => playHosts.get(play)!.length);
    // Every role starts loading at once; their declared sections are merged play by play.
    const defs = await Promise.all(plays.map((play) => Promise.all(play.roles.map((ref) => loadRole(ref).then((r) => r.def, () => undefined)))));
    plays.forEach((play, i) => {
      const hosts = playHosts.get(play)!;
      const need = new Set<SectionName>();
      for (const def of defs[i]) for (const s of def ? sectionsOf(def) : SECTIONS) need.add(s);
      for (const h of hosts) {
        const set = planned.get(h.name) ?? new Set<SectionName>();
        for (const s of need) set.add(s);
        planned.set(h.name, set);
      }
    });
  })();
  /**
   * A host's facts: gathered once per run (by the prefetch or its first role: every section
   * its roles read), then shared; a section nobody planned for is gathered when first read.
   */
  const factsOf = (t: Transport, host: Host, sections: readonly SectionName[]): Promise<Facts> => {
    const f = facts.get(host.name);
    if (f && sections.every((s) => f.sections.has(s))) return f.facts;
    const want = new Set([...(f?.sections ?? planned.get(host.name) ?? []), ...sections]);
    const p = (f ? f.facts.catch(() => undefined) : Promise.resolve()).then(() => o.gatherFacts(t, host, [...want]));
    facts.set(host.name, { sections: want, facts: p });
    return p;
  };
  const shared = new Map<string, unknown>();
  let fatal = false;

  // The prefetch starts before the roles are loaded: connecting and the read-ahead batch need
  // only the inventory and the record, so the hosts work while this process loads the roles
  // (and their templates' engine); the fact gathering, which asks for the sections the roles
  // read, follows once they are loaded.
  if (o.prefetch) {
    const all = new Map<string, Host>();
    for (const hosts of playHosts.values()) for (const h of hosts) all.set(h.name, h);
    void limitConcurrency([...all.values()], o.forks ?? 10, async (h) => {
      if (o.signal?.aborted) return;
      try {
        const t = await o.connect(h);
        o.readAhead?.start(h.name, t);
        await rolesLoaded;
        const need = planned.get(h.name) ?? new Set<SectionName>();
        await Promise.allSettled([need.size ? factsOf(t, h, [...need]) : undefined, t.warm?.()]);
      } catch {
        // reported by the play that reaches the host
      }
    });
  }
  await rolesLoaded;

  const runHost = async (play: Play, host: Host): Promise<boolean> => {
    const t0 = Date.now();
    emit({ type: 'host-start', host: host.name });
    const s = summary(host.name);
    const unreachable = (message: string): false => {
      s.unreachable++;
      s.status = 'unreachable';
      s.message = redact(message);
      dead.add(host.name);
      emit({ type: 'host-end', host: host.name, status: 'unreachable', message: s.message });
      return false;
    };
    let transport: Transport;
    try {
      transport = await o.connect(host);
    } catch (e) {
      return unreachable(e instanceof Error ? e.message : String(e));
    }
    o.readAhead?.start(host.name, transport);
    try {
      for (const ref of play.roles) await runRole(play, ref, host, transport);
      emit({ type: 'host-end', host: host.name, status: 'ok' });
      return true;
    } catch (e) {
      dead.add(host.name);
      // Unreachable: the connection was lost, or a failure was followed at once by the loss of
      // the connection (a host powered off while a command ran: "Killed", then it drops).
      const lost =
        e instanceof HostError && e.kind === 'unreachable'
          ? e.message
          : !(e instanceof Interrupted) && (await transport.lostWithin?.(1500).catch(() => false))
            ? `connection to ${host.name} lost (${s.message ?? (e instanceof Error ? e.message : String(e))})`
            : undefined;
      if (lost !== undefined) {
        unreachable(lost);
      } else if (e instanceof Interrupted) {
        s.status = 'interrupted';
        emit({ type: 'host-end', host: host.name, status: 'interrupted' });
      } else {
        s.status = 'failed';
        if (!(e instanceof TaskFailed)) {
          s.failed++;
          s.message = redact(e instanceof Error ? e.message : String(e));
        }
        emit({ type: 'host-end', host: host.name, status: 'failed', message: s.message });
      }
      return false;
    } finally {
      s.time += Date.now() - t0;
    }
  };

  const runRole = async (play: Play, ref: RoleRef, host: Host, conn: Transport) => {
    const { def, defaults } = await loadRole(ref);
    const need = sectionsOf(def);
    const rawFacts = () => factsOf(conn, host, need);
    // Roles and ops write through `transport` and read through `read` (see ./read-ahead.ts).
    const ra = o.readAhead;
    const transport = ra ? ra.writer(conn) : conn;
    const getFacts = () => rawFacts().then((f) => restrictFacts(f, need, `role ${ref.name}`));
    const vars = { ...defaults, ...host.vars, ...play.vars, ...ref.vars, ...(o.extraVars ?? {}) };
    const notified = new Set<string>();
    const baseTags = [...play.tags, ...ref.tags, ref.name];
    const opctx: OpContext = {
      host,
      transport,
      facts: getFacts,
      factsChanged: (update) => {
        void rawFacts().then(update);
      },
      read: ra ? (cmd) => ra.read(host.name, conn, cmd) : (cmd) => conn.exec(cmd),
      check: !!o.check,
      diff: !!o.diff,
      probeNewConnection: o.probeConnection ? () => o.probeConnection!(host) : undefined,
      dir: ref.dir,
      vars,
    };
    const selected = (taskTags: string[]) => {
      const all = [...baseTags, ...taskTags];
      if (o.skipTags?.some((t) => all.includes(t))) return false;
      if (o.tags && o.tags.length > 0) return all.includes('always') || o.tags.some((t) => all.includes(t) || t === 'all');
      return true;
    };
    const record = (r: TaskResult) => {
      report.tasks.push(r);
      const s = summary(host.name);
      if (r.status === 'changed') s.changed++;
      else if (r.status === 'ok') s.ok++;
      else if (r.status === 'skipped') s.skipped++;
      else s.failed++;
      emit({ type: 'task-end', result: r });
      return r;
    };
    let lastTask: string | undefined;
    /** A failed task in the report and the recap: role, task, file:line, message (stack for -v). */
    const failed = (name: string, e: unknown, t0: number, where?: Site): TaskFailed => {
      const msg = redact(e instanceof Error ? e.message : String(e));
      const { location, stack } = failureOf(e, where);
      record({ host: host.name, role: ref.name, task: name, status: 'failed', changed: false, duration: Date.now() - t0, message: msg, location, stack: stack && redact(stack) });
      summary(host.name).message = `${ref.name} : ${name}${location ? ` (${location})` : ''}: ${msg}`;
      return new TaskFailed(msg);
    };
    const task = async (name: string, plan: (c: OpContext) => Promise<Plan>, opts: TaskOptions = {}, isHandler = false, where?: Site): Promise<TaskResult> => {
      const skippedResult = (message: string): TaskResult => ({ host: host.name, role: ref.name, task: name, status: 'skipped', changed: false, duration: 0, message });
      lastTask = name;
      if (!isHandler && !selected(opts.tags ?? [])) return skippedResult('not selected by tags');
      if (o.signal?.aborted || fatal) throw new Interrupted();
      if (opts.when === false) return record(skippedResult(opts.skipReason ?? 'condition false'));
      emit({ type: 'task-start', host: host.name, role: ref.name, task: name });
      const t0 = Date.now();
      try {
        const p = await plan(opctx);
        if (p.skipped) return record({ ...skippedResult(p.message ?? 'skipped'), duration: Date.now() - t0 });
        let message = p.message;
        if (p.changed && !o.check && p.apply) {
          const out = await p.apply();
          if (out) message = message ? `${message}: ${out}` : out;
        }
        if (p.changed && opts.notify) for (const h of [opts.notify].flat()) notified.add(h);
        return record({
          host: host.name,
          role: ref.name,
          task: name,
          status: p.changed ? 'changed' : 'ok',
          changed: p.changed,
          duration: Date.now() - t0,
          message: message ? redact(message) : undefined,
          diff: p.diff ? redact(p.diff) : undefined,
        });
      } catch (e) {
        if (e instanceof HostError && e.kind === 'unreachable') throw e;
        throw failed(name, e, t0, where);
      }
    };
    const r: RoleContext = {
      host,
      vars,
      inventory: o.inventory,
      check: !!o.check,
      transport,
      facts: getFacts,
      once: <T>(key: string, make: () => T): T => {
        if (!shared.has(key)) shared.set(key, make());
        return shared.get(key) as T;
      },
      ...bindOperations((n, plan, opts, where) => task(n, plan, opts, false, where)),
      task: (n, plan, opts) => task(n, plan, opts, false, callSite()),
      skip: (n, reason) => task(n, async () => ({ changed: false, skipped: true, message: reason }), {}, false, callSite()),
    };
    // An exception of the role's own code between tasks fails the host as a task would, named
    // after the task before it, with the role file:line where it was thrown.
    const roleCode = (e: unknown) =>
      e instanceof TaskFailed || e instanceof Interrupted || e instanceof HostError ? e : failed(`role code after ${lastTask ? `"${lastTask}"` : 'the start'}`, e, Date.now());
    await def.tasks(r).catch((e) => Promise.reject(roleCode(e)));
    // Handlers: once per host, at the end of the role, in the order the role declares them.
    for (const [hname, handler] of Object.entries(def.handlers ?? {})) {
      if (!notified.has(hname)) continue;
      // Every operation works the same in a handler (never skipped by --tags: it was notified).
      const hr: RoleContext = {
        ...r,
        ...bindOperations((n, plan, opts, where) => task(n, plan, opts, true, where)),
        task: (n, plan, opts) => task(n, plan, opts, true, callSite()),
      };
      await handler(hr).catch((e) => Promise.reject(roleCode(e)));
    }
  };

  for (const play of o.playbook.plays) {
    if (fatal || o.signal?.aborted) break;
    const hosts = playHosts.get(play)!.filter((h) => !dead.has(h.name));
    emit({ type: 'play', play: play.name, hosts: hosts.map((h) => h.name) });
    if (hosts.length === 0) continue;
    const size = play.serial ?? hosts.length;
    for (let i = 0; i < hosts.length; i += size) {
      if (fatal || o.signal?.aborted) break;
      const batch = hosts.slice(i, i + size);
      emit({ type: 'batch', play: play.name, hosts: batch.map((h) => h.name) });
      let batchFailed = false;
      await limitConcurrency(batch, o.forks ?? 10, async (h) => {
        const ok = await runHost(play, h);
        if (!ok) {
          batchFailed = true;
          if (play.anyErrorsFatal) fatal = true;
        }
      });
      // A rolling play (serial) stops at the first failed batch: never take the next LB down too.
      if (batchFailed && play.serial !== undefined && i + size < hosts.length) {
        const rest = hosts.slice(i + size).map((h) => h.name);
        emit({ type: 'warn', message: `play "${play.name}": stopped after a failed batch; not run on ${rest.join(', ')}` });
        for (const h of rest) {
          const s = summary(h);
          s.skipped++;
          s.message = `rollout stopped before this host: a host of an earlier batch failed`;
          report.tasks.push({ host: h, task: `play ${play.name}`, status: 'skipped', changed: false, duration: 0, message: s.message });
        }
        break;
      }
    }
  }
  report.interrupted = !!o.signal?.aborted;
  if (o.readAhead) report.readAhead = { ...o.readAhead.stats };
  report.duration = Date.now() - started;
  return report;
}

export function exitStatus(report: RunReport): 'ok' | 'failed' {
  return Object.values(report.hosts).some((h) => h.status !== 'ok' || h.failed > 0) ? 'failed' : 'ok';
}
