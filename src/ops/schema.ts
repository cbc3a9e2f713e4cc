// Option schemas of the operations: one description per option that gives the TypeScript type
// a role's editor completes, the run-time check of what a task passed (unknown key with the
// closest valid name, wrong type, value outside an enum) and the docs' table of options.
import { Shell } from '../transport/quote.js';

export interface Field<T = unknown, Req extends boolean = boolean> {
  /** The type as docs show it: `string`, `'present' \| 'absent'`, `string \| string[]`. */
  readonly type: string;
  readonly required: Req;
  /** The default as docs show it (the operation applies it). */
  readonly default?: string;
  readonly doc: string;
  /** The allowed values, for an enum (suggestions name the closest). */
  readonly values?: readonly string[];
  readonly accepts: (v: unknown) => boolean;
  /** Carries the value type for inference; never set. */
  readonly __type?: T;
}

export type Schema = Record<string, Field<any, boolean>>;
type ValueOf<F> = F extends Field<infer T, boolean> ? T : never;
type RequiredKeys<S> = { [K in keyof S]: S[K] extends Field<any, true> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The options object an operation takes, from its schema. */
export type SpecOf<S extends Schema> = Simplify<
  { [K in RequiredKeys<S>]: ValueOf<S[K]> } & { [K in Exclude<keyof S, RequiredKeys<S>>]?: ValueOf<S[K]> }
>;

interface FieldOpts {
  default?: string;
}

function field<T>(type: string, doc: string, accepts: (v: unknown) => boolean, o: FieldOpts = {}, values?: readonly string[]): Field<T, false> {
  return { type, doc, accepts, required: false, default: o.default, values };
}

const isString = (v: unknown): v is string => typeof v === 'string';
/** A Shell built by `sh`/`raw` (by shape too: a role bundled apart may hold another copy of the class). */
const isShell = (v: unknown) => v instanceof Shell || (typeof v === 'object' && v !== null && v.constructor?.name === 'Shell' && typeof (v as Shell).text === 'string');

export const t = {
  string: (doc: string, o?: FieldOpts) => field<string>('string', doc, isString, o),
  number: (doc: string, o?: FieldOpts) => field<number>('number', doc, (v) => typeof v === 'number' && Number.isFinite(v), o),
  boolean: (doc: string, o?: FieldOpts) => field<boolean>('boolean', doc, (v) => typeof v === 'boolean', o),
  oneOf: <const V extends string>(values: readonly V[], doc: string, o?: FieldOpts) =>
    field<V>(values.map((v) => `'${v}'`).join(' | '), doc, (v) => isString(v) && (values as readonly string[]).includes(v), o, values),
  strings: (doc: string, o?: FieldOpts) =>
    field<string | string[]>('string | string[]', doc, (v) => isString(v) || (Array.isArray(v) && v.every(isString)), o),
  stringList: (doc: string, o?: FieldOpts) => field<string[]>('string[]', doc, (v) => Array.isArray(v) && v.every(isString), o),
  stringOrNumber: (doc: string, o?: FieldOpts) => field<string | number>('string | number', doc, (v) => isString(v) || typeof v === 'number', o),
  /** A file mode as an octal string ("0644"): YAML 1.2 would read 0644 as a decimal number. */
  mode: (doc: string, o?: FieldOpts) => field<string>('string (octal, "0644")', doc, (v) => isString(v) && /^0?[0-7]{3,4}$/.test(v), o),
  content: (doc: string, o?: FieldOpts) => field<string | Buffer>('string | Buffer', doc, (v) => isString(v) || Buffer.isBuffer(v), o),
  shell: (doc: string, o?: FieldOpts) => field<Shell>('Shell (sh`...`)', doc, isShell, o),
  pattern: (doc: string, o?: FieldOpts) => field<string | RegExp>('string | RegExp', doc, (v) => isString(v) || v instanceof RegExp, o),
  object: (doc: string, o?: FieldOpts) => field<object>('object', doc, (v) => typeof v === 'object' && v !== null && !Array.isArray(v), o),
  fn: <F extends (...a: any[]) => unknown>(type: string, doc: string, o?: FieldOpts) => field<F>(type, doc, (v) => typeof v === 'function', o),
};

/** The same field, required. */
export function required<T>(f: Field<T, boolean>): Field<T, true> {
  return { ...f, required: true };
}

/** Levenshtein distance (small strings: option names and enum values). */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The candidate closest to `word`, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) (best = c), (bestD = d);
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof RegExp) return `a RegExp ${String(v)}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * The problems of an options object against a schema, one sentence each (empty: valid).
 * `op` names the operation in the messages.
 */
export function problems(op: string, schema: Schema, spec: unknown): string[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return [`${op}: options must be an object, got ${describe(spec)}`];
  const out: string[] = [];
  const names = Object.keys(schema);
  for (const [k, v] of Object.entries(spec)) {
    const f = schema[k];
    if (!f) {
      const near = closest(k, names);
      out.push(`${op}: unknown option "${k}"${near ? ` (did you mean "${near}"?)` : ''}; valid: ${names.join(', ')}`);
      continue;
    }
    if (v === undefined || f.accepts(v)) continue;
    if (f.values && typeof v === 'string') {
      const near = closest(v, f.values);
      out.push(`${op}: ${k} is ${JSON.stringify(v)}, not one of ${f.type}${near ? ` (did you mean '${near}'?)` : ''}`);
    } else out.push(`${op}: ${k} must be ${f.type}, got ${describe(v)}`);
  }
  for (const [k, f] of Object.entries(schema)) {
    if (f.required && (spec as Record<string, unknown>)[k] === undefined) out.push(`${op}: option "${k}" is required (${f.type})`);
  }
  return out;
}
