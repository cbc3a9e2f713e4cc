// loadInventory(): Ansible inventory sources (YAML and INI files, directories, comma lists)
// resolved the way ansible-core 2.14 does it (ansible/inventory/manager.py, ansible/vars/manager.py,
// ansible/plugins/vars/host_group_vars.py). How each source is read: sources.ts; the inventory
// being built: builder.ts.
//
// Host variables, lowest to highest:
//     all's inventory vars
//     < other groups' inventory vars, groups sorted by (depth, ansible_group_priority, name)
//     < group_vars/all files
//     < group_vars/<group> files, groups in the same order
//     < the host's inventory vars (including the port of a `host:port` key as ansible_port)
//     < host_vars/<host> files
//   Every step replaces top-level keys (hash_behaviour=replace): dicts are not merged. With
//   several sources, each source's group_vars/ (host_vars/) are applied in the order of the
//   sources: group_vars/ beside a file, or inside a directory source.
//
// Every variable also remembers where it was written (file, line, column): varPosition()
// turns a var path of a host (['ka67', 'ha', 'networks', 0, 'vips', 1, 'vrid']) into the
// position in the inventory, group_vars/ or host_vars/ file that the host's value came from.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, type Node } from 'yaml';
import type { YamlSource } from './yaml.js';
import { InputError, type SourcePos } from '../errors.js';
import { Builder, type VarSource, type VarSources, type Vars } from './builder.js';
import { addSource, isHostList } from './sources.js';
import type { Group, Host, Inventory } from './types.js';
import { entitiesVars, merge, type FileVars } from './vars-files.js';
import { setOwn } from './yaml.js';

export { badName } from './names.js';
export { MAX_INVENTORY_BYTES } from './read-text.js';

/** Most hosts one inventory may hold: far above any fleet run from one laptop, far below memory trouble. */
export const MAX_HOSTS = 50_000;

/** The group_vars/ and host_vars/ of every source, per entity, in the order of the sources. */
async function sourcesVars(baseDirs: string[], b: Builder): Promise<{ groups: Map<string, FileVars[]>; hosts: Map<string, FileVars[]> }> {
  const groupNames = [...b.groups.keys()];
  const hostNames = [...b.hosts.keys()];
  const per = await Promise.all(
    baseDirs.map((d) => Promise.all([entitiesVars(d, 'group_vars', groupNames, b.warnings), entitiesVars(d, 'host_vars', hostNames, b.warnings)])),
  );
  const collect = (names: string[], i: 0 | 1) => new Map(names.map((n) => [n, per.map((p) => p[i].get(n)!)]));
  return { groups: collect(groupNames, 0), hosts: collect(hostNames, 1) };
}

/** Base directories for group_vars/host_vars: a directory source itself, a file's directory; each once, last occurrence kept. */
async function baseDirsOf(sources: string[]): Promise<string[]> {
  const dirs: string[] = [];
  for (const s of sources) {
    if (await isHostList(s)) continue;
    const st = await stat(s).catch(() => undefined);
    dirs.push(st?.isDirectory() ? s : path.dirname(s));
  }
  return dirs.filter((d, i) => dirs.lastIndexOf(d) === i);
}

/**
 * Read Ansible inventory sources (as `-i` takes them: a YAML or INI file, a directory, a comma
 * list; several are merged in order) and the group_vars/ host_vars/ beside them.
 */
export async function loadInventory(sources: string | string[]): Promise<Inventory> {
  const list = (Array.isArray(sources) ? sources : [sources]).map((s) => (s.includes(',') ? s : path.resolve(s)));
  if (list.length === 0) throw new InputError('no inventory given');
  const b = new Builder();
  b.maxHosts = MAX_HOSTS;
  for (const s of list) await addSource(b, s);
  b.reconcile();
  const baseDirs = await baseDirsOf(list);
  const first = list[0]!;
  const dir = baseDirs[0] ?? process.cwd();
  return resolve(b, await sourcesVars(baseDirs, b), { file: first, dir, sources: list });
}

/** A host's own copy of its variables: values shared between hosts (group vars) are copied, plain values as they are. */
function cloneVars(vars: Vars): Vars {
  const out: Vars = {};
  for (const [k, v] of Object.entries(vars)) setOwn(out, k, typeof v === 'object' && v !== null ? structuredClone(v) : v);
  return out;
}

function resolve(b: Builder, files: Awaited<ReturnType<typeof sourcesVars>>, where: { file: string; dir: string; sources: string[] }): Inventory {
  const depth = b.depths();
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
  const gFile = (name: string) => files.groups.get(name)!;
  const hosts = new Map<string, Host>();
  const layers = new Map<string, VarSources[]>();
  const all = b.groups.get('all')!;
  for (const h of b.hosts.values()) {
    const mine = b.groupsOf(h);
    const sorted = sortGroups([...mine].filter((g) => g !== 'all'));
    // The layers, lowest first: their variables merged in this order, their sources for varPosition().
    const ordered: Array<{ vars: Vars; sources: VarSources }> = [
      all,
      ...sorted,
      ...gFile('all'),
      ...gFile('all').flatMap((_, i) => sorted.map((g) => gFile(g.name)[i]!)), // source by source
      h,
      ...files.hosts.get(h.name)!,
    ];
    const vars: Vars = {};
    for (const l of ordered) merge(vars, l.vars);
    layers.set(h.name, ordered.map((l) => l.sources));
    hosts.set(h.name, {
      name: h.name,
      groups: [...mine].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
      vars: cloneVars(vars),
      pos: h.pos,
    });
  }
  const groups = new Map<string, Group>();
  for (const g of b.groups.values()) {
    const own = merge({}, g.vars);
    for (const f of gFile(g.name)) merge(own, f.vars);
    groups.set(g.name, {
      name: g.name,
      hosts: [...g.hosts],
      children: [...g.children],
      vars: structuredClone(own),
      parents: [...g.parents],
      depth: depth.get(g.name)!,
      priority: g.priority,
      ...(g.pos ? { pos: g.pos } : {}),
    });
  }
  const inventory: Inventory = { file: where.file, dir: where.dir, sources: where.sources, hosts, groups, warnings: b.warnings };
  varLayers.set(inventory, layers);
  return inventory;
}

// ---------------------------------------------------------------- positions of variables

const varLayers = new WeakMap<Inventory, Map<string, VarSources[]>>();

/** Where a var path ends (the nearest part that exists), in the file its value came from. */
function varNode(inv: Inventory, varPath: readonly (string | number)[]): { src?: YamlSource; node?: Node; pos: SourcePos } | undefined {
  const [host, key, ...rest] = varPath;
  if (typeof host !== 'string') return undefined;
  const layers = varLayers.get(inv)?.get(host);
  if (!layers) return undefined;
  if (key === undefined) return undefined;
  let found: VarSource | undefined;
  for (let i = layers.length - 1; i >= 0 && !found; i--) found = layers[i].get(String(key));
  if (!found) return undefined;
  const { src } = found;
  const start = found.value ?? found.key;
  if (!src || !start) return { pos: found.pos }; // an INI line: no structure to walk into
  let node: Node = start;
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
  return { src, node, pos: src.pos(node) };
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
  return varNode(inv, varPath)?.pos;
}

/** An InputError at a host variable's position (with an excerpt of that line), or at the host's. */
export function varError(inv: Inventory, varPath: readonly (string | number)[], message: string): InputError {
  const hit = varPath.length > 1 ? varNode(inv, varPath) : undefined;
  if (hit) return hit.src && hit.node ? hit.src.error(hit.node, message) : new InputError(message, hit.pos);
  const pos = typeof varPath[0] === 'string' ? inv.hosts.get(varPath[0])?.pos : undefined;
  return new InputError(message, pos ?? { file: inv.file });
}
