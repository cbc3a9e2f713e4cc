// Facts per host per run: gathered once in one round trip, shared by concurrent callers,
// refreshed section by section when an op changed something.
import { HostError } from '../errors.js';
import type { Transport } from '../transport/types.js';
import { raw } from '../transport/quote.js';
import { gatherScriptBody, isValidUnitName, MARKERS, marker, SECTIONS, type SectionName } from './gather.js';
import { emptyFacts, parseGatherOutput, parseGatherPartial, serviceFrom } from './parsers.js';
import type { Facts, ServiceState } from './types.js';

export * from './types.js';
export { gatherScript, gatherScriptBody, serviceStateScript, marker, MARKERS, SECTIONS, isValidUnitName } from './gather.js';
export type { SectionName, GatherOptions } from './gather.js';
export * from './parsers.js';

/** Which gather section fills each field of Facts (a role declares sections, reads fields). */
export const FIELD_SECTION: Record<keyof Facts, SectionName | undefined> = {
  hostname: 'hostname',
  os: 'os',
  packageManager: 'packageManager',
  packages: 'packages',
  services: 'services',
  systemd: 'services',
  selinux: 'selinux',
  firewall: 'firewall',
  firewallTools: 'firewall',
  interfaces: 'interfaces',
  virtualization: 'virt',
  container: 'virt',
  keepalivedVersion: 'keepalived',
  canSetClock: 'clock',
  uid: 'uid',
  missingSections: undefined,
};

/**
 * The facts as a role may read them: a field of a section the role did not declare throws,
 * naming the role and the section to add (reading it would otherwise see an empty default
 * whenever no other role of the run happened to ask for that section).
 */
export function restrictFacts(facts: Facts, allowed: readonly SectionName[], who: string): Facts {
  if (SECTIONS.every((s) => allowed.includes(s))) return facts;
  return new Proxy(facts, {
    get(target, prop, receiver) {
      const section = typeof prop === 'string' ? FIELD_SECTION[prop as keyof Facts] : undefined;
      if (section && !allowed.includes(section)) {
        throw new Error(`${who} reads facts.${String(prop)}, but its facts: [${allowed.map((a) => `'${a}'`).join(', ')}] does not list '${section}'`);
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

export interface FactCacheOptions {
  /** Units whose state every gather reports (the union of the services the roles mention). */
  services?: string[];
  /** Gather through sudo. Default false: facts need no root (rule sets then count by service state). */
  sudo?: boolean;
  /** Kill a gather after this long. Default 60 s. */
  timeoutMs?: number;
}

interface Entry {
  facts?: Facts;
  /** The gather/refresh in flight; later operations on the host chain after it. */
  pending?: Promise<Facts>;
  /** Sections to re-gather before the next get() returns. */
  stale: Set<SectionName>;
  lastGatherMs?: number;
}

/** Run one gather command (all or some sections) on a host and check it ran. */
async function runGather(
  t: Transport,
  opts: { services: string[]; sections?: readonly SectionName[]; sudo: boolean; timeoutMs: number },
): Promise<{ stdout: string; ms: number }> {
  const started = performance.now();
  // In the persistent shell when it is free: no SSH session (sshd fork, login shell) per gather.
  const res = await t.exec(raw(gatherScriptBody({ services: opts.services, sections: opts.sections })), {
    sudo: opts.sudo,
    timeoutMs: opts.timeoutMs,
    reuseShell: true,
  });
  const ms = Math.round(performance.now() - started);
  if (res.code === null) {
    throw new HostError(t.host, 'failed', `fact gathering was killed (${res.signal ?? 'signal'}) after ${ms} ms`);
  }
  if (!res.stdout.includes(marker(MARKERS.begin))) {
    const why = (res.stderr || res.stdout).trim().split('\n').slice(0, 3).join(' | ');
    throw new HostError(t.host, 'failed', `fact gathering printed no facts (exit ${res.code})${why ? `: ${why}` : ''}`);
  }
  return { stdout: res.stdout, ms };
}

export class FactCache {
  private readonly entries = new Map<string, Entry>();
  private readonly services: string[];
  private readonly sudo: boolean;
  private readonly timeoutMs: number;

  constructor(opts: FactCacheOptions = {}) {
    this.services = [...new Set(opts.services ?? [])];
    for (const s of this.services) {
      if (!isValidUnitName(s)) throw new Error(`not a systemd unit name: ${JSON.stringify(s)}`);
    }
    this.sudo = opts.sudo ?? false;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  private entry(host: string): Entry {
    let e = this.entries.get(host);
    if (!e) {
      e = { stale: new Set() };
      this.entries.set(host, e);
    }
    return e;
  }

  /** Queue an operation after whatever runs on this host; its result becomes the cached facts. */
  private enqueue(e: Entry, op: (current: Facts | undefined) => Promise<Facts>): Promise<Facts> {
    const prev = e.pending ?? Promise.resolve(e.facts as Facts);
    const p: Promise<Facts> = prev
      .catch(() => undefined)
      .then(() => op(e.facts))
      .then((f) => {
        e.facts = f;
        return f;
      })
      .finally(() => {
        if (e.pending === p) e.pending = undefined;
      });
    e.pending = p;
    return p;
  }

  /** Every service name this host's facts should report. */
  private serviceNames(e: Entry, extra: string[] = []): string[] {
    return [...new Set([...this.services, ...Object.keys(e.facts?.services ?? {}), ...extra])];
  }

  /**
   * The facts of the transport's host: gathered on first use (one command), cached for the
   * run; callers asking at the same time share one gather. `sections` (default: all) are the
   * ones the caller reads: only those are gathered, and a later call that needs more gathers
   * just the missing ones. Stale sections (invalidate) among them are re-gathered first,
   * together, in one command. A failed gather rejects every caller that shared it; the next
   * call tries again.
   */
  async get(t: Transport, sections: readonly SectionName[] = SECTIONS): Promise<Facts> {
    const e = this.entry(t.host);
    if (sections.length === 0) return e.facts ?? emptyFacts();
    const all = SECTIONS.every((s) => sections.includes(s));
    const needed = (): SectionName[] => sections.filter((s) => e.stale.has(s));
    for (;;) {
      if (e.pending) {
        try {
          await e.pending;
        } catch (err) {
          if (e.facts && needed().length === 0) return e.facts;
          throw err;
        }
        continue;
      }
      if (e.facts && needed().length === 0) return e.facts;
      if (!e.facts && all) {
        e.stale.clear();
        await this.enqueue(e, async () => {
          const { stdout, ms } = await runGather(t, { services: this.serviceNames(e), sudo: this.sudo, timeoutMs: this.timeoutMs });
          e.lastGatherMs = ms;
          return parseGatherOutput(stdout);
        });
      } else if (!e.facts) {
        // Only what this caller reads; the rest is marked stale (never gathered) by refreshWith.
        await this.refreshWith(t, [...sections], []);
      } else {
        await this.refresh(t, ...needed());
      }
    }
  }

  /** The cached facts without gathering (undefined before the first gather). */
  peek(host: string): Facts | undefined {
    return this.entries.get(host)?.facts;
  }

  /** How long the host's last full gather took (ms, command round trip included). */
  lastGatherMs(host: string): number | undefined {
    return this.entries.get(host)?.lastGatherMs;
  }

  /**
   * Forget facts: with no sections, everything (next get() gathers all); with sections,
   * only those (next get() re-gathers just them, in one command).
   */
  invalidate(host: string, ...sections: SectionName[]): void {
    const e = this.entries.get(host);
    if (!e) return;
    if (sections.length === 0) {
      e.facts = undefined;
      e.stale.clear();
      return;
    }
    if (e.facts) for (const s of sections) e.stale.add(s);
  }

  /**
   * Re-gather some sections now in one command and merge them into the cache (all sections
   * when none are named and nothing is cached). `extraServices` adds units to the services section.
   */
  refresh(t: Transport, ...sections: SectionName[]): Promise<Facts> {
    return this.refreshWith(t, sections, []);
  }

  private refreshWith(t: Transport, sections: SectionName[], extraServices: string[]): Promise<Facts> {
    const e = this.entry(t.host);
    for (const s of extraServices) {
      if (!isValidUnitName(s)) return Promise.reject(new Error(`not a systemd unit name: ${JSON.stringify(s)}`));
    }
    const wanted = [...new Set(sections.length ? sections : SECTIONS)];
    for (const s of wanted) e.stale.delete(s);
    const p = this.enqueue(e, async (current) => {
      const services = this.serviceNames(e, extraServices);
      const { stdout } = await runGather(t, { services, sections: wanted, sudo: this.sudo, timeoutMs: this.timeoutMs });
      const base = current ?? emptyFacts();
      const { facts } = parseGatherPartial(stdout, { family: base.os.family, requested: wanted });
      const merged: Facts = { ...base, ...facts };
      if (facts.services) merged.services = { ...base.services, ...facts.services };
      if (!current) {
        // Nothing was cached yet: the next get() gathers the other sections.
        for (const s of SECTIONS) if (!wanted.includes(s)) e.stale.add(s);
      }
      return merged;
    });
    p.catch(() => {
      for (const s of wanted) if (e.facts) e.stale.add(s);
    });
    return p;
  }

  /** Re-gather the installed packages (one command) and return them. */
  gatherSection(t: Transport, section: 'packages'): Promise<Record<string, string>>;
  /** Re-gather the state of these services (default: all the cache knows) in one command. */
  gatherSection(t: Transport, section: 'services', services?: string[]): Promise<Record<string, ServiceState>>;
  /** Re-gather any one section; returns the updated facts. */
  gatherSection(t: Transport, section: SectionName): Promise<Facts>;
  async gatherSection(t: Transport, section: SectionName, services: string[] = []): Promise<unknown> {
    const f = await this.refreshWith(t, [section], services);
    if (section === 'packages') return f.packages;
    if (section === 'services') {
      const names = services.length ? services : Object.keys(f.services);
      return Object.fromEntries(names.map((n) => [n, serviceFrom(f.services, n)]));
    }
    return f;
  }

  /**
   * The state of units, from the cache when known; the unknown ones are fetched together with
   * one small command (and cached). A unit never asked about before costs one round trip.
   */
  async servicesOf(t: Transport, names: string[]): Promise<Record<string, ServiceState>> {
    const e = this.entry(t.host);
    const have = (await this.get(t)).services;
    const missing = names.filter((n) => !Object.hasOwn(have, n));
    let all = have;
    if (missing.length) {
      await this.gatherSection(t, 'services', missing);
      all = e.facts?.services ?? {};
    }
    return Object.fromEntries(names.map((n) => [n, serviceFrom(all, n)]));
  }

  /** The state of one unit (see servicesOf). */
  async service(t: Transport, name: string): Promise<ServiceState> {
    return (await this.servicesOf(t, [name]))[name];
  }

  private patch(host: string, fn: (f: Facts) => Facts): void {
    const e = this.entries.get(host);
    if (!e) return;
    if (e.pending) {
      // Apply after the gather in flight, or its result would overwrite the change.
      // (When that gather failed there is nothing to patch: facts stay undefined.)
      this.enqueue(e, async (cur) => (cur ? fn(cur) : (cur as unknown as Facts))).catch(() => undefined);
      return;
    }
    if (e.facts) e.facts = fn(e.facts);
  }

  /**
   * An op installed/upgraded (name -> version) or removed (name -> null) packages and knows
   * the result: update the cache without a round trip. The version may be "unknown" when the
   * op did not learn it (then call gatherSection(t, 'packages') if a version matters).
   */
  recordPackages(host: string, changes: Record<string, string | null>): void {
    this.patch(host, (f) => {
      const packages = new Map(Object.entries(f.packages));
      for (const [name, v] of Object.entries(changes)) {
        if (v === null) packages.delete(name);
        else packages.set(name, v);
      }
      return { ...f, packages: Object.fromEntries(packages) };
    });
    // The keepalived version fact comes from the binary: re-read it on the next get().
    if ('keepalived' in changes) this.invalidate(host, 'keepalived');
  }

  /** An op started/stopped/enabled a unit: record the state it set. */
  recordService(host: string, name: string, state: Partial<ServiceState>): void {
    this.patch(host, (f) => {
      const prev = serviceFrom(f.services, name);
      const next: ServiceState = { ...prev, ...state };
      if (state.active !== undefined || state.enabled !== undefined) {
        if (next.load === 'unknown' || next.load === 'not-found' || next.load === undefined) next.load = 'loaded';
      }
      return { ...f, services: { ...f.services, [name]: next } };
    });
  }
}

/** `provision facts` JSON: every fact, packages as a count unless verbose. */
export type FactsSummary = Omit<Facts, 'packages'> & {
  packages: { count: number; installed?: Record<string, string> };
};

export function factsSummary(facts: Facts, opts: { verbose?: boolean } = {}): FactsSummary {
  const { packages, ...rest } = facts;
  const count = Object.keys(packages).length;
  return {
    ...rest,
    packages: opts.verbose ? { count, installed: { ...packages } } : { count },
  };
}
