// Playbooks: a list of plays {name, hosts, roles, serial, vars, any_errors_fatal, tags}, with
// Ansible's YAML task sections (pre_tasks, tasks, post_tasks, handlers; src/tasks), validated
// with positions so a mistake names file:line:col.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { readYamlFile, type YamlFile } from '../yamlfile.js';
import { didYouMean } from '../did-you-mean.js';
import type { TaskSection } from '../tasks/section.js';

export interface RoleRef {
  name: string;
  vars: Record<string, unknown>;
  tags: string[];
  /** Absolute path of the role directory (of the playbook, for a task section). */
  dir: string;
  /** A play's YAML tasks (pre_tasks, tasks or post_tasks), run as a role of their own. */
  yaml?: TaskSection;
}

export interface Play {
  name: string;
  hosts: string[];
  roles: RoleRef[];
  /** Batch size (hosts at a time); undefined = all at once. */
  serial?: number;
  vars: Record<string, unknown>;
  anyErrorsFatal: boolean;
  tags: string[];
}

export interface Playbook {
  file: string;
  plays: Play[];
}

const PLAY_KEYS = ['name', 'hosts', 'roles', 'serial', 'vars', 'vars_files', 'any_errors_fatal', 'tags', 'gather_facts', 'pre_tasks', 'tasks', 'post_tasks', 'handlers', 'become', 'become_user'];
const ROLE_KEYS = ['role', 'name', 'vars', 'tags'];

/** Names and patterns are printed in progress lines and the recap: no newlines or other control characters. */
function plain(y: YamlFile, at: (string | number)[], v: string, what: string): string {
  const bad = /[\u0000-\u001f\u007f]/.exec(v);
  if (bad) throw y.error(at, `${what} ${JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v)} holds a control character (${JSON.stringify(bad[0])}); write it on one line`);
  return v;
}

function strList(y: YamlFile, at: (string | number)[], v: unknown, what: string): string[] {
  if (typeof v === 'string') return plain(y, at, v, what).split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return (v as string[]).map((x, k) => plain(y, [...at, k], x, what));
  throw y.error(at, `${what} must be a string or a list of strings`);
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where roles live: <playbook dir>/roles, <playbook dir>/../roles, then ./roles. */
export function roleSearchPath(playbookFile: string): string[] {
  const dir = path.dirname(path.resolve(playbookFile));
  return [path.join(dir, 'roles'), path.join(dir, '..', 'roles'), path.resolve('roles')];
}

/** A play's vars_files, read in order (later files win), relative to the playbook. */
async function varsFiles(y: YamlFile, i: number, v: unknown): Promise<Record<string, unknown>> {
  if (v === undefined) return {};
  const files = strList(y, [i, 'vars_files'], v, '"vars_files"');
  let out: Record<string, unknown> = {};
  for (const f of files) {
    const vf = await readYamlFile(path.resolve(path.dirname(y.file), f));
    if (vf.value !== null && !isMapping(vf.value)) throw vf.error([], 'a vars file must be a mapping of variables');
    out = { ...out, ...((vf.value as Record<string, unknown>) ?? {}) };
  }
  return out;
}

/**
 * The play's YAML task sections, as role entries placed around its roles (Ansible's order). The
 * tasks' modules and their Jinja2 engine are loaded only for a play that has tasks.
 */
async function taskSections(y: YamlFile, i: number, p: Record<string, unknown>, roles: RoleRef[]): Promise<RoleRef[]> {
  if (['pre_tasks', 'tasks', 'post_tasks', 'handlers'].every((k) => p[k] === undefined)) return roles;
  const { parseTaskList, checkNotify } = await import('../tasks/parse.js');
  const handlers = parseTaskList(y, [i, 'handlers'], p.handlers, true);
  if (p.become !== undefined && typeof p.become !== 'boolean') throw y.error([i, 'become'], '"become" must be true or false');
  if (p.become_user !== undefined && p.become_user !== 'root') throw y.error([i, 'become_user'], 'become_user other than root is not supported');
  if (p.gather_facts !== undefined && typeof p.gather_facts !== 'boolean') throw y.error([i, 'gather_facts'], '"gather_facts" must be true or false');
  const baseDir = path.dirname(y.file);
  const section = (kind: 'pre_tasks' | 'tasks' | 'post_tasks'): RoleRef[] => {
    const tasks = parseTaskList(y, [i, kind], p[kind]);
    checkNotify(y, tasks, handlers);
    if (tasks.length === 0) return [];
    const yaml: TaskSection = { kind, tasks, handlers, baseDir, gatherFacts: p.gather_facts !== false, become: p.become as boolean | undefined };
    return [{ name: kind, vars: {}, tags: [], dir: baseDir, yaml }];
  };
  return [...section('pre_tasks'), ...roles, ...section('tasks'), ...section('post_tasks')];
}

export async function loadPlaybook(file: string): Promise<Playbook> {
  const y = await readYamlFile(file, { what: 'playbook' });
  const v = y.value;
  if (!Array.isArray(v)) throw y.error([], 'a playbook is a list of plays (each with hosts and roles)');
  const search = roleSearchPath(file);
  const plays = await Promise.all(v.map(async (p, i): Promise<Play> => {
    if (!isMapping(p)) throw y.error([i], 'each play must be a mapping with hosts and roles');
    for (const k of Object.keys(p)) {
      if (!PLAY_KEYS.includes(k)) {
        const dym = didYouMean(k, PLAY_KEYS);
        throw y.error([i, k], `unknown play key "${k}"${dym ? ` (did you mean "${dym}"?)` : ''}; known: ${PLAY_KEYS.join(', ')}`, { key: true });
      }
    }
    if (p.hosts === undefined) throw y.error([i], 'play has no "hosts"');
    const hosts = strList(y, [i, 'hosts'], p.hosts, '"hosts"');
    if (p.roles !== undefined && !Array.isArray(p.roles)) throw y.error([i, 'roles'], '"roles" must be a list of role names or {role, vars, tags}');
    if (p.roles === undefined && ['pre_tasks', 'tasks', 'post_tasks'].every((k) => p[k] === undefined)) throw y.error([i], 'play has neither "roles" nor "tasks"');
    const roles = ((p.roles ?? []) as unknown[]).map((r, j): RoleRef => {
      let name: string;
      let vars: Record<string, unknown> = {};
      let tags: string[] = [];
      if (typeof r === 'string') name = r;
      else if (isMapping(r)) {
        for (const k of Object.keys(r)) {
          if (!ROLE_KEYS.includes(k)) throw y.error([i, 'roles', j, k], `unknown role key "${k}"; known: ${ROLE_KEYS.join(', ')}`, { key: true });
        }
        const n = r.role ?? r.name;
        if (typeof n !== 'string') throw y.error([i, 'roles', j], 'role entry needs "role: <name>"');
        name = n;
        if (r.vars !== undefined) {
          if (!isMapping(r.vars)) throw y.error([i, 'roles', j, 'vars'], '"vars" must be a mapping');
          vars = r.vars;
        }
        if (r.tags !== undefined) tags = strList(y, [i, 'roles', j, 'tags'], r.tags, '"tags"');
      } else throw y.error([i, 'roles', j], 'a role is a name or {role, vars, tags}');
      if (!/^[A-Za-z0-9_-]+$/.test(name)) throw y.error([i, 'roles', j], `invalid role name ${JSON.stringify(name)}`);
      const dir = search.map((d) => path.join(d, name)).find((d) => existsSync(path.join(d, 'index.ts')));
      if (!dir) throw y.error([i, 'roles', j], `role "${name}" not found (looked in ${search.join(', ')})`);
      return { name, vars, tags, dir };
    });
    let serial: number | undefined;
    if (p.serial !== undefined) {
      if (typeof p.serial !== 'number' || !Number.isInteger(p.serial) || p.serial < 1) throw y.error([i, 'serial'], '"serial" must be a whole number >= 1');
      serial = p.serial;
    }
    if (p.vars !== undefined && !isMapping(p.vars)) throw y.error([i, 'vars'], '"vars" must be a mapping');
    if (p.any_errors_fatal !== undefined && typeof p.any_errors_fatal !== 'boolean') throw y.error([i, 'any_errors_fatal'], '"any_errors_fatal" must be true or false');
    if (p.name !== undefined && typeof p.name !== 'string') throw y.error([i, 'name'], '"name" must be a string');
    if (typeof p.name === 'string') plain(y, [i, 'name'], p.name, 'play name');
    return {
      name: (p.name as string | undefined) ?? hosts.join(','),
      hosts,
      roles: await taskSections(y, i, p, roles),
      serial,
      vars: { ...((p.vars as Record<string, unknown>) ?? {}), ...(await varsFiles(y, i, p.vars_files)) },
      anyErrorsFatal: (p.any_errors_fatal as boolean) ?? false,
      tags: p.tags === undefined ? [] : strList(y, [i, 'tags'], p.tags, '"tags"'),
    };
  }));
  return { file: y.file, plays };
}
