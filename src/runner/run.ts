// The runner: plays (host groups x roles), forks and serial batches, the prefetch that
// connects every host and gathers its facts while the roles load, check and diff modes. It
// emits events; progress rendering and the report listen to them. One host's play is
// ./host-run.ts, one role ./role-run.ts, one task ./task.ts, the record ./recorder.ts.
import type { Host, Inventory } from '../inventory/types.js';
import type { Transport } from '../transport/types.js';
import type { Play, Playbook } from './playbook.js';
import type { EventSink } from './events.js';
import type { ReadAhead } from './read-ahead.js';
import { loadRole } from './role-module.js';
import { FactCache, type Gather } from '../facts/cache.js';
import { sectionsOf } from './role.js';
import { RunRecorder, type RunReport } from './recorder.js';
import { runHost } from './host-run.js';
import type { RunState } from './role-run.js';

export { exitStatus, type HostSummary, type RunReport } from './recorder.js';

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
  gatherFacts: Gather;
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

async function limitConcurrency<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

/** Load every role of the plays that have hosts at once; plan each host's fact sections from them. */
async function loadRoles(plays: Play[], playHosts: Map<Play, Host[]>, facts: FactCache): Promise<void> {
  const withHosts = plays.filter((play) => playHosts.get(play)!.length);
  // A role that fails to load counts as reading every section; its play reports the error.
  const defs = await Promise.all(withHosts.map((play) => Promise.all(play.roles.map((ref) => loadRole(ref).then((r) => r.def, () => undefined)))));
  withHosts.forEach((play, i) => facts.plan(playHosts.get(play)!, defs[i].flatMap((d) => sectionsOf(d))));
}

/**
 * Connect to every host of the run (forks at a time), start its read-ahead batch, then, once
 * the roles are loaded, gather the facts they read and warm the transport. It starts before the
 * roles load, so the hosts work meanwhile. A host that cannot be reached is reported by the
 * first play that reaches it.
 */
function prefetch(run: RunState, hosts: Host[], rolesLoaded: Promise<void>): void {
  const { o } = run;
  void limitConcurrency(hosts, o.forks ?? 10, async (h) => {
    if (o.signal?.aborted) return;
    try {
      const t = await o.connect(h);
      o.readAhead?.start(h.name, t);
      await rolesLoaded;
      const need = run.facts.plannedFor(h.name);
      await Promise.allSettled([need.length ? run.facts.get(t, h, need) : undefined, t.warm?.()]);
    } catch {
      // reported by the play that reaches the host
    }
  });
}

/** A play's hosts in batches (serial), forks at a time; a failed batch stops a rolling play. */
async function runPlay(run: RunState, play: Play, hosts: Host[], dead: Set<string>, fatal: () => void): Promise<void> {
  const size = play.serial ?? hosts.length;
  for (let i = 0; i < hosts.length; i += size) {
    if (run.stopping()) break;
    const batch = hosts.slice(i, i + size);
    run.recorder.emit({ type: 'batch', play: play.name, hosts: batch.map((h) => h.name) });
    let batchFailed = false;
    await limitConcurrency(batch, run.o.forks ?? 10, async (h) => {
      if (await runHost(run, play, h)) return;
      dead.add(h.name);
      batchFailed = true;
      if (play.anyErrorsFatal) fatal();
    });
    // A rolling play (serial) stops at the first failed batch: never take the next LB down too.
    if (batchFailed && play.serial !== undefined && i + size < hosts.length) {
      run.recorder.notRun(play.name, hosts.slice(i + size).map((h) => h.name));
      break;
    }
  }
}

export async function runPlaybook(o: RunOptions): Promise<RunReport> {
  const recorder = new RunRecorder({ playbook: o.playbook.file, inventory: o.inventory.file, check: !!o.check }, o.emit ?? (() => {}));
  let fatal = false;
  const run: RunState = { o, recorder, facts: new FactCache(o.gatherFacts), shared: new Map(), stopping: () => fatal || !!o.signal?.aborted };
  const dead = new Set<string>(); // failed or unreachable: excluded from later plays
  // Each play's hosts (after --limit), resolved once for the plan, the prefetch and the run.
  const playHosts = new Map(o.playbook.plays.map((play) => [play, o.selectHosts(play.hosts).filter((h) => !o.limit || o.limit.has(h.name))]));
  const rolesLoaded = loadRoles(o.playbook.plays, playHosts, run.facts);
  if (o.prefetch) prefetch(run, [...new Map([...playHosts.values()].flat().map((h) => [h.name, h])).values()], rolesLoaded);
  await rolesLoaded;
  for (const play of o.playbook.plays) {
    if (run.stopping()) break;
    const hosts = playHosts.get(play)!.filter((h) => !dead.has(h.name));
    recorder.emit({ type: 'play', play: play.name, hosts: hosts.map((h) => h.name) });
    if (hosts.length) await runPlay(run, play, hosts, dead, () => (fatal = true));
  }
  return recorder.finish(!!o.signal?.aborted, o.readAhead?.stats);
}
