// YAML tasks in Ansible's shape, read and checked before connecting: the module and its
// arguments (dict or k=v string), the task keywords, every error at the task's file:line with
// the closest valid name.
import type { YamlFile } from '../yamlfile.js';
import { didYouMean } from '../did-you-mean.js';
import { InputError } from '../errors.js';
import { findModule, closestModule } from './modules/index.js';
import { normalizeArgs, parseKeyValues, ArgError } from './modules/args.js';
import type { ModuleDef } from './modules/types.js';

export interface YamlTask {
  name: string;
  module: ModuleDef;
  /** Arguments as written (values may hold Jinja2), canonical names. */
  args: Record<string, unknown>;
  when?: unknown;
  loop?: unknown;
  loopVar: string;
  loopLabel?: string;
  notify: string[];
  /** Handlers: topics this handler also answers to. */
  listen: string[];
  tags: string[];
  register?: string;
  changedWhen?: unknown;
  failedWhen?: unknown;
  become?: boolean;
  /** check_mode: false runs the task for real in --check (Ansible's read-only idiom). */
  checkMode?: boolean;
  ignoreErrors: boolean;
  vars: Record<string, unknown>;
  /** "file:line" of the task. */
  where: string;
}

const KEYWORDS = [
  'name', 'when', 'loop', 'with_items', 'with_list', 'loop_control', 'notify', 'listen', 'tags', 'register',
  'changed_when', 'failed_when', 'become', 'become_user', 'check_mode', 'ignore_errors', 'vars', 'args', 'no_log',
];
const NOT_SUPPORTED = ['block', 'rescue', 'always', 'include_tasks', 'import_tasks', 'include_role', 'import_role', 'delegate_to', 'run_once', 'async', 'poll', 'until', 'retries', 'delay', 'environment', 'with_dict', 'with_fileglob', 'local_action'];

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(y: YamlFile, at: (string | number)[], v: unknown, what: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw y.error(at, `${what} must be a string or a list of strings`);
}

function bool(y: YamlFile, at: (string | number)[], v: unknown, what: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(yes|no|true|false)$/i.test(v)) return /^(yes|true)$/i.test(v);
  throw y.error(at, `${what} must be true or false`);
}

/** The module key of a task: the one key that is not a keyword. */
function moduleKey(y: YamlFile, at: (string | number)[], t: Record<string, unknown>): string {
  const others = Object.keys(t).filter((k) => !KEYWORDS.includes(k));
  for (const k of others) {
    if (NOT_SUPPORTED.includes(k)) throw y.error([...at, k], `"${k}" is not supported in provision's YAML tasks`, { key: true });
  }
  const unknown = others.filter((k) => !findModule(k));
  if (unknown.length) {
    const k = unknown[0];
    const dym = closestModule(k) ?? didYouMean(k, KEYWORDS);
    throw y.error([...at, k], `unknown module or task keyword "${k}"${dym ? ` (did you mean "${dym}"?)` : ''}`, { key: true });
  }
  if (others.length === 0) throw y.error(at, 'task has no module (e.g. "command:", "copy:", "debug:")');
  if (others.length > 1) throw y.error([...at, others[1]], `a task runs one module; this one names ${others.join(' and ')}`, { key: true });
  return others[0];
}

function taskArgs(y: YamlFile, at: (string | number)[], key: string, def: ModuleDef, t: Record<string, unknown>): Record<string, unknown> {
  const v = t[key];
  let args: Record<string, unknown>;
  try {
    if (v === null || v === undefined) args = {};
    else if (typeof v === 'string') args = parseKeyValues(v, def);
    else if (isMapping(v)) args = { ...v };
    else throw new ArgError(`${def.name}: arguments must be a mapping or a key=value string`);
  } catch (e) {
    if (e instanceof ArgError) throw y.error([...at, key], e.message);
    throw e;
  }
  if (t.args !== undefined) {
    if (!isMapping(t.args)) throw y.error([...at, 'args'], '"args" must be a mapping');
    args = { ...t.args, ...args };
  }
  try {
    return normalizeArgs(def, args, true);
  } catch (e) {
    if (!(e instanceof ArgError)) throw e;
    const inArgs = e.arg !== undefined && isMapping(v) && e.arg in v;
    throw y.error(inArgs ? [...at, key, e.arg!] : [...at, key], e.message, { key: inArgs });
  }
}

export function parseTask(y: YamlFile, at: (string | number)[], t: unknown, handler = false): YamlTask {
  if (!isMapping(t)) throw y.error(at, 'a task is a mapping: a module with its arguments, and keywords (name, when, loop, notify, …)');
  const key = moduleKey(y, at, t);
  const def = findModule(key)!;
  const args = taskArgs(y, at, key, def, t);
  const pos = y.pos(at);
  if (t.become_user !== undefined && t.become_user !== 'root') throw y.error([...at, 'become_user'], 'become_user other than root is not supported');
  if (t.name !== undefined && typeof t.name !== 'string') throw y.error([...at, 'name'], '"name" must be a string');
  if (t.register !== undefined && (typeof t.register !== 'string' || !/^[A-Za-z_]\w*$/.test(t.register))) throw y.error([...at, 'register'], '"register" must be a variable name');
  if (t.vars !== undefined && !isMapping(t.vars)) throw y.error([...at, 'vars'], '"vars" must be a mapping');
  const lc = t.loop_control;
  if (lc !== undefined && (!isMapping(lc) || Object.keys(lc).some((k) => !['loop_var', 'label'].includes(k)))) throw y.error([...at, 'loop_control'], 'loop_control supports loop_var and label');
  const loops = ['loop', 'with_items', 'with_list'].filter((k) => t[k] !== undefined);
  if (loops.length > 1) throw y.error([...at, loops[1]], `use one of ${loops.join(', ')}`, { key: true });
  // with_items flattens one level, as in Ansible.
  const loop = t.with_items !== undefined ? { flatten: t.with_items } : t.loop ?? t.with_list;
  return {
    name: (t.name as string | undefined) ?? key,
    module: def,
    args,
    when: t.when,
    loop,
    loopVar: isMapping(lc) && typeof lc.loop_var === 'string' ? lc.loop_var : 'item',
    loopLabel: isMapping(lc) && typeof lc.label === 'string' ? lc.label : undefined,
    notify: t.notify === undefined ? [] : strings(y, [...at, 'notify'], t.notify, '"notify"'),
    listen: !handler || t.listen === undefined ? [] : strings(y, [...at, 'listen'], t.listen, '"listen"'),
    tags: t.tags === undefined ? [] : strings(y, [...at, 'tags'], t.tags, '"tags"').flatMap((s) => s.split(',').map((x) => x.trim())),
    register: t.register as string | undefined,
    changedWhen: t.changed_when,
    failedWhen: t.failed_when,
    become: bool(y, [...at, 'become'], t.become, '"become"'),
    checkMode: bool(y, [...at, 'check_mode'], t.check_mode, '"check_mode"'),
    ignoreErrors: bool(y, [...at, 'ignore_errors'], t.ignore_errors, '"ignore_errors"') ?? false,
    vars: (t.vars as Record<string, unknown>) ?? {},
    where: `${pos.file}:${pos.line ?? '?'}`,
  };
}

/** A list of tasks (tasks:, pre_tasks:, post_tasks:, handlers:). */
export function parseTaskList(y: YamlFile, at: (string | number)[], v: unknown, handlers = false): YamlTask[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw y.error(at, 'a task list must be a list of tasks');
  return v.map((t, i) => parseTask(y, [...at, i], t, handlers));
}

/** Notified names that no handler of the play answers to: an error before connecting. */
export function checkNotify(y: YamlFile, tasks: YamlTask[], handlers: YamlTask[]): void {
  const names = new Set(handlers.flatMap((h) => [h.name, ...h.listen]));
  for (const t of tasks) {
    for (const n of t.notify) {
      if (!names.has(n)) {
        const dym = didYouMean(n, [...names]);
        throw new InputError(`task "${t.name}" notifies "${n}", which no handler of the play answers to${dym ? ` (did you mean "${dym}"?)` : ''}`, { file: y.file, line: Number(t.where.split(':').pop()) || undefined });
      }
    }
  }
}
