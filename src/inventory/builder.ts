// The inventory being built, whatever file format it comes from: Ansible's InventoryData
// (ansible/inventory/data.py). Every source of one run (YAML and INI files, a directory's files,
// a comma list) adds groups, hosts and variables to the same Builder, then reconcile() runs once.
//
// - `all` and `ungrouped` always exist; `ungrouped` is the first child of `all`. After parsing,
//   every group without a parent becomes a child of `all` (in order of first appearance), and a
//   host whose only group is `all` goes to `ungrouped` (a host listed under `ungrouped` that is
//   also in another group is taken out of it).
// - A host's and a group's variables are set key by key in the order they are read: a host
//   listed twice keeps the last value of each key. The port of `host:port` becomes ansible_port
//   only where the host is first met.
import type { Node } from 'yaml';
import { InputError, type SourcePos } from '../errors.js';
import type { YamlSource } from './yaml.js';
import { setOwn } from './yaml.js';

export type Vars = Record<string, unknown>;

/** Where one variable was written: a position, and for YAML its key and value nodes (for paths into the value). */
export interface VarSource {
  pos: SourcePos;
  excerpt?: string;
  src?: YamlSource;
  key?: Node;
  value?: Node | null;
}
export type VarSources = Map<string, VarSource>;

/** Builds the InputError for a problem at the place being read (a YAML node, an INI line). */
export type Fail = (message: string) => InputError;

export interface GroupState {
  name: string;
  hosts: string[];
  hostSet: Set<string>;
  children: string[];
  parents: string[];
  vars: Vars;
  sources: VarSources;
  priority: number;
  pos?: SourcePos;
}

export interface HostState {
  name: string;
  /** Groups the host was put in directly. */
  direct: string[];
  vars: Vars;
  sources: VarSources;
  pos?: SourcePos;
}

export class Builder {
  readonly groups = new Map<string, GroupState>();
  readonly hosts = new Map<string, HostState>();
  readonly warnings: string[] = [];
  /** Refuse more hosts than this (set by the loader; a generated or hostile file can hold millions). */
  maxHosts = Infinity;

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  addGroup(name: string, pos?: SourcePos): GroupState {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, hosts: [], hostSet: new Set(), children: [], parents: [], vars: {}, sources: new Map(), priority: 1, pos };
      this.groups.set(name, g);
    }
    return g;
  }

  /** Path of group names from `from` down to `to` through children, or null. */
  private pathDown(from: string, to: string, seen = new Set<string>()): string[] | null {
    if (from === to) return [to];
    if (seen.has(from)) return null;
    seen.add(from);
    for (const c of this.groups.get(from)!.children) {
      const p = this.pathDown(c, to, seen);
      if (p) return [from, ...p];
    }
    return null;
  }

  addChild(parent: string, child: string, fail?: Fail): void {
    const p = this.groups.get(parent)!;
    if (p.children.includes(child)) return;
    const error = (m: string) => (fail ? fail(m) : new InputError(m));
    if (child === 'all' && parent !== 'all') {
      // Every group ends up under `all`, so `all` under anything is always a loop.
      throw error(`children cycle: ${parent} -> all -> ${parent} ('all' contains every group and cannot be a child)`);
    }
    const loop = parent === child ? [child] : this.pathDown(child, parent);
    if (loop) {
      const cycle = [parent, ...loop].join(' -> ');
      throw error(`children cycle: ${cycle} (group '${child}' cannot be a child of '${parent}')`);
    }
    p.children.push(child);
    const c = this.groups.get(child)!;
    if (!c.parents.includes(parent)) c.parents.push(parent);
  }

  /** Add a host (once) and put it in a group; `portSource` records where a `host:port` was written. */
  addHost(name: string, group: string, port: number | undefined, pos: SourcePos, portSource?: VarSource): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      if (this.hosts.size >= this.maxHosts) {
        throw new InputError(`more than ${this.maxHosts} hosts: provision reads at most ${this.maxHosts} hosts from one inventory (split it, or use a smaller one)`, pos);
      }
      h = { name, direct: [], vars: {}, sources: new Map(), pos };
      if (port) {
        h.vars.ansible_port = port;
        if (portSource) h.sources.set('ansible_port', portSource);
      }
      this.hosts.set(name, h);
    }
    const g = this.groups.get(group)!;
    if (!g.hostSet.has(name)) {
      g.hostSet.add(name);
      g.hosts.push(name);
      h.direct.push(group);
    }
    return h;
  }

  setHostVar(h: HostState, key: string, value: unknown, source: VarSource): void {
    setOwn(h.vars, key, value);
    h.sources.set(key, source);
  }

  /** Group.set_variable(): ansible_group_priority sets the priority (int()), anything else a variable. */
  setGroupVar(group: GroupState, key: string, value: unknown, source: VarSource, fail: Fail): void {
    if (key === 'ansible_group_priority') {
      const pr = toPyInt(value);
      if (pr === undefined) throw fail(`ansible_group_priority must be an integer, got ${JSON.stringify(value)}`);
      if (pr !== null) group.priority = pr;
      return;
    }
    setOwn(group.vars, key, value);
    group.sources.set(key, source);
  }

  private removeHost(group: string, name: string): void {
    const g = this.groups.get(group)!;
    g.hosts = g.hosts.filter((x) => x !== name);
    g.hostSet.delete(name);
    const h = this.hosts.get(name)!;
    h.direct = h.direct.filter((x) => x !== group);
  }

  /** InventoryData.reconcile_inventory(). */
  reconcile(): void {
    for (const g of this.groups.values()) {
      if (g.name !== 'all' && g.parents.length === 0) this.addChild('all', g.name);
    }
    for (const h of this.hosts.values()) {
      const mine = this.groupsOf(h);
      if (mine.has('ungrouped')) {
        const others = [...mine].filter((g) => g !== 'all' && g !== 'ungrouped');
        if (others.length > 0) this.removeHost('ungrouped', h.name);
      } else if (mine.size === 0 || (mine.size === 1 && mine.has('all'))) {
        this.addHost(h.name, 'ungrouped', undefined, h.pos ?? { file: '' });
      }
    }
    for (const name of this.groups.keys()) {
      if (this.hosts.has(name)) this.warnings.push(`Found both group and host with same name: ${name}`);
    }
  }

  /** A host's groups with all their ancestors. */
  groupsOf(h: HostState): Set<string> {
    const out = new Set<string>();
    const visit = (g: string) => {
      if (out.has(g)) return;
      out.add(g);
      for (const p of this.groups.get(g)!.parents) visit(p);
    };
    h.direct.forEach(visit);
    return out;
  }

  /** Longest path from `all`, which is what Group.depth ends up as in Ansible. */
  depths(): Map<string, number> {
    const memo = new Map<string, number>();
    const depth = (g: string): number => {
      const known = memo.get(g);
      if (known !== undefined) return known;
      const ps = this.groups.get(g)!.parents;
      const d = ps.length === 0 ? 0 : Math.max(...ps.map((p) => depth(p) + 1));
      memo.set(g, d);
      return d;
    };
    for (const g of this.groups.keys()) depth(g);
    return memo;
  }
}

/** Python's int() on an ansible_group_priority value: a number, undefined if invalid, null if ignored. */
function toPyInt(v: unknown): number | null | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && /^\s*[-+]?[0-9]+(?:_[0-9]+)*\s*$/.test(v)) return parseInt(v.replace(/_/g, ''), 10);
  if (v === null) return null; // int(None) is a TypeError, which Ansible ignores
  return undefined;
}
