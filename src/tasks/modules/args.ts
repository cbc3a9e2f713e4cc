// Module arguments as Ansible reads them: aliases to the canonical name, yes/no to booleans,
// comma strings to lists, choices enforced, defaults filled in. Used twice: before connecting
// on the values written literally, and at run time on the rendered values.
import { didYouMean } from '../../did-you-mean.js';
import { hasTemplate } from '../jinja.js';
import type { ArgSpec, ModuleDef } from './types.js';

export class ArgError extends Error {
  /** The argument the error is about (for the file:line of its key). */
  constructor(message: string, readonly arg?: string) {
    super(message);
  }
}

const BOOL_WORDS: Record<string, boolean> = { yes: true, on: true, true: true, '1': true, y: true, no: false, off: false, false: false, '0': false, n: false };

function canonicalName(def: ModuleDef, key: string): string | undefined {
  if (key in def.args) return key;
  return Object.entries(def.args).find(([, s]) => s.aliases?.includes(key))?.[0];
}

function coerce(def: ModuleDef, name: string, spec: ArgSpec, v: unknown): unknown {
  if (v === null || v === undefined) return v;
  const bad = (what: string) => new ArgError(`${def.name}: argument "${name}" must be ${what}, got ${JSON.stringify(v)}`, name);
  switch (spec.type) {
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (String(v).toLowerCase() in BOOL_WORDS) return BOOL_WORDS[String(v).toLowerCase()];
      throw bad('a boolean (yes/no, true/false)');
    case 'int':
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (/^-?\d+$/.test(String(v).trim())) return Number(String(v).trim());
      throw bad('a whole number');
    case 'list':
      if (Array.isArray(v)) return v;
      if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
      return [v];
    case 'dict':
      if (typeof v === 'object' && !Array.isArray(v)) return v;
      throw bad('a mapping');
    case 'mode':
      // YAML 1.2 reads 0644 as the number 644: Ansible (YAML 1.1) would read it as octal 420.
      if (typeof v === 'number') throw bad('a quoted octal string like "0644" (an unquoted 0644 is a decimal number in YAML 1.2)');
      return String(v);
    case 'str':
    case 'path':
      if (typeof v === 'object') throw bad('a string');
      return String(v);
    default:
      return v;
  }
}

/**
 * Canonical, typed arguments. `literalOnly`: before connecting, values holding Jinja2 are left
 * as they are (checked again once rendered) and required arguments may still come from them.
 */
export function normalizeArgs(def: ModuleDef, args: Record<string, unknown>, literalOnly = false): Record<string, unknown> {
  if (def.anyArgs) return { ...args };
  const out: Record<string, unknown> = {};
  const known = Object.entries(def.args).flatMap(([k, s]) => [k, ...(s.aliases ?? [])]);
  for (const [key, value] of Object.entries(args)) {
    const name = canonicalName(def, key);
    if (!name) {
      const dym = didYouMean(key, known);
      throw new ArgError(`${def.name}: unsupported argument "${key}"${dym ? ` (did you mean "${dym}"?)` : ''}; supported: ${Object.keys(def.args).join(', ')}`, key);
    }
    if (name in out) throw new ArgError(`${def.name}: argument "${name}" given twice (as "${key}" and an alias)`, key);
    const spec = def.args[name];
    if (literalOnly && typeof value === 'string' && hasTemplate(value)) {
      out[name] = value;
      continue;
    }
    const v = coerce(def, name, spec, value);
    if (spec.choices && v !== undefined && v !== null && !spec.choices.includes(String(v))) {
      const dym = didYouMean(String(v), [...spec.choices]);
      throw new ArgError(`${def.name}: ${name}=${JSON.stringify(v)} is not supported${dym ? ` (did you mean "${dym}"?)` : ''}; choose from ${spec.choices.join(', ')}`, key);
    }
    out[name] = v;
  }
  for (const group of def.requiredOneOf ?? []) {
    if (!group.some((g) => out[g] !== undefined)) throw new ArgError(`${def.name}: missing required argument ${group.map((g) => `"${g}"`).join(' or ')}`);
  }
  for (const pair of def.exclusive ?? []) {
    const given = pair.filter((g) => out[g] !== undefined);
    if (given.length > 1) throw new ArgError(`${def.name}: arguments ${given.join(' and ')} are mutually exclusive`, given[1]);
  }
  if (!literalOnly) for (const [k, s] of Object.entries(def.args)) if (out[k] === undefined && s.default !== undefined) out[k] = s.default;
  return out;
}

/** Ansible's k=v argument string: `path=/tmp/x state=touch` (quotes group words; a free-form module keeps the rest). */
export function parseKeyValues(text: string, def?: Pick<ModuleDef, 'freeForm' | 'args'>): Record<string, unknown> {
  const freeForm = def?.freeForm;
  // In a free-form module's text only its own arguments are key=value (`echo a=b` stays the command).
  const known = freeForm ? new Set(Object.entries(def!.args).flatMap(([k, s]) => [k, ...(s.aliases ?? [])])) : undefined;
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let depth = 0;
  for (const ch of text.trim()) {
    if (quote) {
      if (ch === quote) quote = null;
      cur += ch;
    } else if (ch === '"' || ch === "'") (quote = ch), (cur += ch);
    else if (ch === '{') depth++, (cur += ch);
    else if (ch === '}') depth--, (cur += ch);
    else if (/\s/.test(ch) && depth <= 0) {
      if (cur) words.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) words.push(cur);
  const unquote = (s: string) => (/^(["']).*\1$/s.test(s) ? s.slice(1, -1) : s);
  const out: Record<string, unknown> = {};
  const rest: string[] = [];
  for (const w of words) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w);
    if (m && (!known || (known.has(m[1]) && m[1] !== freeForm))) out[m[1]] = unquote(m[2]);
    else rest.push(w);
  }
  if (rest.length) {
    if (!freeForm) throw new ArgError(`expected key=value arguments, got ${JSON.stringify(rest.join(' '))}`);
    out[freeForm] = rest.join(' ');
  }
  return out;
}
