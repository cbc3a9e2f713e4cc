// The gather output: split at its marker lines, each section through its parser (./parsers.ts),
// assembled into Facts; a missing or cut section leaves its defaults and is named.
import { MARKERS, MARKER_PREFIX, MARKER_SUFFIX, SECTIONS, FROM_PACKAGES, type SectionName } from './gather.js';
import type { Facts, OsFacts } from './types.js';
import {
  lines, parseCapSysTime, parseFirewall, parseFirewallTools, parseHostname, parseInit, parseKeepalivedVersion, parseOsRelease,
  parsePackageManager, parsePackagesDpkg, parsePackagesRpm, parseSelinux, parseServices, parseUid, parseVirt,
} from './parsers.js';
import { parseInterfacesJson, parseInterfacesText } from './parse-interfaces.js';

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

/** Which marker(s) show that a section ran. */
const SECTION_MARKERS: Record<SectionName, string[]> = {
  os: [MARKERS.os],
  hostname: [MARKERS.hostname],
  packageManager: [MARKERS.packageManager],
  // no marker at all when neither dpkg-query nor rpm exists: decided by `complete`
  packages: [MARKERS.packagesDpkg, MARKERS.packagesRpm],
  services: [MARKERS.services],
  selinux: [MARKERS.selinux],
  firewall: [MARKERS.firewall],
  interfaces: [MARKERS.ipJson, MARKERS.ipText],
  virt: [MARKERS.virt],
  keepalived: [MARKERS.keepalived],
  clock: [MARKERS.clock],
  uid: [MARKERS.uid],
};

/**
 * Parse whatever sections the output holds into the facts they determine (for a partial
 * refresh). `family` picks dpkg or rpm when the output has both lists and no os section.
 */
export function parseGatherPartial(
  stdout: string,
  ctx: { family?: OsFacts['family']; requested?: readonly SectionName[] } = {},
): PartialParse {
  const s = splitSections(typeof stdout === 'string' ? stdout : '');
  const facts: Partial<Facts> = {};
  const present = new Set<SectionName>();
  for (const name of SECTIONS) {
    if (SECTION_MARKERS[name].some((mk) => s.has(mk))) present.add(name);
  }
  const complete = s.has(MARKERS.end);
  let family = ctx.family ?? 'unknown';
  if (s.has(MARKERS.os)) {
    facts.os = parseOsRelease(s.get(MARKERS.os) ?? '');
    family = facts.os.family;
  }
  if (s.has(MARKERS.hostname)) facts.hostname = parseHostname(s.get(MARKERS.hostname) ?? '');
  if (s.has(MARKERS.packageManager)) facts.packageManager = parsePackageManager(s.get(MARKERS.packageManager) ?? '', family);
  if (s.has(MARKERS.packagesDpkg) || s.has(MARKERS.packagesRpm)) {
    const dpkg = s.has(MARKERS.packagesDpkg) ? parsePackagesDpkg(s.get(MARKERS.packagesDpkg) ?? '') : null;
    const rpm = s.has(MARKERS.packagesRpm) ? parsePackagesRpm(s.get(MARKERS.packagesRpm) ?? '') : null;
    if (dpkg && rpm) {
      if (family === 'debian') facts.packages = dpkg;
      else if (family === 'redhat') facts.packages = rpm;
      else facts.packages = Object.keys(rpm).length > Object.keys(dpkg).length ? rpm : dpkg;
    } else facts.packages = dpkg ?? rpm ?? {};
  }
  if (s.has(MARKERS.init)) {
    const init = parseInit(s.get(MARKERS.init) ?? '');
    if (init.systemd !== undefined) facts.systemd = init.systemd;
  }
  if (s.has(MARKERS.services)) facts.services = parseServices(s.get(MARKERS.services) ?? '');
  if (s.has(MARKERS.selinux)) facts.selinux = parseSelinux(s.get(MARKERS.selinux) ?? '');
  if (s.has(MARKERS.firewall)) {
    const fw = s.get(MARKERS.firewall) ?? '';
    facts.firewall = parseFirewall(fw);
    facts.firewallTools = parseFirewallTools(fw);
  }
  if (s.has(MARKERS.ipJson) || s.has(MARKERS.ipText)) {
    let ifs = s.has(MARKERS.ipJson) ? parseInterfacesJson(s.get(MARKERS.ipJson) ?? '') : [];
    if (ifs.length === 0 && s.has(MARKERS.ipText)) ifs = parseInterfacesText(s.get(MARKERS.ipText) ?? '');
    facts.interfaces = ifs;
  }
  if (s.has(MARKERS.virt)) Object.assign(facts, parseVirt(s.get(MARKERS.virt) ?? ''));
  if (s.has(MARKERS.keepalived)) {
    const k = s.get(MARKERS.keepalived) ?? '';
    // The section can defer to the packages list gathered in the same run (gather.ts FROM_PACKAGES).
    const v = k.includes(FROM_PACKAGES) ? facts.packages?.keepalived : undefined;
    facts.keepalivedVersion = parseKeepalivedVersion(v !== undefined ? `package-version=${v}` : k);
  }
  if (s.has(MARKERS.clock)) facts.canSetClock = parseCapSysTime(s.get(MARKERS.clock) ?? '');
  if (s.has(MARKERS.uid)) facts.uid = parseUid(s.get(MARKERS.uid) ?? '');
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
