// After a `--check` run: the HA plan (src/topology/show.ts) with each load balancer's tracking
// method taken from its facts, as the run would render it, so a reviewer sees the VRRP layout
// that applying would produce.
import path from 'node:path';
import { deriveTopology } from '../topology/index.js';
import { haPlan, type HostTracking } from '../topology/show.js';
import { formatPlan } from '../topology/show-format.js';
import type { Session } from './session.js';
import type { HaModel } from '../topology/types.js';

export async function checkRunPlan(session: Session): Promise<string> {
  const inv = session.inventory;
  try {
    const model = deriveTopology([...inv.hosts.values()], { baseDir: inv.dir ?? path.dirname(inv.file) });
    return '\n' + formatPlan(haPlan(model, await knownTracking(session, model)));
  } catch (e) {
    // The run itself is over and reported; a plan that cannot be drawn must not fail it.
    return `\nHA plan not shown: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Tracking facts (virtualization, keepalived version) of the LBs this session may reach. */
export async function knownTracking(session: Session, model: HaModel): Promise<Record<string, HostTracking>> {
  const known: Record<string, HostTracking> = {};
  // Only hosts of this run (after --limit): their facts are cached; others show every candidate.
  for (const h of session.hosts.filter((x) => model.nodes.some((n) => n.host === x.name))) {
    try {
      const f = await session.facts(await session.connect(h), h, ['virt', 'keepalived']);
      known[h.name] = { container: f.container, keepalivedVersion: f.keepalivedVersion };
    } catch {
      // Unreachable: the plan lists the methods it may get.
    }
  }
  return known;
}
