// Ansible's common Jinja2 filters that nunjucks lacks (nunjucks already has default/d, join,
// lower, upper, int, float, length, first, last, replace, trim, unique-less list ops, sort...).
// Semantics follow Ansible's docs; Python formats where the result is text (to_json, bool).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import type nunjucks from 'nunjucks';
import { q } from '../transport/quote.js';

/** nunjucks passes keyword arguments as a trailing object marked __keywords. */
function kwargs(args: unknown[]): { pos: unknown[]; kw: Record<string, unknown> } {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  if (last && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords) {
    const { __keywords: _k, ...kw } = last;
    return { pos: args.slice(0, -1), kw };
  }
  return { pos: args, kw: {} };
}

/** Ansible's `bool`: yes/on/true/1 (any case) are true. */
export function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1;
  return ['yes', 'on', 'true', '1', 'y', 't'].includes(String(v ?? '').trim().toLowerCase());
}

/** Python's json.dumps default separators (", " and ": "), as Ansible's to_json prints. */
function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ')}}`;
  return JSON.stringify(v ?? null);
}

function pyRegex(re: unknown, flags = ''): RegExp {
  return new RegExp(String(re).replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\\g<(\w+)>/g, '$<$1>'), flags);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const uniq = (xs: unknown[]) => xs.filter((x, i) => xs.findIndex((y) => same(x, y)) === i);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

function flatten(v: unknown[], depth = Infinity): unknown[] {
  return v.reduce<unknown[]>((acc, x) => acc.concat(Array.isArray(x) && depth > 0 ? flatten(x, depth - 1) : [x]), []);
}

function combine(...args: unknown[]): Record<string, unknown> {
  const { pos, kw } = kwargs(args);
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) {
      const cur = out[k];
      out[k] = kw.recursive && cur && v && typeof cur === 'object' && typeof v === 'object' && !Array.isArray(v) ? merge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
    }
    return out;
  };
  return (pos as Record<string, unknown>[]).reduce((a, b) => merge(a, b ?? {}), {});
}

export function addAnsibleFilters(env: nunjucks.Environment): void {
  const f = (name: string, fn: (...a: any[]) => unknown) => env.addFilter(name, fn);
  f('bool', toBool);
  f('to_json', (v) => pyJson(v));
  f('to_nice_json', (v, ...a) => JSON.stringify(v, null, Number(kwargs(a).kw.indent ?? 4)));
  f('from_json', (v) => JSON.parse(String(v)));
  f('to_yaml', (v) => yamlStringify(v, { flow: false }));
  f('to_nice_yaml', (v) => yamlStringify(v, { indent: Number(4) }));
  f('quote', (v) => q(String(v ?? '')));
  f('basename', (v) => path.posix.basename(String(v)));
  f('dirname', (v) => path.posix.dirname(String(v)));
  f('b64encode', (v) => Buffer.from(String(v)).toString('base64'));
  f('b64decode', (v) => Buffer.from(String(v), 'base64').toString('utf8'));
  f('hash', (v, alg = 'sha1') => createHash(String(alg)).update(String(v)).digest('hex'));
  f('checksum', (v) => createHash('sha1').update(String(v)).digest('hex'));
  f('regex_replace', (v, re, rep = '', ...a) => String(v ?? '').replace(pyRegex(re, kwargs(a).kw.ignorecase ? 'gi' : 'g'), String(rep).replace(/\\(\d)/g, '$$$1')));
  f('regex_search', (v, re) => pyRegex(re).exec(String(v ?? ''))?.[0] ?? null);
  f('regex_findall', (v, re) => String(v ?? '').match(pyRegex(re, 'g')) ?? []);
  f('ternary', (v, yes, no, none) => (v === null && none !== undefined ? none : v ? yes : no));
  f('mandatory', (v, msg) => {
    if (v === undefined) throw new Error(String(msg ?? 'mandatory variable not defined'));
    return v;
  });
  f('unique', (v) => uniq(list(v)));
  f('union', (a, b) => uniq([...list(a), ...list(b)]));
  f('intersect', (a, b) => uniq(list(a).filter((x) => list(b).some((y) => same(x, y)))));
  f('difference', (a, b) => uniq(list(a).filter((x) => !list(b).some((y) => same(x, y)))));
  f('symmetric_difference', (a, b) => uniq([...list(a), ...list(b)].filter((x) => !(list(a).some((y) => same(x, y)) && list(b).some((y) => same(x, y))))));
  f('flatten', (v, ...a) => flatten(list(v), Number(kwargs(a).pos[0] ?? kwargs(a).kw.levels ?? Infinity)));
  f('combine', combine);
  f('dict2items', (v) => Object.entries(v ?? {}).map(([key, value]) => ({ key, value })));
  f('items2dict', (v) => Object.fromEntries(list(v).map((x) => [(x as { key: string }).key, (x as { value: unknown }).value])));
  f('min', (v) => list(v).reduce((a, b) => ((a as number) <= (b as number) ? a : b)));
  f('max', (v) => list(v).reduce((a, b) => ((a as number) >= (b as number) ? a : b)));
  f('split', (v, sep) => (sep === undefined ? String(v).trim().split(/\s+/) : String(v).split(String(sep))));
  f('map', (v, ...a) => {
    const { pos, kw } = kwargs(a);
    if (kw.attribute !== undefined) return list(v).map((x) => (x as Record<string, unknown>)?.[String(kw.attribute)]);
    const name = String(pos[0]);
    const fn = env.getFilter(name) as (...x: unknown[]) => unknown;
    return list(v).map((x) => fn(x, ...pos.slice(1)));
  });
  f('zip', (a, ...rest) => list(a).map((x, i) => [x, ...rest.map((r) => list(r)[i])]));
  f('type_debug', (v) => (v === null ? 'NoneType' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'dict' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'boolean' ? 'bool' : 'str'));
}

/** Ansible's tests on registered results and strings (`when: out is changed`, `x is match("re")`). */
export function addAnsibleTests(nj: nunjucks.Environment): void {
  // Environment.addTest is nunjucks' API (documented with addFilter); @types/nunjucks lacks it.
  const env = nj as nunjucks.Environment & { addTest(name: string, fn: (...a: any[]) => boolean): void };
  const field = (k: string) => (v: unknown) => !!(v && typeof v === 'object' && (v as Record<string, unknown>)[k]);
  env.addTest('changed', field('changed'));
  env.addTest('failed', field('failed'));
  env.addTest('skipped', field('skipped'));
  env.addTest('succeeded', (v: unknown) => !field('failed')(v));
  env.addTest('success', (v: unknown) => !field('failed')(v));
  env.addTest('match', (v: unknown, re: unknown) => pyRegex(`^(?:${String(re)})`).test(String(v ?? '')));
  env.addTest('search', (v: unknown, re: unknown) => pyRegex(re).test(String(v ?? '')));
  env.addTest('regex', (v: unknown, re: unknown) => pyRegex(re).test(String(v ?? '')));
  env.addTest('contains', (v: unknown, x: unknown) => list(v).some((y) => same(y, x)));
  env.addTest('subset', (a: unknown, b: unknown) => list(a).every((x) => list(b).some((y) => same(x, y))));
  env.addTest('superset', (a: unknown, b: unknown) => list(b).every((x) => list(a).some((y) => same(x, y))));
}
