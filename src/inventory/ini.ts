// An INI inventory file read into the Builder, as ansible-core 2.14's ini plugin does it
// (ansible/plugins/inventory/ini.py):
//   host1                          lines before any section: hosts of `ungrouped`
//   [web]                          a group; its lines are hosts: `name[:port] key=value ...`
//   www[01:03]:2222 tier=1         ranges as in YAML; values are Python literals (pyliteral.ts)
//   [web:vars]                     `key=value` per line, everything after '=' is the value
//   [dc:children]                  group names; a child may be declared further down
// `#` and `;` start a comment line; `#` also ends a host line (shlex) and a section header.
// A [g:vars] section for a group never declared, or a child never declared, is an error at the
// line that named it, as in Ansible. Every error names file:line (and the line itself).
import { InputError, excerptAt, type SourcePos } from '../errors.js';
import { maskSecretValues } from '../report/redact.js';
import type { Builder } from './builder.js';
import { expandHostPattern, HostPatternError } from './hostpattern.js';
import { badName } from './names.js';
import { iniValue } from './pyliteral.js';
import { shlexSplit, ShlexError } from './shlex.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/u;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/u;
// Python's str.splitlines() boundaries.
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

interface Pending {
  line: number;
  state: 'vars' | 'children';
  parents: string[];
}

export class IniInventoryReader {
  private lineno = 0;
  private lines: string[] = [];

  constructor(
    private readonly b: Builder,
    private readonly file: string,
    private readonly text: string,
  ) {}

  private pos(line = this.lineno): SourcePos {
    const src = this.lines[line - 1] ?? '';
    return { file: this.file, line, col: src.length - src.trimStart().length + 1 };
  }

  private error(message: string, line = this.lineno): InputError {
    const p = this.pos(line);
    return new InputError(message, p, maskSecretValues(excerptAt(this.lines.join('\n'), line, p.col)));
  }

  read(): void {
    this.lines = this.text.split(LINE_BREAK);
    this.precount();
    const pending = new Map<string, Pending>();
    let group = 'ungrouped';
    let state = 'hosts';
    for (const raw of this.lines) {
      this.lineno++;
      const line = raw.trim();
      if (!line || line[0] === '#' || line[0] === ';') continue;
      const m = SECTION.exec(line);
      if (m) {
        group = m[1]!;
        state = m[2] ?? 'hosts';
        if (state !== 'hosts' && state !== 'children' && state !== 'vars') throw this.error(`Section [${m[1]}:${m[2]}] has unknown type: ${state}`);
        const bad = badName(group, 'group');
        if (bad) throw this.error(bad);
        if (!this.b.groups.has(group)) {
          // [g:vars] alone does not declare g: it must be declared by [g] or [g:children] somewhere.
          if (state === 'vars' && !pending.has(group)) pending.set(group, { line: this.lineno, state: 'vars', parents: [] });
          this.b.addGroup(group, this.pos());
        }
        const p = pending.get(group);
        if (p && state !== 'vars') {
          if (p.state === 'children') this.addPendingChildren(group, pending);
          else pending.delete(group);
        }
        continue;
      }
      if (line.startsWith('[') && line.endsWith(']')) {
        throw this.error(`Invalid section entry: '${line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters`);
      }
      if (state === 'hosts') this.hostLine(line, group);
      else if (state === 'vars') this.varLine(line, group);
      else this.childLine(line, group, pending);
    }
    for (const [name, p] of pending) {
      if (p.state === 'vars') throw this.error(`Section [${name}:vars] not valid for undefined group: ${name}`, p.line);
      throw this.error(`Section [${p.parents[p.parents.length - 1]}:children] includes undefined group: ${name}`, p.line);
    }
  }

  /**
   * A cheap first pass: distinct host names of host lines (first words, ranges unexpanded). Past
   * the builder's host limit the file is refused here, before any line is parsed in earnest.
   */
  private precount(): void {
    const max = this.b.maxHosts;
    if (!Number.isFinite(max) || this.lines.length <= max) return;
    const seen = new Set<string>(this.b.hosts.keys());
    let hosts = true;
    for (let i = 0; i < this.lines.length; i++) {
      const line = this.lines[i]!.trim();
      if (!line || line[0] === '#' || line[0] === ';') continue;
      if (line[0] === '[' && SECTION.test(line)) {
        hosts = !line.includes(':') || /:hosts\]/.test(line);
        continue;
      }
      if (!hosts) continue;
      seen.add(line.split(/\s/, 1)[0]!);
      if (seen.size > max) throw this.error(`more than ${max} hosts: provision reads at most ${max} hosts from one inventory (split it, or use a smaller one)`, i + 1);
    }
  }

  private addPendingChildren(group: string, pending: Map<string, Pending>): void {
    for (const parent of pending.get(group)!.parents) {
      this.b.addChild(parent, group, (m) => this.error(m, pending.get(group)!.line));
      if (pending.get(parent)?.state === 'children') this.addPendingChildren(parent, pending);
    }
    pending.delete(group);
  }

  private childLine(line: string, group: string, pending: Map<string, Pending>): void {
    const m = GROUP_NAME.exec(line);
    if (!m) throw this.error(`Expected group name, got: ${line}`);
    const child = m[1]!;
    const bad = badName(child, 'group');
    if (bad) throw this.error(bad);
    if (this.b.groups.has(child)) {
      this.b.addChild(group, child, (msg) => this.error(msg));
      return;
    }
    const p = pending.get(child);
    if (p) p.parents.push(group);
    else pending.set(child, { line: this.lineno, state: 'children', parents: [group] });
  }

  private varLine(line: string, group: string): void {
    const eq = line.indexOf('=');
    if (eq < 0) throw this.error(`Expected key=value, got: ${line}`);
    const key = line.slice(0, eq).trim();
    const value = iniValue(line.slice(eq + 1).trim());
    const g = this.b.groups.get(group)!;
    this.b.setGroupVar(g, key, value, { pos: this.pos() }, (m) => this.error(m));
  }

  private hostLine(line: string, group: string): void {
    let tokens: string[];
    try {
      tokens = shlexSplit(line);
    } catch (e) {
      if (e instanceof ShlexError) throw this.error(`Error parsing host definition '${line}': ${e.message}`);
      throw e;
    }
    if (tokens.length === 0) return; // a line of only a comment after spaces
    const pattern = tokens[0]!;
    let expanded: { names: string[]; port?: number };
    try {
      expanded = expandHostPattern(pattern);
    } catch (e) {
      if (e instanceof HostPatternError) throw this.error(e.message);
      throw e;
    }
    if (pattern.trim().endsWith(':') && expanded.port === undefined) {
      throw this.error(`Invalid host pattern '${pattern}' supplied, ending in ':' is not allowed, this character is reserved to provide a port.`);
    }
    if (expanded.names.some((n) => n.trim() === '---')) {
      throw this.error(`Invalid host pattern '${pattern}' supplied, '---' is normally a sign this is a YAML file.`);
    }
    const vars: Array<[string, unknown]> = [];
    for (const t of tokens.slice(1)) {
      const eq = t.indexOf('=');
      if (eq < 0) throw this.error(`Expected key=value host variable assignment, got: ${t}`);
      vars.push([t.slice(0, eq), iniValue(t.slice(eq + 1))]);
    }
    for (const name of expanded.names) {
      const bad = badName(name, 'host');
      if (bad) throw this.error(bad);
    }
    const pos = this.pos();
    const source = { pos }; // one per line: every variable of the line was written there
    for (const name of expanded.names) {
      const h = this.b.addHost(name, group, expanded.port, pos, source);
      for (const [k, v] of vars) this.b.setHostVar(h, k, typeof v === 'object' && v !== null ? structuredClone(v) : v, source);
    }
  }
}
