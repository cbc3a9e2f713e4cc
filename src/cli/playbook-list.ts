// --list-hosts, --list-tasks, --list-tags and --syntax-check: what ansible-playbook prints for
// them, in its shape, from the playbook and inventory alone (nothing connects). Tasks of a
// TypeScript role are code, known only when it runs: the role is listed as one line.
// --start-at-task NAME: the playbook from the first task of that name on (YAML tasks).
import path from 'node:path';
import { InputError } from '../errors.js';
import { matchHosts } from '../inventory/index.js';
import type { Host, Inventory } from '../inventory/types.js';
import type { Play, Playbook, RoleRef } from '../runner/playbook.js';

export type ListMode = 'list-hosts' | 'list-tasks' | 'list-tags' | 'syntax-check';

const tagList = (tags: Iterable<string>) => `[${[...new Set(tags)].sort().join(', ')}]`;

/** Task lines of one role reference: [shown name, its tags with the play's and role's]. */
function tasksOf(play: Play, ref: RoleRef): Array<[string, string[]]> {
  const inherited = [...play.tags, ...ref.tags];
  if (!ref.yaml) return [[`${ref.name} : (TypeScript role: its tasks are known when it runs)`, inherited]];
  return ref.yaml.tasks.map((t) => [t.name, [...inherited, ...t.tags]]);
}

export function listPlaybook(mode: ListMode, pb: Playbook, inv: Inventory, limit: Set<string>): string {
  const out = ['', `playbook: ${path.relative(process.cwd(), pb.file) || pb.file}`];
  if (mode === 'syntax-check') return out.join('\n');
  pb.plays.forEach((play, i) => {
    const pattern = play.hosts.join(',');
    out.push('', `  play #${i + 1} (${pattern}): ${play.name || pattern}\tTAGS: ${tagList(play.tags)}`);
    if (mode === 'list-hosts') {
      const hosts: Host[] = matchHosts(inv, play.hosts, { allowEmpty: true }).filter((h) => limit.has(h.name));
      out.push(`    pattern: [${play.hosts.map((p) => `'${p}'`).join(', ')}]`, `    hosts (${hosts.length}):`);
      for (const h of hosts) out.push(`      ${h.name}`);
    } else if (mode === 'list-tasks') {
      out.push('    tasks:');
      for (const ref of play.roles) for (const [name, tags] of tasksOf(play, ref)) out.push(`      ${name}\tTAGS: ${tagList(tags)}`);
    } else {
      const all = play.roles.flatMap((ref) => tasksOf(play, ref).flatMap(([, tags]) => tags));
      out.push(`      TASK TAGS: ${tagList(all)}`);
    }
  });
  return out.join('\n');
}

/** The playbook from the first YAML task named `name` (or `role : name`) on, as --start-at-task. */
export function startAtTask(pb: Playbook, name: string): Playbook {
  for (const [pi, play] of pb.plays.entries()) {
    for (const [ri, ref] of play.roles.entries()) {
      const tasks = ref.yaml?.tasks ?? [];
      const at = tasks.findIndex((t) => t.name === name || `${ref.name} : ${t.name}` === name);
      if (at < 0) continue;
      const first: RoleRef = { ...ref, yaml: { ...ref.yaml!, tasks: tasks.slice(at) } };
      const plays = [{ ...play, roles: [first, ...play.roles.slice(ri + 1)] }, ...pb.plays.slice(pi + 1)];
      return { ...pb, plays };
    }
  }
  throw new InputError(`--start-at-task ${JSON.stringify(name)}: no task of that name in the playbook (tasks of TypeScript roles are known only when they run)`, { file: pb.file });
}
