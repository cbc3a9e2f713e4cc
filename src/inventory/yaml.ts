// Reading YAML (and JSON) the way Ansible does, with source positions for every error.
//
// Why a custom schema rather than the yaml package's `version: '1.1'` alone:
// Ansible loads YAML with PyYAML, whose implicit typing is YAML 1.1 — `yes`/`on`/`True` are
// booleans and `0644` is the octal 420 — but it is not exactly the `yaml-1.1` schema of the yaml
// package, which also reads `y`/`n` as booleans, `1e3` as a float, `09` as the integer 9 and
// timestamps as Date objects. PyYAML (as ansible-core 2.14 uses it) reads `y`/`n`/`1e3`/`09` as
// strings, and ansible-inventory prints a timestamp through Python's isoformat(). So we parse
// with `version: '1.1'` (YAML 1.1 syntax and merge keys `<<`) and replace the scalar resolvers
// with PyYAML's own regular expressions (copied from yaml.resolver.Resolver, PyYAML 6.0).
// The table test in test/unit/inventory-yaml.test.ts pins each case against PyYAML's answer.
//
// Like Ansible's loader, a file that parses as JSON is read as JSON (so `1e5` in a .json file is
// a number); it still goes through the yaml package (JSON schema) to keep source positions.

import {
  Document,
  LineCounter,
  Scalar,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type ParsedNode,
  type ScalarTag,
  type Tags,
} from 'yaml';
import { InputError, excerptAt, type SourcePos } from '../errors.js';
import { maskSecretValues } from '../report/redact.js';
import { parseYamlDocument } from '../yaml-depth.js';

// PyYAML 6.0 implicit resolvers (yaml/resolver.py), verbatim apart from removing the x-flag whitespace.
const PY_NULL = /^(?:~|null|Null|NULL|)$/;
const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const PY_INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PY_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const PY_TIMESTAMP =
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;
const TIMESTAMP_PARTS =
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?)?$/;

/** PyYAML construct_yaml_int. */
function pyInt(src: string): number {
  let v = src.replace(/_/g, '');
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '+' || v[0] === '-') v = v.slice(1);
  let n: number;
  if (v === '0') return 0;
  else if (v.startsWith('0b')) n = parseInt(v.slice(2), 2);
  else if (v.startsWith('0x')) n = parseInt(v.slice(2), 16);
  else if (v[0] === '0') n = parseInt(v, 8);
  else if (v.includes(':')) n = v.split(':').reduce((acc, d) => acc * 60 + parseInt(d, 10), 0);
  else n = parseInt(v, 10);
  if (Number.isNaN(n)) throw new Error(`invalid integer: ${src}`);
  return n === 0 ? 0 : sign * n;
}

/** PyYAML construct_yaml_float. */
function pyFloat(src: string): number {
  let v = src.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (v[0] === '-') sign = -1;
  if (v[0] === '+' || v[0] === '-') v = v.slice(1);
  if (v === '.inf') return sign * Infinity;
  if (v === '.nan') return NaN;
  if (v.includes(':')) return sign * v.split(':').reduce((acc, d) => acc * 60 + parseFloat(d), 0);
  return sign * parseFloat(v);
}

/**
 * PyYAML makes a datetime.date / datetime.datetime; ansible-inventory prints it with isoformat().
 * We keep that text, which is also what a template would see once Ansible turns it into a string.
 */
function pyTimestamp(src: string): string {
  const m = TIMESTAMP_PARTS.exec(src);
  if (!m) return src;
  const [, y, mo, d, hh, mm, ss, frac, tz, tzSign, tzH, tzM] = m;
  const p2 = (s: string) => s.padStart(2, '0');
  const date = `${y}-${p2(mo!)}-${p2(d!)}`;
  if (hh === undefined) return date;
  let out = `${date}T${p2(hh)}:${mm}:${ss}`;
  if (frac) {
    const micro = (frac.slice(0, 6) + '000000').slice(0, 6);
    if (Number(micro) !== 0) out += `.${micro}`;
  }
  if (tz === 'Z') out += '+00:00';
  else if (tzSign) {
    const h = Number(tzH);
    const mins = Number(tzM ?? 0);
    // Python's timezone(timedelta) normalises e.g. -0:00 to +00:00.
    const sign = h === 0 && mins === 0 ? '+' : tzSign;
    out += `${sign}${p2(String(h))}:${p2(String(mins))}`;
  }
  return out;
}

const pyTags: ScalarTag[] = [
  { tag: 'tag:yaml.org,2002:null', default: true, test: PY_NULL, resolve: () => new Scalar(null) },
  { tag: 'tag:yaml.org,2002:bool', default: true, test: PY_TRUE, resolve: () => new Scalar(true) },
  { tag: 'tag:yaml.org,2002:bool', default: true, test: PY_FALSE, resolve: () => new Scalar(false) },
  { tag: 'tag:yaml.org,2002:float', default: true, test: PY_FLOAT, format: 'PYFLOAT', resolve: (s) => pyFloat(s) },
  { tag: 'tag:yaml.org,2002:int', default: true, test: PY_INT, resolve: (s) => pyInt(s) },
  { tag: 'tag:yaml.org,2002:timestamp', default: true, test: PY_TIMESTAMP, resolve: (s) => pyTimestamp(s) },
  // Ansible's `!unsafe` marks a string Jinja must not template; to us it is a plain string.
  { tag: '!unsafe', resolve: (s) => s },
];

/** Keep the collection tags, the string fallback and `<<`; drop the yaml package's 1.1 scalar resolvers. */
function pyYamlTags(tags: Tags): Tags {
  const keep = tags.filter((t) => {
    const name = typeof t === 'string' ? t : t.tag;
    return (
      name === 'tag:yaml.org,2002:map' ||
      name === 'tag:yaml.org,2002:seq' ||
      name === 'tag:yaml.org,2002:str' ||
      name === 'tag:yaml.org,2002:merge'
    );
  });
  return [...pyTags, ...keep];
}

/**
 * How many values aliases (`*x`) and merge keys (`<<`) may add to one file. Each alias builds a
 * fresh copy of its anchor, so a few nested anchors (the "billion laughs" document) would build
 * 10^9 values; real inventories stay far below this.
 */
export const MAX_ALIAS_EXPANSION = 1_000_000;

/** A parsed YAML/JSON file, able to turn any of its nodes into a position and an InputError. */
export class YamlSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document;
  private readonly lc: LineCounter;
  /** Values still allowed to come from aliases and merge keys (see MAX_ALIAS_EXPANSION). */
  private aliasBudget = MAX_ALIAS_EXPANSION;

  private constructor(file: string, text: string, doc: Document, lc: LineCounter) {
    this.file = file;
    this.text = text;
    this.doc = doc;
    this.lc = lc;
  }

  /** Parse text; throws InputError (with line, column and excerpt) on any syntax error. */
  static parse(text: string, file: string): YamlSource {
    let isJson = false;
    try {
      JSON.parse(text);
      isJson = true;
    } catch {
      /* not JSON: YAML it is, as in Ansible's from_yaml() */
    }
    const lc = new LineCounter();
    const doc = isJson
      ? parseYamlDocument(text, file, lc, { schema: 'json', uniqueKeys: true })
      : parseYamlDocument(text, file, lc, { version: '1.1', customTags: pyYamlTags, merge: true, uniqueKeys: true });
    const src = new YamlSource(file, text, doc, lc);
    const first = doc.errors[0];
    if (first) {
      if (first.code === 'DUPLICATE_KEY') {
        // The yaml package points after the previous value; point at the repeated key instead.
        const dup = findDuplicateKey(doc.contents as Node | null);
        if (dup) {
          const at = lc.linePos(dup.again.range![0]);
          const was = lc.linePos(dup.first.range![0]);
          throw src.errorAt(at.line, at.col, `duplicate key '${String(dup.again.source ?? dup.again.value)}' (first at line ${was.line}, column ${was.col})`);
        }
      }
      const { line, col } = lc.linePos(first.pos[0]);
      throw src.errorAt(line, col, yamlMessage(first.code, first.message));
    }
    for (const w of doc.warnings) {
      if (w.code === 'TAG_RESOLVE_FAILED') {
        const { line, col } = lc.linePos(w.pos[0]);
        const tag = /Unresolved tag: (\S+)/.exec(w.message)?.[1];
        const why =
          tag === '!vault'
            ? 'Ansible Vault values (!vault) are not supported'
            : `unsupported YAML tag ${tag ?? ''}`.trimEnd();
        throw src.errorAt(line, col, why);
      }
    }
    return src;
  }

  get root(): Node | null {
    return (this.doc.contents as Node | null) ?? null;
  }

  pos(node: Node | null | undefined): SourcePos {
    const r = node?.range;
    if (!r) return { file: this.file };
    const { line, col } = this.lc.linePos(r[0]);
    return { file: this.file, line, col };
  }

  errorAt(line: number, col: number, message: string): InputError {
    // The excerpt quotes the file: a password written on that line must not be shown.
    return new InputError(message, { file: this.file, line, col }, maskSecretValues(excerptAt(this.text, line, col)));
  }

  error(node: Node | null | undefined, message: string): InputError {
    const p = this.pos(node);
    return p.line ? this.errorAt(p.line, p.col ?? 1, message) : new InputError(message, p);
  }

  /** Follow an alias to its node (aliases may point at aliases). */
  deref(node: Node | null | undefined): Node | null {
    let n = node ?? null;
    for (let i = 0; n && isAlias(n); i++) {
      if (i > 100) throw this.error(node, 'alias chain too deep');
      n = n.resolve(this.doc) ?? null;
      if (!n) throw this.error(node, 'alias to an unknown anchor');
    }
    return n;
  }

  /**
   * The key/value pairs of a mapping in document order, with `<<` merge keys expanded the way
   * PyYAML's flatten_mapping does: merged pairs first (for a list of maps, later maps first, so
   * the first map wins), then the map's own pairs, later pairs overriding earlier ones.
   */
  pairs(map: Node, seen: Set<Node> = new Set()): Array<{ key: Node; value: Node | null }> {
    if (!isMap(map)) throw this.error(map, 'expected a mapping');
    if (seen.has(map)) throw this.error(map, 'recursive alias in merge key');
    seen.add(map);
    const merged: Array<{ key: Node; value: Node | null }> = [];
    const own: Array<{ key: Node; value: Node | null }> = [];
    for (const item of map.items) {
      const key = item.key as Node | null;
      const value = (item.value as Node | null) ?? null;
      if (isScalar(key) && typeof key.value === 'symbol') {
        const target = this.deref(value);
        if (isMap(target)) merged.push(...this.spend(value ?? key, this.pairs(target, seen)));
        else if (isSeq(target)) {
          const subs = target.items.map((it) => {
            const sub = this.deref(it as Node);
            if (!isMap(sub)) throw this.error(sub ?? value, 'a merge key (<<) list must hold mappings only');
            return this.pairs(sub, seen);
          });
          for (const s of subs.reverse()) merged.push(...this.spend(value ?? key, s));
        } else throw this.error(value ?? key, 'a merge key (<<) needs a mapping or a list of mappings');
        continue;
      }
      if (key === null) throw this.error(map, 'empty mapping key');
      own.push({ key, value });
    }
    seen.delete(map);
    return [...merged, ...own];
  }

  /** The key of a pair as Python's json.dumps would write it (True → "true", 1.0 → "1.0"). */
  keyString(keyNode: Node): string {
    const k = this.deref(keyNode);
    if (!isScalar(k)) throw this.error(keyNode, 'a mapping key must be a scalar, not a list or mapping');
    const v = k.value;
    if (typeof v === 'string') return v;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return k.format === 'PYFLOAT' ? pyFloatRepr(v) : String(v);
    return String(v);
  }

  /** Charge `items` to the alias budget; past it, an error at `at` (the alias or merge key). */
  private spend<T>(at: Node, items: T[]): T[] {
    this.aliasBudget -= items.length;
    if (this.aliasBudget < 0) throw this.aliasError(at);
    return items;
  }

  private aliasError(at: Node | null | undefined): InputError {
    return this.error(at, `aliases and merge keys expand to more than ${MAX_ALIAS_EXPANSION} values (nested anchors that multiply, as in a "billion laughs" document)`);
  }

  /** Plain JS value of a node (aliases followed, merge keys applied). */
  toJS(node: Node | null | undefined, stack: Set<Node> = new Set(), viaAlias: Node | null = null): unknown {
    const n = this.deref(node);
    if (n === null) return null;
    // Every value built under an alias is a copy: it counts against the alias budget.
    const alias = viaAlias ?? (node && isAlias(node) ? node : null);
    if (alias && --this.aliasBudget < 0) throw this.aliasError(alias);
    if (isScalar(n)) return n.value;
    if (stack.has(n)) throw this.error(node, 'recursive alias');
    stack.add(n);
    try {
      if (isSeq(n)) return n.items.map((it) => this.toJS(it as Node, stack, alias));
      if (isMap(n)) {
        const out: Record<string, unknown> = {};
        for (const { key, value } of this.pairs(n)) setOwn(out, this.keyString(key), this.toJS(value, stack, alias));
        return out;
      }
    } finally {
      stack.delete(n);
    }
    throw this.error(node, 'unsupported YAML node');
  }
}

/** The first key of a mapping that repeats an earlier key of the same mapping (scalar keys). */
export function findDuplicateKey(node: Node | null): { first: Scalar; again: Scalar } | null {
  if (isMap(node)) {
    const seen: Scalar[] = [];
    for (const item of node.items) {
      const k = item.key as Node | null;
      if (isScalar(k) && typeof k.value !== 'symbol' && k.range) {
        const prev = seen.find((s) => s.value === k.value);
        if (prev) return { first: prev, again: k };
        seen.push(k);
      }
    }
    for (const item of node.items) {
      const d = findDuplicateKey(item.key as Node | null) ?? findDuplicateKey(item.value as Node | null);
      if (d) return d;
    }
  } else if (isSeq(node)) {
    for (const it of node.items) {
      const d = findDuplicateKey(it as Node | null);
      if (d) return d;
    }
  }
  return null;
}

/** Assign without ever touching a prototype (a key may be "__proto__"). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // Only `__proto__` is special on a plain object (an accessor inherited from Object.prototype);
  // plain assignment keeps the object in V8's fast mode, defineProperty for every key does not.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Python's repr() of a float, for the rare float used as a mapping key. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** The yaml package's messages end with " at line L, column C" and a code frame; we add our own. */
function yamlMessage(code: string, message: string): string {
  const msg = message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
  switch (code) {
    case 'DUPLICATE_KEY':
      return `duplicate key (${msg})`;
    case 'TAB_AS_INDENT':
      return 'tab character used for indentation (YAML allows only spaces)';
    default:
      if (/Maximum call stack/i.test(msg)) return 'YAML syntax error: nested too deeply for the parser';
      return `YAML syntax error: ${msg}`;
  }
}

export type { ParsedNode };
