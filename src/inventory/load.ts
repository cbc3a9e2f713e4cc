// loadInventory(): Ansible's YAML inventory format, resolved the way ansible-core 2.14 does it.
//
// What this follows (ansible/plugins/inventory/yaml.py, ansible/inventory/{data,group,host}.py,
// ansible/vars/manager.py, ansible/plugins/vars/host_group_vars.py):
// - Keys of a group (`hosts`, `children`, `vars`) are processed in document order, children
//   depth first; a host is "in inventory order" where it is first met in that walk.
// - `all` and `ungrouped` always exist; `ungrouped` is the first child of `all`. After parsing,
//   every group without a parent becomes a child of `all` (in order of first appearance), and a
//   host whose only group is `all` goes to `ungrouped` (a host listed under `ungrouped` that is
//   also in another group is taken out of it).
// - A host's inventory vars and a group's inventory vars are set key by key in document order:
//   a host listed twice keeps the last value of each key.
// - Host variables, lowest to highest:
//     all's inventory vars
//     < other groups' inventory vars, groups sorted by (depth, ansible_group_priority, name)
//     < group_vars/all files
//     < group_vars/<group> files, groups in the same order
//     < the host's inventory vars (including the port of a `host:port` key as ansible_port)
//     < host_vars/<host> files
//   Every step replaces top-level keys (hash_behaviour=replace): dicts are not merged.
// - group_vars/<name>: the first of `<name>` (file or directory), `<name>.yml`, `<name>.yaml`,
//   `<name>.json` that exists is used, and only that one. A directory is read recursively in
//   sorted order, skipping hidden files, `~` backups, and files with other extensions.
//
// Deliberately stricter than Ansible (which warns and goes on): duplicate keys, unknown keys in a
// group, a group or host entry that is not a mapping, `vars:` that is not a mapping, a host range
// that expands to nothing, a vars file that is not a mapping — all InputError with a position.
// Host and group names are restricted to what can name a machine and a vars file: letters,
// digits, '_', '-', '.' (and ':' in host names, for IPv6): a name such as `web1; rm -rf /`,
// "$(...)", one with a newline or `../x` (a host_vars path outside host_vars/) is refused.
// Input files larger than MAX_INVENTORY_BYTES are refused before they are parsed.
//
// Every variable also remembers where it was written (file, line, column): varPosition()
// turns a var path of a host (['ka67', 'ha', 'networks', 0, 'vips', 1, 'vrid']) into the
// position in the inventory, group_vars/ or host_vars/ file that the host's value came from.

import { readdir, stat } from 'node:fs/promises';
import { readInputText } from '../input-file.js';
import path from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { InputError, type SourcePos } from '../errors.js';
import { expandHostPattern, HostPatternError } from './hostpattern.js';
import type { Group, Host, Inventory } from './types.js';
import { YamlSource, setOwn } from './yaml.js';

type Vars = Record<string, unknown>;

/** Largest inventory or vars file read (a 20 000-host inventory is about 2 MB). */
export const MAX_INVENTORY_BYTES = 32 * 1024 * 1024;

/** Where one variable was written: its key and value nodes in a parsed file. */
interface VarSource {
  src: YamlSource;
  key: Node;
  value: Node | null;
}
type VarSources = Map<string, VarSource>;

const HOST_NAME_RE = /^[\p{L}\p{N}_][\p{L}\p{N}_.:-]*$/u;
const GROUP_NAME_RE = /^[\p{L}\p{N}_][\p{L}\p{N}_.-]*$/u;
// Their ASCII subsets, tried first: the Unicode classes cost ~6 ms to compile on first use.
const ASCII_HOST_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;
const ASCII_GROUP_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Why a host or group name is refused, or undefined when it is fine. */
export function badName(name: string, what: 'host' | 'group'): string | undefined {
  const [ascii, re] = what === 'host' ? [ASCII_HOST_NAME_RE, HOST_NAME_RE] : [ASCII_GROUP_NAME_RE, GROUP_NAME_RE];
  if ((ascii.test(name) || re.test(name)) && !name.includes('..')) return undefined;
  const shown = JSON.stringify(name.length > 60 ? name.slice(0, 60) + '…' : name);
  const allowed = what === 'host' ? "letters, digits, _ - . and :" : 'letters, digits, _ - and .';
  return `${what} name ${shown} is not allowed: use ${allowed} (starting with a letter, digit or _; no '..'), as it also names ${what === 'host' ? 'a machine and a host_vars file' : 'a group_vars file'}`;
}

interface GroupState {
  name: string;
  hosts: string[];
  hostSet: Set<string>;
  children: string[];
  parents: string[];
  vars: Vars;
  /** Where each of `vars` was written. */
  sources: VarSources;
  priority: number;
  pos?: SourcePos;
}

interface HostState {
  name: string;
  /** Groups the host was put in directly. */
  direct: string[];
  vars: Vars;
  sources: VarSources;
  pos?: SourcePos;
}

const SECTIONS = new Set(['hosts', 'children', 'vars']);

/** An input file, type and size checked before reading (src/input-file.ts). */
function readText(file: string, what: string): Promise<string> {
  return readInputText(file, { what, maxBytes: MAX_INVENTORY_BYTES });
}

class Builder {
  readonly groups = new Map<string, GroupState>();
  readonly hosts = new Map<string, HostState>();
  readonly warnings: string[] = [];
  private readonly visiting = new Set<Node>();

  constructor(private readonly src: YamlSource) {
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

  addChild(parent: string, child: string, at?: Node): void {
    const p = this.groups.get(parent)!;
    if (p.children.includes(child)) return;
    if (child === 'all' && parent !== 'all') {
      // Every group ends up under `all`, so `all` under anything is always a loop.
      throw this.src.error(at, `children cycle: ${parent} -> all -> ${parent} ('all' contains every group and cannot be a child)`);
    }
    const loop = parent === child ? [child] : this.pathDown(child, parent);
    if (loop) {
      const cycle = [parent, ...loop].join(' -> ');
      throw this.src.error(at, `children cycle: ${cycle} (group '${child}' cannot be a child of '${parent}')`);
    }
    p.children.push(child);
    const c = this.groups.get(child)!;
    if (!c.parents.includes(parent)) c.parents.push(parent);
  }

  addHost(name: string, group: string, port: number | undefined, pos: SourcePos, at?: Node): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, direct: [], vars: {}, sources: new Map(), pos };
      if (port) {
        h.vars.ansible_port = port;
        if (at) h.sources.set('ansible_port', { src: this.src, key: at, value: at });
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

  removeHost(group: string, name: string): void {
    const g = this.groups.get(group)!;
    g.hosts = g.hosts.filter((x) => x !== name);
    g.hostSet.delete(name);
    const h = this.hosts.get(name)!;
    h.direct = h.direct.filter((x) => x !== group);
  }

  /** A scalar string key (group or host name); anything else is an error. */
  private nameOf(keyNode: Node, what: string): string {
    const k = this.src.deref(keyNode);
    if (!isScalar(k) || typeof k.value !== 'string') {
      const shown = isScalar(k) ? String(k.source ?? k.value) : 'a collection';
      throw this.src.error(
        keyNode,
        `${what} name must be a string, got ${shown}${isScalar(k) ? ' (quote it)' : ''}`,
      );
    }
    if (k.value === '') throw this.src.error(keyNode, `${what} name must not be empty`);
    if (what === 'group') {
      const bad = badName(k.value, 'group');
      if (bad) throw this.src.error(keyNode, bad);
    }
    return k.value;
  }

  private kind(node: Node | null): string {
    const n = this.src.deref(node);
    if (n === null) return 'nothing';
    if (isMap(n)) return 'a mapping';
    if (isScalar(n)) return n.value === null ? 'null' : `a ${typeof n.value} (${String(n.source ?? n.value)})`;
    return 'a list';
  }

  parseTop(root: Node | null): void {
    const r = this.src.deref(root);
    if (r === null || (isScalar(r) && r.value === null)) {
      throw new InputError('inventory file is empty', { file: this.src.file });
    }
    if (!isMap(r)) {
      throw this.src.error(r, `an inventory must be a mapping of group names (such as all:), found ${this.kind(r)}`);
    }
    const top = this.src.pairs(r);
    if (top.length === 0) throw this.src.error(r, 'inventory file is empty ({})');
    for (const { key, value } of top) {
      const name = this.nameOf(key, 'group');
      const v = this.src.deref(value);
      if (name === 'plugin' && isScalar(v) && v.value !== null && v.value !== false && v.value !== '') {
        throw this.src.error(key, 'inventory plugin configurations (plugin:) are not supported; write a YAML inventory');
      }
      this.parseGroup(name, key, value);
    }
  }

  parseGroup(name: string, keyNode: Node, valueNode: Node | null): string {
    const data = this.src.deref(valueNode);
    if (data !== null && !(isScalar(data) && data.value === null) && !isMap(data)) {
      throw this.src.error(
        valueNode,
        `group '${name}' must be a mapping (with hosts:, children:, vars:) or empty, found ${this.kind(data)}`,
      );
    }
    const group = this.addGroup(name);
    group.pos ??= this.src.pos(keyNode);
    if (!isMap(data)) return name;
    if (this.visiting.has(data)) throw this.src.error(valueNode, `recursive alias in group '${name}'`);
    this.visiting.add(data);
    for (const { key, value } of this.src.pairs(data)) {
      const section = this.src.keyString(key);
      if (!SECTIONS.has(section)) {
        throw this.src.error(
          key,
          `unexpected key '${section}' in group '${name}': only hosts, children and vars are allowed`,
        );
      }
      const v = this.src.deref(value);
      if (v === null || (isScalar(v) && v.value === null)) continue; // `hosts:` with nothing under it
      // Ansible accepts a bare string for hosts/children: `hosts: web1` means {web1: null}.
      if (isScalar(v) && typeof v.value === 'string' && section !== 'vars') {
        if (section === 'hosts') this.parseHost(name, v, null);
        else this.addChild(name, this.parseGroup(this.nameOf(v, 'group'), v, null), v);
        continue;
      }
      if (!isMap(v)) {
        throw this.src.error(
          value,
          `'${section}' of group '${name}' must be a mapping${section === 'hosts' ? ' of host names (not a list)' : ''}, found ${this.kind(v)}`,
        );
      }
      if (section === 'vars') {
        for (const p of this.src.pairs(v)) this.setGroupVar(group, p.key, p.value);
      } else if (section === 'children') {
        for (const p of this.src.pairs(v)) {
          const child = this.parseGroup(this.nameOf(p.key, 'group'), p.key, p.value);
          this.addChild(name, child, p.key);
        }
      } else {
        for (const p of this.src.pairs(v)) this.parseHost(name, p.key, p.value);
      }
    }
    this.visiting.delete(data);
    return name;
  }

  private setGroupVar(group: GroupState, keyNode: Node, valueNode: Node | null): void {
    const key = this.src.keyString(keyNode);
    const value = this.src.toJS(valueNode);
    if (key === 'ansible_group_priority') {
      // Group.set_variable(): int(value) becomes the priority; it is not a variable.
      const pr = toPyInt(value);
      if (pr === undefined) {
        throw this.src.error(valueNode ?? keyNode, `ansible_group_priority must be an integer, got ${JSON.stringify(value)}`);
      }
      if (pr !== null) group.priority = pr;
      return;
    }
    setOwn(group.vars, key, value);
    group.sources.set(key, { src: this.src, key: keyNode, value: valueNode });
  }

  private parseHost(group: string, keyNode: Node, valueNode: Node | null): void {
    const pattern = this.nameOf(keyNode, 'host');
    let expanded: { names: string[]; port?: number };
    try {
      expanded = expandHostPattern(pattern);
    } catch (e) {
      if (e instanceof HostPatternError) throw this.src.error(keyNode, e.message);
      throw e;
    }
    const v = this.src.deref(valueNode);
    let pairs: Array<{ key: Node; value: Node | null }> = [];
    if (v !== null && !(isScalar(v) && v.value === null)) {
      if (!isMap(v)) {
        throw this.src.error(valueNode, `host '${pattern}' must have a mapping of variables or nothing, found ${this.kind(v)}`);
      }
      pairs = this.src.pairs(v);
    }
    for (const hostName of expanded.names) {
      const bad = badName(hostName, 'host');
      if (bad) throw this.src.error(keyNode, bad);
    }
    const pos = this.src.pos(keyNode);
    for (const hostName of expanded.names) {
      const h = this.addHost(hostName, group, expanded.port, pos, keyNode);
      for (const p of pairs) {
        const key = this.src.keyString(p.key);
        setOwn(h.vars, key, this.src.toJS(p.value));
        h.sources.set(key, { src: this.src, key: p.key, value: p.value });
      }
    }
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
        this.addHost(h.name, 'ungrouped', undefined, h.pos ?? { file: this.src.file });
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

// ---------------------------------------------------------------- group_vars / host_vars files

const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];

// A FIFO or device counts as a file: the input reader then refuses it loudly instead of skipping it.
async function kindOf(p: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/** DataLoader._get_dir_vars_files(). */
async function dirVarsFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new InputError(`cannot read directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: dir });
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); // Python's sorted(): by code point
  const found: string[] = [];
  for (const n of names) {
    if (n.startsWith('.') || n.endsWith('~')) continue;
    const ext = path.extname(n);
    const full = path.join(dir, n);
    const k = await kindOf(full);
    if (k === 'dir' && !ext) found.push(...(await dirVarsFiles(full)));
    else if (k === 'file' && (!ext || VARS_EXTENSIONS.includes(ext))) found.push(full);
  }
  return found;
}

/** DataLoader.find_vars_files(): the first of name, name.yml, name.yaml, name.json that exists. */
async function findVarsFiles(dir: string, name: string, listing: Set<string>): Promise<string[]> {
  const base = path.join(dir, name);
  // One readdir of group_vars/ (or host_vars/) answers "does it exist?" for plain names without
  // a stat per candidate: thousands of hosts, few host_vars files.
  const plain = !name.includes('/') && !name.includes(path.sep);
  for (const ext of ['', ...VARS_EXTENSIONS]) {
    if (plain && !listing.has(name + ext)) continue;
    const full = base + ext;
    const k = await kindOf(full);
    if (k === 'dir') return dirVarsFiles(full);
    if (k === 'file') return [full];
  }
  return [];
}

interface FileVars {
  vars: Vars;
  sources: VarSources;
}

async function loadVarsFile(file: string): Promise<FileVars> {
  const text = await readText(file, 'vars file');
  const src = YamlSource.parse(text, file);
  const root = src.deref(src.root);
  const sources: VarSources = new Map();
  if (root === null || (isScalar(root) && root.value === null)) return { vars: {}, sources }; // empty file: ignored
  if (!isMap(root)) throw src.error(root, `a vars file must be a mapping of variable names, found ${isScalar(root) ? 'a scalar' : 'a list'}`);
  const vars = src.toJS(root) as Vars;
  for (const p of src.pairs(root)) sources.set(src.keyString(p.key), { src, key: p.key, value: p.value });
  return { vars, sources };
}

/** Variables of each named entity from <inventory dir>/<subdir>/, each one's files merged in order. */
async function entitiesVars(
  invDir: string,
  subdir: 'group_vars' | 'host_vars',
  names: string[],
  warnings: string[],
): Promise<Map<string, FileVars>> {
  const out = new Map<string, FileVars>(names.map((n) => [n, { vars: {}, sources: new Map() }]));
  const dir = path.join(invDir, subdir);
  const k = await kindOf(dir);
  if (k === null) return out;
  if (k !== 'dir') {
    warnings.push(`Found ${subdir} that is not a directory, skipping: ${dir}`);
    return out;
  }
  const listing = new Set(await readdir(dir).catch(() => [] as string[]));
  await Promise.all(
    names.map(async (name) => {
      if (name.startsWith('/')) return; // Ansible skips 'chroot'-like names
      const into = out.get(name)!;
      for (const f of await findVarsFiles(dir, name, listing)) {
        const fv = await loadVarsFile(f);
        merge(into.vars, fv.vars);
        for (const [k, v] of fv.sources) into.sources.set(k, v);
      }
    }),
  );
  return out;
}

function merge(into: Vars, from: Vars): Vars {
  for (const [k, v] of Object.entries(from)) setOwn(into, k, v);
  return into;
}

// ---------------------------------------------------------------- public

/** Read an Ansible YAML inventory file (and the group_vars/ host_vars/ beside it). */
export async function loadInventory(file: string): Promise<Inventory> {
  const abs = path.resolve(file);
  const text = await readText(abs, 'inventory file');
  const src = YamlSource.parse(text, abs);
  const b = new Builder(src);
  b.parseTop(src.root);
  b.reconcile();

  const invDir = path.dirname(abs);
  const depth = b.depths();
  const groupNames = [...b.groups.keys()];
  const hostNames = [...b.hosts.keys()];
  const [gFile, hFile] = await Promise.all([
    entitiesVars(invDir, 'group_vars', groupNames, b.warnings),
    entitiesVars(invDir, 'host_vars', hostNames, b.warnings),
  ]);

  const sortGroups = (names: string[]) =>
    names
      .map((n) => b.groups.get(n)!)
      .sort((x, y) => {
        const dx = depth.get(x.name)!;
        const dy = depth.get(y.name)!;
        if (dx !== dy) return dx - dy;
        if (x.priority !== y.priority) return x.priority - y.priority;
        return x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
      });

  const hosts = new Map<string, Host>();
  const layers = new Map<string, VarSources[]>();
  const all = b.groups.get('all')!;
  for (const h of b.hosts.values()) {
    const mine = b.groupsOf(h);
    const sorted = sortGroups([...mine].filter((g) => g !== 'all'));
    const vars: Vars = {};
    merge(vars, all.vars);
    for (const g of sorted) merge(vars, g.vars);
    merge(vars, gFile.get('all')!.vars);
    for (const g of sorted) merge(vars, gFile.get(g.name)!.vars);
    merge(vars, h.vars);
    merge(vars, hFile.get(h.name)!.vars);
    // The same layers, lowest first, for varPosition() (looked up only when a position is asked for).
    layers.set(h.name, [all.sources, ...sorted.map((g) => g.sources), gFile.get('all')!.sources, ...sorted.map((g) => gFile.get(g.name)!.sources), h.sources, hFile.get(h.name)!.sources]);
    hosts.set(h.name, {
      name: h.name,
      groups: [...mine].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
      vars: structuredClone(vars),
      pos: h.pos,
    });
  }

  const groups = new Map<string, Group>();
  for (const g of b.groups.values()) {
    groups.set(g.name, {
      name: g.name,
      hosts: [...g.hosts],
      children: [...g.children],
      vars: structuredClone(merge(merge({}, g.vars), gFile.get(g.name)!.vars)),
      parents: [...g.parents],
      depth: depth.get(g.name)!,
      priority: g.priority,
      ...(g.pos ? { pos: g.pos } : {}),
    });
  }
  const inventory: Inventory = { file: abs, hosts, groups, warnings: b.warnings };
  varLayers.set(inventory, layers);
  return inventory;
}

// ---------------------------------------------------------------- positions of variables

const varLayers = new WeakMap<Inventory, Map<string, VarSources[]>>();

/** The node a var path ends at (or the nearest one that exists), in the file its value came from. */
function varNode(inv: Inventory, varPath: readonly (string | number)[]): { src: YamlSource; node: Node } | undefined {
  const [host, key, ...rest] = varPath;
  if (typeof host !== 'string') return undefined;
  const layers = varLayers.get(inv)?.get(host);
  if (!layers) return undefined;
  if (key === undefined) return undefined;
  let found: VarSource | undefined;
  for (let i = layers.length - 1; i >= 0 && !found; i--) found = layers[i].get(String(key));
  if (!found) return undefined;
  const { src } = found;
  let node: Node = found.value ?? found.key;
  for (const seg of rest) {
    const n = src.deref(node);
    let next: Node | null | undefined;
    if (isMap(n) && typeof seg === 'string') {
      const pairs = src.pairs(n);
      for (let i = pairs.length - 1; i >= 0 && !next; i--) if (src.keyString(pairs[i].key) === seg) next = pairs[i].value ?? pairs[i].key;
    } else if (isSeq(n) && typeof seg === 'number') next = (n.items[seg] as Node | undefined) ?? undefined;
    if (!next) break;
    node = next;
  }
  return { src, node };
}

/**
 * Where a host's variable (or a value inside it) was written: `['ka67', 'ha', 'networks', 0,
 * 'vips', 1, 'vrid']` → the file, line and column of that value in the inventory, group_vars/
 * or host_vars/ file that won for this host. A path into a value that does not exist (a missing
 * key) gives the position of the nearest part that does. `[host]` alone: where the host is defined.
 * Undefined for hosts or variables not from files (e.g. an inventory built in code).
 */
export function varPosition(inv: Inventory, varPath: readonly (string | number)[]): SourcePos | undefined {
  if (varPath.length === 1 && typeof varPath[0] === 'string') return inv.hosts.get(varPath[0])?.pos;
  const hit = varNode(inv, varPath);
  return hit ? hit.src.pos(hit.node) : undefined;
}

/** An InputError at a host variable's position (with an excerpt of that line), or at the host's. */
export function varError(inv: Inventory, varPath: readonly (string | number)[], message: string): InputError {
  const hit = varPath.length > 1 ? varNode(inv, varPath) : undefined;
  if (hit) return hit.src.error(hit.node, message);
  const pos = typeof varPath[0] === 'string' ? inv.hosts.get(varPath[0])?.pos : undefined;
  return new InputError(message, pos ?? { file: inv.file });
}
