// A run's facts per host: gathered once, with every section that the roles the host will run
// declare (by the prefetch or by its first role, whichever asks first), then shared by those
// roles; a section nobody planned for is gathered when it is first read.
import type { Host } from '../inventory/types.js';
import type { Facts } from '../facts/types.js';
import { SECTIONS, type SectionName } from '../facts/index.js';
import type { Transport } from '../transport/types.js';
import type { RoleDefinition } from './role.js';

export type Gather = (t: Transport, host: Host, sections: readonly SectionName[]) => Promise<Facts>;

/** The sections a role reads (all of them when it does not say, or did not load). */
export const sectionsOf = (def: RoleDefinition | undefined): readonly SectionName[] => def?.facts ?? SECTIONS;

export class HostFacts {
  private readonly gathered = new Map<string, { sections: Set<SectionName>; facts: Promise<Facts> }>();
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

  /** A host's facts with at least these sections. */
  get(t: Transport, host: Host, sections: readonly SectionName[]): Promise<Facts> {
    const f = this.gathered.get(host.name);
    if (f && sections.every((s) => f.sections.has(s))) return f.facts;
    const want = new Set([...(f?.sections ?? this.planned.get(host.name) ?? []), ...sections]);
    const p = (f ? f.facts.catch(() => undefined) : Promise.resolve()).then(() => this.gather(t, host, [...want]));
    this.gathered.set(host.name, { sections: want, facts: p });
    return p;
  }
}
