// The run's one fact cache: per host, each gather section is gathered once. The first gather
// of a host asks every section the roles it will run declare (planned by the runner), so a host
// costs one round trip; a section nobody planned for is gathered, alone, when it is first asked.
// Callers asking at the same time share one gather. A host's Facts is one object for the run:
// later sections are merged into it, and what ops record there (factsChanged) stays.
import type { Host } from '../inventory/types.js';
import type { Transport } from '../transport/types.js';
import { FIELD_SECTION } from './index.js';
import { emptyFacts } from './parsers.js';
import type { SectionName } from './gather.js';
import type { Facts } from './types.js';

/** Gather some sections of a host in one command (fields of the other sections are ignored). */
export type Gather = (t: Transport, host: Host, sections: readonly SectionName[]) => Promise<Facts>;

interface Entry {
  facts: Facts;
  /** Per section: the gather that brings it (removed when that gather failed: the next ask retries). */
  ready: Map<SectionName, Promise<void>>;
}

/** Copy the fields of these sections from a gather's answer into the host's facts. */
function assignSections(into: Facts, got: Facts, sections: readonly SectionName[]): void {
  const target = into as unknown as Record<string, unknown>;
  for (const [field, section] of Object.entries(FIELD_SECTION)) {
    if (section && sections.includes(section) && field in got) target[field] = got[field as keyof Facts];
  }
  const missing = [...(into.missingSections ?? []).filter((s) => !sections.includes(s as SectionName)), ...(got.missingSections ?? []).filter((s) => sections.includes(s as SectionName))];
  if (missing.length) into.missingSections = missing;
  else delete into.missingSections;
}

export class FactCache {
  private readonly hosts = new Map<string, Entry>();
  private readonly planned = new Map<string, Set<SectionName>>();

  constructor(private readonly gather: Gather) {}

  /** These hosts will run roles that read these sections. */
  plan(hosts: Host[], sections: Iterable<SectionName>): void {
    const need = [...sections];
    for (const h of hosts) {
      const set = this.planned.get(h.name) ?? new Set<SectionName>();
      for (const s of need) set.add(s);
      this.planned.set(h.name, set);
    }
  }

  /** The sections planned for a host. */
  plannedFor(host: string): SectionName[] {
    return [...(this.planned.get(host) ?? [])];
  }

  /** A host's facts with at least these sections (none: the facts as they are, no gather). */
  async get(t: Transport, host: Host, sections: readonly SectionName[]): Promise<Facts> {
    let e = this.hosts.get(host.name);
    if (!e) this.hosts.set(host.name, (e = { facts: emptyFacts(), ready: new Map() }));
    const entry = e;
    if (sections.some((s) => !entry.ready.has(s))) {
      const want = [...new Set([...this.plannedFor(host.name), ...sections])].filter((s) => !entry.ready.has(s));
      const p = this.gather(t, host, want).then((got) => assignSections(entry.facts, got, want));
      for (const s of want) entry.ready.set(s, p);
      p.catch(() => {
        for (const s of want) if (entry.ready.get(s) === p) entry.ready.delete(s);
      });
    }
    await Promise.all(sections.map((s) => entry.ready.get(s)));
    return entry.facts;
  }
}
