// copy, template, file, lineinfile, blockinfile: Ansible's arguments mapped onto the file
// operations of the catalogue (src/ops/catalogue.ts), the ones TypeScript roles call.
import path from 'node:path';
import { sh } from '../../transport/quote.js';
import { OpError, type Plan } from '../../ops/types.js';
import { CATALOGUE } from '../../ops/catalogue.js';
import { remoteStat, remoteRead } from '../../ops/files.js';
import { run } from '../../ops/remote.js';
import { unifiedDiff } from '../../ops/diff.js';
import { renderTemplateFile } from '../jinja.js';
import type { ArgSpec, ModuleContext, ModuleDef } from './types.js';

const META: Record<string, ArgSpec> = { mode: { type: 'mode' }, owner: { type: 'str' }, group: { type: 'str' } };
const planFile = CATALOGUE.file.run;
const planDirectory = CATALOGUE.directory.run;

const meta = (a: Record<string, unknown>) => ({ mode: a.mode as string | undefined, owner: a.owner as string | undefined, group: a.group as string | undefined });

export const copy: ModuleDef = {
  name: 'copy',
  args: { src: { type: 'path' }, content: { type: 'str' }, dest: { type: 'path' }, backup: { type: 'bool', default: false }, ...META },
  requiredOneOf: [['dest'], ['src', 'content']],
  exclusive: [['src', 'content']],
  async run(ctx, a) {
    let dest = String(a.dest);
    if (dest.endsWith('/') && a.src) dest += path.posix.basename(String(a.src));
    const spec = { dest, src: a.src as string | undefined, content: a.content as string | undefined, backup: a.backup as boolean, ...meta(a) };
    return { plan: await CATALOGUE.copy.run({ ...ctx.op, dir: ctx.baseDir }, spec), result: { dest } };
  },
};

export const template: ModuleDef = {
  name: 'template',
  args: { src: { type: 'path' }, dest: { type: 'path' }, ...META },
  requiredOneOf: [['src'], ['dest']],
  async run(ctx, a) {
    // The catalogue's template operation, rendering with Jinja2: the task's variables at the top level.
    const op = { ...ctx.op, dir: ctx.baseDir, renderTemplate: (file: string, data: Record<string, unknown>) => renderTemplateFile(file, data) };
    const plan = await CATALOGUE.template.run(op, { src: String(a.src), dest: String(a.dest), data: ctx.vars, ...meta(a) });
    return { plan, result: { dest: a.dest } };
  },
};

/** Remove a file, link or directory tree. */
async function planAbsent(ctx: ModuleContext, p: string): Promise<Plan> {
  const st = await remoteStat(ctx.op, p);
  if (!st.exists) return { changed: false, message: 'absent' };
  const isDir = st.type === 'directory';
  return {
    changed: true,
    message: `remove ${p}`,
    diff: ctx.op.diff && !isDir ? unifiedDiff(p, await remoteRead(ctx.op, p), null) : undefined,
    apply: async () => void (await run(ctx.op, sh`rm -rf -- ${p}`, `remove ${p}`)),
  };
}

/** Existing file, metadata only (state=file, touch with preserved times). */
async function planMeta(ctx: ModuleContext, p: string, a: Record<string, unknown>): Promise<Plan> {
  const content = await remoteRead(ctx.op, p);
  if (content === null) throw new OpError(`file (${p}) is absent, cannot continue`);
  return planFile(ctx.op, { path: p, content, ...meta(a) });
}

/** recurse=yes on a directory: owner/group of everything below it. */
async function planRecurse(ctx: ModuleContext, p: string, a: Record<string, unknown>, dir: Plan): Promise<Plan> {
  if (!a.owner && !a.group) return dir;
  const tests = [a.owner ? sh`! -user ${String(a.owner)}` : undefined, a.group ? sh`! -group ${String(a.group)}` : undefined].filter((x) => x !== undefined);
  const cond = tests.length === 2 ? sh`\( ${tests[0]!} -o ${tests[1]!} \)` : tests[0]!;
  const r = await ctx.op.read(sh`find ${p} ${cond} -print -quit 2>/dev/null`);
  if (!r.stdout.trim() && !dir.changed) return dir;
  return {
    changed: true,
    message: [dir.message, 'owner/group below it'].filter(Boolean).join(', '),
    apply: async () => {
      if (dir.apply) await dir.apply();
      await run(ctx.op, sh`chown -R ${`${a.owner ?? ''}${a.group ? ':' + a.group : ''}`} -- ${p}`, 'chown -R');
    },
  };
}

export const file: ModuleDef = {
  name: 'file',
  args: {
    path: { type: 'path', aliases: ['dest', 'name'] },
    state: { type: 'str', choices: ['file', 'directory', 'link', 'absent', 'touch'] },
    src: { type: 'path' },
    recurse: { type: 'bool', default: false },
    force: { type: 'bool', default: false },
    access_time: { type: 'str' },
    modification_time: { type: 'str' },
    ...META,
  },
  requiredOneOf: [['path']],
  async run(ctx, a) {
    const p = String(a.path);
    const m = meta(a);
    let state = a.state as string | undefined;
    if (a.recurse && a.mode) throw new OpError('file: recurse with mode is not supported (owner and group are)');
    if (state === undefined) state = a.recurse || (await remoteStat(ctx.op, p)).type === 'directory' ? 'directory' : a.src ? 'link' : 'file';
    let plan: Plan;
    if (state === 'directory') {
      const dir = await planDirectory(ctx.op, { path: p, ...m });
      plan = a.recurse ? await planRecurse(ctx, p, a, dir) : dir;
    } else if (state === 'absent') plan = await planAbsent(ctx, p);
    else if (state === 'link') {
      if (a.src === undefined) throw new OpError('file: state=link needs src');
      plan = await CATALOGUE.link.run(ctx.op, { path: p, src: String(a.src), force: a.force as boolean, owner: m.owner, group: m.group });
    } else if (state === 'touch') {
      const st = await remoteStat(ctx.op, p);
      const preserve = a.access_time === 'preserve' && a.modification_time === 'preserve';
      if (!st.exists) plan = await planFile(ctx.op, { path: p, content: '', ...m });
      else if (preserve) plan = await planMeta(ctx, p, a);
      else {
        const md = await planMeta(ctx, p, a);
        plan = { changed: true, message: 'touched', apply: async () => void (await md.apply?.(), await run(ctx.op, sh`touch -- ${p}`, 'touch')) };
      }
    } else plan = await planMeta(ctx, p, a);
    return { plan, result: { path: p, state } };
  },
};

/** Ansible's lineinfile: a line matching `regexp` (or the exact line) replaced, else appended; or removed. */
export const lineinfile: ModuleDef = {
  name: 'lineinfile',
  args: {
    path: { type: 'path', aliases: ['dest', 'destfile', 'name'] },
    line: { type: 'str', aliases: ['value'] },
    regexp: { type: 'str', aliases: ['regex'] },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present' },
    create: { type: 'bool', default: false },
    insertafter: { type: 'str', choices: ['EOF'] },
  },
  requiredOneOf: [['path']],
  async run(ctx, a) {
    const p = String(a.path);
    if (a.state === 'absent' && a.regexp === undefined && a.line === undefined) throw new OpError('lineinfile: state=absent needs regexp or line');
    if (a.state === 'present' && a.line === undefined) throw new OpError('lineinfile: state=present needs line');
    if (a.state === 'present' && !a.create && (await remoteRead(ctx.op, p)) === null) throw new OpError(`Destination ${p} does not exist !`);
    // Ansible's regexp is searched anywhere in a line (re.search); without one the exact line is matched.
    const regexp = a.regexp !== undefined ? new RegExp(String(a.regexp)) : String(a.line);
    const plan = await CATALOGUE.line.run(ctx.op, { path: p, line: a.line as string | undefined, regexp, state: a.state as 'present' | 'absent' });
    return { plan, result: {} };
  },
};

/** Ansible's blockinfile, for markers of the shape "# {mark} TEXT" (provision's block operation). */
export const blockinfile: ModuleDef = {
  name: 'blockinfile',
  args: {
    path: { type: 'path', aliases: ['dest', 'destfile', 'name'] },
    block: { type: 'str', aliases: ['content'], default: '' },
    marker: { type: 'str', default: '# {mark} ANSIBLE MANAGED BLOCK' },
    state: { type: 'str', choices: ['present', 'absent'], default: 'present' },
    create: { type: 'bool', default: false },
    insertafter: { type: 'str', choices: ['EOF'] },
    mode: { type: 'mode' },
  },
  requiredOneOf: [['path']],
  async run(ctx, a) {
    const p = String(a.path);
    const m = /^# \{mark\} (.+)$/.exec(String(a.marker));
    if (!m) throw new OpError(`blockinfile: marker ${JSON.stringify(a.marker)} is not supported; write it as "# {mark} TEXT"`);
    if (!a.create && (await remoteRead(ctx.op, p)) === null) throw new OpError(`Path ${p} does not exist !`);
    const plan = await CATALOGUE.block.run(ctx.op, { path: p, marker: m[1], block: a.state === 'absent' ? '' : String(a.block), mode: a.mode as string });
    return { plan, result: {} };
  },
};
