// The one remote command that gathers a host's facts in a single round trip: the prelude,
// then the part of each section asked (./sections.ts), then the end marker. The script is
// passed as ONE argument to `sh -c`, so it runs in sh whatever the login shell is.
import { sh, type Shell } from '../transport/quote.js';
import { MARKERS, PRELUDE, SECTIONS, type SectionName } from './gather-base.js';
import { SECTION_UNITS } from './sections.js';

export { FROM_PACKAGES, MARKER_PREFIX, MARKER_SUFFIX, MARKERS, SECTIONS, isValidUnitName, marker, type SectionName } from './gather-base.js';

export interface GatherOptions {
  /** systemd units whose state to report (the union of the services the roles mention). */
  services: string[];
  /** Only these sections (default: all). */
  sections?: readonly SectionName[];
}

/** The script text (what runs inside `sh -c`). */
export function gatherScriptBody(opts: GatherOptions): string {
  const wanted = new Set<SectionName>(opts.sections ?? SECTIONS);
  const parts = [PRELUDE, ...SECTION_UNITS.filter((u) => wanted.has(u.section)).map((u) => u.part(opts.services, wanted)), `m ${MARKERS.end}`, 'exit 0'];
  return parts.join('\n') + '\n';
}

/**
 * The gather command: `sh -c '<script>'`, one round trip, run as the login user.
 * Throws only on a service name that is not a systemd unit name (a programming error).
 */
export function gatherScript(opts: GatherOptions): Shell {
  return sh`sh -c ${gatherScriptBody(opts)}`;
}

/** One small command that reports one or more units, in the services section format. */
export function serviceStateScript(services: string[]): Shell {
  return gatherScript({ services, sections: ['services'] });
}
