// Facts of a host: the gather command (one round trip for the sections asked), and which
// section fills each field of Facts. The run's cache of them is ./cache.ts.
import { HostError } from '../errors.js';
import type { Transport } from '../transport/types.js';
import { raw } from '../transport/quote.js';
import { gatherScriptBody, isValidUnitName, MARKERS, marker, SECTIONS, type SectionName } from './gather.js';
import { emptyFacts, parseGatherOutput, parseGatherPartial } from './parsers.js';
import type { Facts } from './types.js';

export * from './types.js';
export { gatherScript, gatherScriptBody, serviceStateScript, marker, MARKERS, SECTIONS, isValidUnitName } from './gather.js';
export type { SectionName } from './gather.js';
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

export interface GatherOptions {
  /** Only these sections (default: all). */
  sections?: readonly SectionName[];
  /** Units whose state the services section reports (the union of the services the roles mention). */
  services?: string[];
  /** Gather through sudo. Default false: facts need no root (rule sets then count by service state). */
  sudo?: boolean;
  /** Kill a gather after this long. Default 60 s. */
  timeoutMs?: number;
}

/**
 * Gather facts of the transport's host in one command: every section asked (default all);
 * the others keep their "unknown"/empty defaults. A killed command, or one that printed no
 * facts, is a HostError naming the host. Not cached: the run's one cache is ./cache.ts.
 */
export async function gatherFacts(t: Transport, opts: GatherOptions = {}): Promise<Facts> {
  const sections = opts.sections ?? SECTIONS;
  const services = [...new Set(opts.services ?? [])];
  for (const s of services) {
    if (!isValidUnitName(s)) throw new Error(`not a systemd unit name: ${JSON.stringify(s)}`);
  }
  if (sections.length === 0) return emptyFacts();
  const started = performance.now();
  // In the persistent shell when it is free: no SSH session (sshd fork, login shell) per gather.
  const res = await t.exec(raw(gatherScriptBody({ services, sections })), { sudo: opts.sudo ?? false, timeoutMs: opts.timeoutMs ?? 60_000, reuseShell: true });
  const ms = Math.round(performance.now() - started);
  if (res.code === null) {
    throw new HostError(t.host, 'failed', `fact gathering was killed (${res.signal ?? 'signal'}) after ${ms} ms`);
  }
  if (!res.stdout.includes(marker(MARKERS.begin))) {
    const why = (res.stderr || res.stdout).trim().split('\n').slice(0, 3).join(' | ');
    throw new HostError(t.host, 'failed', `fact gathering printed no facts (exit ${res.code})${why ? `: ${why}` : ''}`);
  }
  if (SECTIONS.every((s) => sections.includes(s))) return parseGatherOutput(res.stdout);
  return { ...emptyFacts(), ...parseGatherPartial(res.stdout, { requested: sections }).facts };
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
