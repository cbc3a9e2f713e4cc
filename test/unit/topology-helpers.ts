// Test helpers for the topology tests: a minimal Ansible-style YAML inventory reader
// (all.vars, children, hosts; host > child group > parent group > all) with a position
// resolver, standing in for src/inventory's loader, and a network-namespace runner for
// `keepalived -t` and `nginx -t`.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isCollection, isNode } from 'yaml';
import type { Host } from '../../src/inventory/types.js';
import type { SourcePos } from '../../src/errors.js';
import type { PosResolver } from '../../src/topology/types.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = join(ROOT, 'test/fixtures/topology');
export const GOLDEN = join(ROOT, 'test/golden');

export interface Loaded {
  file: string;
  dir: string;
  hosts: Host[];
  resolvePos: PosResolver;
}

type Raw = Record<string, unknown>;

export function loadInventoryText(text: string, file = '<inline>'): Loaded {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length) throw new Error(doc.errors[0].message);
  const js = doc.toJS() as Raw;
  const root = js.all as Raw;
  const hosts = new Map<string, { vars: Raw; chain: (string | number)[][]; groups: Set<string> }>();
  // chain: yaml paths of the var scopes that apply, most specific first.
  const walk = (g: Raw, name: string, path: (string | number)[], scopes: (string | number)[][], groups: string[]) => {
    const myScopes = g.vars ? [[...path, 'vars'], ...scopes] : scopes;
    const myGroups = [...groups, name];
    for (const [h, hv] of Object.entries((g.hosts as Raw) ?? {})) {
      const entry = hosts.get(h) ?? { vars: {}, chain: [], groups: new Set<string>() };
      entry.chain = [[...path, 'hosts', h], ...myScopes];
      myGroups.forEach((x) => entry.groups.add(x));
      entry.vars = { ...(hv as Raw | null ?? {}) };
      hosts.set(h, entry);
    }
    for (const [c, cv] of Object.entries((g.children as Raw) ?? {})) walk((cv as Raw) ?? {}, c, [...path, 'children', c], myScopes, myGroups);
  };
  walk(root, 'all', ['all'], [], []);
  const get = (p: (string | number)[]): unknown => p.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Raw)[k as string] : undefined), js);
  const out: Host[] = [];
  for (const [name, e] of hosts) {
    const vars: Raw = {};
    for (const scope of [...e.chain].reverse()) Object.assign(vars, (get(scope) as Raw | null) ?? {});
    out.push({ name, groups: [...e.groups].sort(), vars });
  }
  const resolvePos: PosResolver = (path) => {
    const [host, key, ...rest] = path;
    const e = hosts.get(String(host));
    if (!e) return undefined;
    if (key === undefined) return at([...e.chain[0]]);
    for (const scope of e.chain) {
      if (doc.hasIn([...scope, key])) {
        // Walk down as far as the path exists.
        let p = [...scope, key];
        for (const k of rest) {
          if (!doc.hasIn([...p, k])) break;
          p = [...p, k];
        }
        return at(p);
      }
    }
    return at(e.chain[0]);
  };
  const at = (p: (string | number)[]): SourcePos | undefined => {
    const n = doc.getIn(p, true);
    const node = isNode(n) ? n : isCollection(n) ? n : undefined;
    if (!node?.range) return { file };
    const { line, col } = lc.linePos(node.range[0]);
    return { file, line, col };
  };
  return { file, dir: dirname(file), hosts: out, resolvePos };
}

export function loadFixture(name: string): Loaded {
  const file = join(FIXTURES, name);
  return loadInventoryText(readFileSync(file, 'utf8'), file);
}

/** Whether we may create network namespaces (root + ip netns). */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('ip', ['netns', 'list']).status === 0;
}

/**
 * A fresh network namespace "pv-test-<random>" holding interfaces eth0 and eth1, up with
 * carrier: dummy, or one end of a veth pair (both ends in the namespace) where the kernel
 * has no dummy driver. Delete it with deleteNetns.
 */
export function createNetns(): string {
  const ns = `pv-test-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    for (const [i, ifname] of ['eth0', 'eth1'].entries()) {
      const dummy = spawnSync('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'dummy']);
      if (dummy.status !== 0) {
        execFileSync('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', `pvpeer${i}`]);
        execFileSync('ip', ['-n', ns, 'link', 'set', `pvpeer${i}`, 'up']);
      }
      execFileSync('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
    }
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    deleteNetns(ns);
    throw e;
  }
  return ns;
}

export function deleteNetns(ns: string): void {
  spawnSync('ip', ['netns', 'del', ns]);
}

/** Run `fn(ns)` in a fresh namespace (see createNetns); the namespace is always deleted. */
export function withNetns<T>(fn: (ns: string) => T): T {
  const ns = createNetns();
  try {
    return fn(ns);
  } finally {
    deleteNetns(ns);
  }
}

export async function withNetnsAsync<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = createNetns();
  try {
    return await fn(ns);
  } finally {
    deleteNetns(ns);
  }
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
