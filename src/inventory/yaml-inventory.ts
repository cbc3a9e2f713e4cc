// A YAML inventory file read into the Builder, the way ansible-core 2.14's yaml plugin does it
// (ansible/plugins/inventory/yaml.py): keys of a group (`hosts`, `children`, `vars`) in document
// order, children depth first; a host is "in inventory order" where it is first met in that walk.
//
// Deliberately stricter than Ansible (which warns and goes on): duplicate keys, unknown keys in a
// group, a group or host entry that is not a mapping, `vars:` that is not a mapping, a host range
// that expands to nothing — all InputError with a position.
import { isMap, isScalar, type Node } from 'yaml';
import { InputError } from '../errors.js';
import { Builder, type GroupState, type VarSource } from './builder.js';
import { expandHostPattern, HostPatternError } from './hostpattern.js';
import { badName } from './names.js';
import type { YamlSource } from './yaml.js';

const SECTIONS = new Set(['hosts', 'children', 'vars']);

/** Thrown for a file that is YAML but not an inventory Ansible's yaml plugin takes (its INI fallback may still). */
export class NotYamlInventory extends InputError {}

export class YamlInventoryReader {
  private readonly visiting = new Set<Node>();

  constructor(
    private readonly b: Builder,
    private readonly src: YamlSource,
  ) {}

  private source(key: Node, value: Node | null): VarSource {
    return { pos: this.src.pos(value ?? key), src: this.src, key, value };
  }

  /** A scalar string key (group or host name); anything else is an error. */
  private nameOf(keyNode: Node, what: string): string {
    const k = this.src.deref(keyNode);
    if (!isScalar(k) || typeof k.value !== 'string') {
      const shown = isScalar(k) ? String(k.source ?? k.value) : 'a collection';
      throw this.src.error(keyNode, `${what} name must be a string, got ${shown}${isScalar(k) ? ' (quote it)' : ''}`);
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

  read(): void {
    const r = this.src.deref(this.src.root);
    if (r === null || (isScalar(r) && r.value === null)) {
      throw new NotYamlInventory('inventory file is empty', { file: this.src.file });
    }
    if (!isMap(r)) {
      const e = this.src.error(r, `an inventory must be a mapping of group names (such as all:), found ${this.kind(r)}`);
      throw new NotYamlInventory(e.message, e.pos, e.excerpt);
    }
    const top = this.src.pairs(r);
    if (top.length === 0) throw this.src.error(r, 'inventory file is empty ({})');
    for (const { key, value } of top) {
      const name = this.nameOf(key, 'group');
      const v = this.src.deref(value);
      if (name === 'plugin' && isScalar(v) && v.value !== null && v.value !== false && v.value !== '') {
        throw this.src.error(key, 'inventory plugin configurations (plugin:) are not supported; write a YAML or INI inventory');
      }
      this.group(name, key, value);
    }
  }

  private group(name: string, keyNode: Node, valueNode: Node | null): string {
    const data = this.src.deref(valueNode);
    if (data !== null && !(isScalar(data) && data.value === null) && !isMap(data)) {
      throw this.src.error(valueNode, `group '${name}' must be a mapping (with hosts:, children:, vars:) or empty, found ${this.kind(data)}`);
    }
    const group = this.b.addGroup(name);
    group.pos ??= this.src.pos(keyNode);
    if (!isMap(data)) return name;
    if (this.visiting.has(data)) throw this.src.error(valueNode, `recursive alias in group '${name}'`);
    this.visiting.add(data);
    for (const { key, value } of this.src.pairs(data)) this.section(group, key, value);
    this.visiting.delete(data);
    return name;
  }

  private section(group: GroupState, key: Node, value: Node | null): void {
    const name = group.name;
    const section = this.src.keyString(key);
    if (!SECTIONS.has(section)) {
      throw this.src.error(key, `unexpected key '${section}' in group '${name}': only hosts, children and vars are allowed`);
    }
    const v = this.src.deref(value);
    if (v === null || (isScalar(v) && v.value === null)) return; // `hosts:` with nothing under it
    // Ansible accepts a bare string for hosts/children: `hosts: web1` means {web1: null}.
    if (isScalar(v) && typeof v.value === 'string' && section !== 'vars') {
      if (section === 'hosts') this.host(name, v, null);
      else this.b.addChild(name, this.group(this.nameOf(v, 'group'), v, null), (m) => this.src.error(v, m));
      return;
    }
    if (!isMap(v)) {
      throw this.src.error(value, `'${section}' of group '${name}' must be a mapping${section === 'hosts' ? ' of host names (not a list)' : ''}, found ${this.kind(v)}`);
    }
    if (section === 'vars') {
      for (const p of this.src.pairs(v)) {
        const fail = (m: string) => this.src.error(p.value ?? p.key, m);
        this.b.setGroupVar(group, this.src.keyString(p.key), this.src.toJS(p.value), this.source(p.key, p.value), fail);
      }
    } else if (section === 'children') {
      for (const p of this.src.pairs(v)) {
        const child = this.group(this.nameOf(p.key, 'group'), p.key, p.value);
        this.b.addChild(name, child, (m) => this.src.error(p.key, m));
      }
    } else {
      for (const p of this.src.pairs(v)) this.host(name, p.key, p.value);
    }
  }

  private host(group: string, keyNode: Node, valueNode: Node | null): void {
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
      if (!isMap(v)) throw this.src.error(valueNode, `host '${pattern}' must have a mapping of variables or nothing, found ${this.kind(v)}`);
      pairs = this.src.pairs(v);
    }
    for (const hostName of expanded.names) {
      const bad = badName(hostName, 'host');
      if (bad) throw this.src.error(keyNode, bad);
    }
    const pos = this.src.pos(keyNode);
    for (const hostName of expanded.names) {
      const h = this.b.addHost(hostName, group, expanded.port, pos, this.source(keyNode, keyNode));
      for (const p of pairs) this.b.setHostVar(h, this.src.keyString(p.key), this.src.toJS(p.value), this.source(p.key, p.value));
    }
  }
}
