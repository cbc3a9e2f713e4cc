// The gather output: split at its marker lines, each section through its unit's parser (./sections.ts),
// assembled into Facts; a missing or cut section leaves its defaults and is named.
import { MARKERS, MARKER_PREFIX, MARKER_SUFFIX, SECTIONS, type SectionName } from './gather-base.js';
import type { Facts, OsFacts } from './types.js';
import { lines } from './parsers.js';
import { SECTION_UNITS } from './sections.js';

/**
 * Split the output at marker lines (`@@provision:<name>@@`). Text before the first marker is
 * dropped; a repeated marker's sections are joined.
 */
export function splitSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | null = null;
  let buf: string[] = [];
  const flush = (): void => {
    if (name === null) return;
    const prev = out.get(name);
    const body = buf.join('\n').replace(/^\n+|\n+$/g, '');
    out.set(name, prev ? `${prev}\n${body}` : body);
  };
  const re = new RegExp(`^${escapeRe(MARKER_PREFIX)}([a-z0-9-]+)${escapeRe(MARKER_SUFFIX)}\\s*$`);
  for (const line of lines(stdout)) {
    const m = re.exec(line);
    if (m) {
      flush();
      name = m[1];
      buf = [];
    } else if (name !== null) buf.push(line);
  }
  flush();
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Facts when nothing is known. */
export function emptyFacts(): Facts {
  return {
    hostname: 'unknown',
    os: { id: 'unknown', versionId: 'unknown', family: 'unknown', prettyName: 'unknown' },
    packageManager: 'unknown',
    packages: {},
    services: {},
    selinux: 'absent',
    firewall: 'none',
    interfaces: [],
    virtualization: 'unknown',
    container: false,
    keepalivedVersion: null,
    canSetClock: false,
    uid: -1,
  };
}

export interface PartialParse {
  facts: Partial<Facts>;
  /** Which sections the output held. */
  present: Set<SectionName>;
  /** The end marker was seen (the script ran to completion). */
  complete: boolean;
}

/**
 * Parse whatever sections the output holds into the facts they determine, each by its own
 * parser (./sections.ts). `family` picks dpkg or rpm when the output has both lists and no os section.
 */
export function parseGatherPartial(
  stdout: string,
  ctx: { family?: OsFacts['family']; requested?: readonly SectionName[] } = {},
): PartialParse {
  const out = splitSections(typeof stdout === 'string' ? stdout : '');
  const facts: Partial<Facts> = {};
  const present = new Set<SectionName>();
  const complete = out.has(MARKERS.end);
  for (const unit of SECTION_UNITS) {
    if (!unit.markers.some((mk) => out.has(mk))) continue;
    present.add(unit.section);
    Object.assign(facts, unit.parse({ out, family: facts.os?.family ?? ctx.family ?? 'unknown', got: facts }));
  }
  // A completed run that asked for packages but printed no list: neither dpkg-query nor rpm
  // exists, so no packages. Same for interfaces without `ip`.
  if (complete && ctx.requested) {
    if (ctx.requested.includes('packages') && !present.has('packages')) facts.packages = {};
    if (ctx.requested.includes('interfaces') && !present.has('interfaces')) facts.interfaces = [];
  }
  return { facts, present, complete };
}

/**
 * The whole gather output -> Facts. Sections the output lacks keep their "unknown"/empty
 * defaults and are listed in `missingSections` (a run cut short, or garbage).
 * Packages are absent legitimately when neither dpkg-query nor rpm exists, and interfaces
 * when `ip` does not: those count as missing only if the end marker is missing too.
 */
export function parseGatherOutput(stdout: string): Facts {
  const { facts, present, complete } = parseGatherPartial(stdout, { requested: SECTIONS });
  const out: Facts = { ...emptyFacts(), ...facts };
  const optionalWhenComplete = new Set<SectionName>(['packages', 'interfaces']);
  const missing = SECTIONS.filter((s) => !present.has(s) && !(complete && optionalWhenComplete.has(s)));
  if (missing.length > 0) out.missingSections = missing;
  return out;
}
