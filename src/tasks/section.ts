// A play's pre_tasks, tasks or post_tasks as a role the runner runs like any TypeScript role:
// same recap, tags, check/diff, JSON report. The play's handlers are flushed at the end of each
// section (Ansible flushes after pre_tasks, after roles+tasks and after post_tasks).
import type { RoleContext, RoleDefinition } from '../runner/role.js';
import type { SectionName } from '../facts/gather.js';
import type { YamlTask } from './parse.js';
import { runYamlTask } from './run-task.js';
import { groupsOf, taskVars, type HostStore } from './vars.js';

export interface TaskSection {
  /** pre_tasks, tasks or post_tasks: the name the recap shows as the role. */
  kind: string;
  tasks: YamlTask[];
  handlers: YamlTask[];
  /** The playbook's directory: files/ and templates/ are looked up under it. */
  baseDir: string;
  gatherFacts: boolean;
  become?: boolean;
}

const FACT_FIELDS = { os: true, hostname: true, interfaces: true };

/** Fact sections the section reads: its modules' needs, and Ansible's names for the common ones when gathering. */
function sectionsOf(s: TaskSection): SectionName[] {
  const out = new Set<SectionName>(s.gatherFacts ? ['os', 'hostname', 'interfaces', 'packageManager'] : []);
  for (const t of [...s.tasks, ...s.handlers]) for (const f of t.module.facts ?? []) out.add(f);
  return [...out];
}

const made = new WeakMap<TaskSection, RoleDefinition>();

/** The role of a section (one per section: its handlers' bookkeeping lives in it). */
export function sectionRole(s: TaskSection): RoleDefinition {
  let def = made.get(s);
  if (!def) made.set(s, (def = makeRole(s)));
  return def;
}

function makeRole(s: TaskSection): RoleDefinition {
  const ran = new Map<string, Set<YamlTask>>();
  const run = async (r: RoleContext, task: YamlTask, handler: boolean) => {
    const store = r.once<HostStore>('yaml-tasks:host-store', () => new Map());
    const groups = r.once('yaml-tasks:groups', () => groupsOf(r.inventory));
    const setFacts = (v: Record<string, unknown>) => store.set(r.host.name, { ...(store.get(r.host.name) ?? {}), ...v });
    await r.task(
      task.name,
      async (c) => {
        const facts = s.gatherFacts ? await c.facts() : undefined;
        const vars = taskVars({ host: r.host, inventory: r.inventory, vars: r.vars, facts, factFields: FACT_FIELDS, store, groups, check: r.check, taskVars: task.vars });
        return runYamlTask(task, c, { vars, baseDir: s.baseDir, become: s.become, setFacts });
      },
      handler ? {} : { notify: task.notify, tags: task.tags },
    );
  };
  const handlers: Record<string, (r: RoleContext) => Promise<void>> = {};
  for (const h of s.handlers) {
    for (const key of [h.name, ...h.listen]) {
      handlers[key] ??= async (r) => {
        const done = ran.get(r.host.name)!;
        if (done.has(h)) return;
        done.add(h);
        await run(r, h, true);
      };
    }
  }
  return {
    name: s.kind,
    facts: sectionsOf(s),
    async tasks(r) {
      ran.set(r.host.name, new Set());
      for (const t of s.tasks) await run(r, t, false);
    },
    handlers,
  };
}
