// Jinja2 for YAML tasks, through nunjucks (a maintained Jinja2 engine for JavaScript): task
// values, `when:` expressions and `.j2` templates. Ansible's common filters that nunjucks lacks
// are added in ./filters.ts. TypeScript roles keep EJS (src/topology/render.ts).
import nunjucks from 'nunjucks';
import { readInputText } from '../input-file.js';
import { addAnsibleFilters, addAnsibleTests } from './filters.js';

/** Ansible's Python literals, visible in every expression. */
const PY_LITERALS = { True: true, False: false, None: null };

/** The value of the last `__value` filter call: how an expression's native value is read back. */
let captured: unknown;

function makeEnv(): nunjucks.Environment {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true, trimBlocks: true });
  addAnsibleFilters(env);
  addAnsibleTests(env);
  env.addFilter('__value', (v: unknown) => {
    captured = v;
    return '';
  });
  return env;
}

const env = makeEnv();

/** A template error with the text that failed, as the operator wrote it. */
export class TemplateError extends Error {
  constructor(text: string, cause: unknown) {
    const why = (cause instanceof Error ? cause.message : String(cause))
      .replace(/^\(unknown path\)\s*/, '')
      .replace(/\s*\n\s*/g, ' ')
      .replace('attempted to output null or undefined value', 'a variable is undefined');
    super(`template ${JSON.stringify(text.length > 100 ? text.slice(0, 100) + '…' : text)}: ${why}`);
    this.name = 'TemplateError';
  }
}

export function hasTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%');
}

/** Evaluate one Jinja2 expression (no braces) to its native value; undefined is an error, as in Ansible. */
export function evaluate(expr: string, vars: Record<string, unknown>): unknown {
  captured = undefined;
  try {
    env.renderString(`{{ (${expr}) | __value }}`, { ...PY_LITERALS, ...vars });
  } catch (e) {
    throw new TemplateError(expr, e);
  }
  if (captured === undefined) throw new TemplateError(expr, 'a variable is undefined');
  return captured;
}

/** Python's truthiness, as Ansible applies it to `when:` and `assert: that:`. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return !!v;
}

/** A `when:` condition: a bare expression (or a boolean), true when every entry of a list is. */
export function condition(when: unknown, vars: Record<string, unknown>): boolean {
  for (const c of [when].flat()) {
    if (typeof c === 'boolean') {
      if (!c) return false;
      continue;
    }
    const text = String(c).trim();
    const m = /^\{\{(.*)\}\}$/s.exec(text);
    if (!truthy(evaluate(m ? m[1] : text, vars))) return false;
  }
  return true;
}

/** Render a string: a lone `{{ expr }}` keeps its native type (a list stays a list), as in Ansible. */
export function renderString(text: string, vars: Record<string, unknown>): unknown {
  if (!hasTemplate(text)) return text;
  const lone = /^\{\{((?:(?!\}\}).)*)\}\}$/s.exec(text.trim());
  if (lone) return evaluate(lone[1], vars);
  try {
    return env.renderString(text, { ...PY_LITERALS, ...vars });
  } catch (e) {
    throw new TemplateError(text, e);
  }
}

/** Render every string inside a value (lists and mappings too). */
export function renderValue(v: unknown, vars: Record<string, unknown>): unknown {
  if (typeof v === 'string') return renderString(v, vars);
  if (Array.isArray(v)) return v.map((x) => renderValue(x, vars));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderValue(x, vars)]));
  return v;
}

/** Render a `.j2` file (whole text, one string out). */
export async function renderTemplateFile(file: string, vars: Record<string, unknown>): Promise<string> {
  const text = await readInputText(file, { what: 'template' });
  try {
    return env.renderString(text, { ...PY_LITERALS, ...vars });
  } catch (e) {
    throw new TemplateError(file, e);
  }
}
