// copy, template, file, lineinfile, blockinfile: Ansible's arguments mapped onto the file
// operations of the catalogue (src/ops/catalogue.ts), the ones TypeScript roles call.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { sh } from '../../transport/quote.js';
import { OpError, type Plan } from '../../ops/types.js';
import { CATALOGUE } from '../../ops/catalogue.js';
import { remoteStat, remoteRead } from '../../ops/files.js';
import { sourceFile } from '../../ops/source.js';
import { run } from '../../ops/remote.js';
import { unifiedDiff } from '../../ops/diff.js';
import { renderTemplateFile } from '../jinja.js';
import type { ArgSpec, ModuleContext, ModuleDef } from './types.js';

const META: Record<string, ArgSpec> = { mode: { type: 'mode' }, owner: { type: 'str' }, group: { type: 'str' } };
const planFile = CATALOGUE.file.run;
const planDirectory = CATALOGUE.directory.run;

/** Ansible's `backup: yes`: the old file is kept as <dest>.<stamp>~ before it is replaced. */
function withBackup(ctx: ModuleContext, dest: string, plan: Plan, backup: unknown): Plan {
  if (!backup || !plan.changed || !plan.apply) return plan;
  const apply = plan.apply;
  return {
    ...plan,
    apply: async () => {
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
      await run(ctx.op, sh`if test -f ${dest}; then cp -p -- ${dest} ${`${dest}.${stamp}~`}; fi`, 'backup');
      return apply();
    },
  };
}

const meta = (a: Record<string, unknown>) => ({ mode: a.mode as string | undefined, owner: a.owner as string | undefined, group: a.group as string | undefined });

export const copy: ModuleDef = {
  name: 'copy',
  args: { src: { type: 'path' }, content: { type: 'str' }, dest: { type: 'path' }, backup: { type: 'bool', default: false }, force: { type: 'bool', default: true }, ...META },
  requiredOneOf: [['dest'], ['src', 'content']],
  exclusive: [['src', 'content']],
  async run(ctx, a) {
    if (a.force === false) throw new OpError('copy: force=no is not supported');
    const content = a.content !== undefined ? String(a.content) : await readFile(sourceFile({ ...ctx.op, dir: ctx.baseDir }, 'files', String(a.src)));
    let dest = String(a.dest);
    if (dest.endsWith('/') && a.src) dest += path.posix.basename(String(a.src));
    const plan = await planFile(ctx.op, { path: dest, content, ...meta(a) });
    return { plan: withBackup(ctx, dest, plan, a.backup), result: { dest } };
  },
};

export const template: ModuleDef = {
  name: 'template',
  args: { src: { type: 'path' }, dest: { type: 'path' }, backup: { type: 'bool', default: false }, ...META },
  requiredOneOf: [['src'], ['dest']],
  async run(ctx, a) {
    // The catalogue's template operation, rendering with Jinja2: the task's variables at the top level.
    const op = { ...ctx.op, dir: ctx.baseDir, renderTemplate: (file: string, data: Record<string, unknown>) => renderTemplateFile(file, data) };
    const plan = await CATALOGUE.template.run(op, { src: String(a.src), dest: String(a.dest), data: ctx.vars, ...meta(a) });
    return { plan: withBackup(ctx, String(a.dest), plan, a.backup), result: { dest: a.dest } };
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

async function planLink(ctx: ModuleContext, p: string, src: string, a: Record<string, unknown>): Promise<Plan> {
  const r = await ctx.op.read(sh`readlink -- ${p}`);
  if (r.code === 0 && r.stdout.replace(/\n$/, '') === src) return { changed: false };
  const st = r.code === 0 ? undefined : await remoteStat(ctx.op, p);
  if (st?.exists && !a.force) throw new OpError(`refusing to convert from ${st.type} to symlink for ${p}`);
  return {
    changed: true,
    message: `link -> ${src}`,
    apply: async () => {
      await run(ctx.op, sh`ln -sfn -- ${src} ${p}`, `link ${p}`);
      if (a.owner || a.group) await run(ctx.op, sh`chown -h ${`${a.owner ?? ''}${a.group ? ':' + a.group : ''}`} -- ${p}`, 'chown');
    },
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
      plan = await planLink(ctx, p, String(a.src), a);
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
    backup: { type: 'bool', default: false },
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
    return { plan: withBackup(ctx, p, plan, a.backup), result: {} };
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
    backup: { type: 'bool', default: false },
    mode: { type: 'mode' },
  },
  requiredOneOf: [['path']],
  async run(ctx, a) {
    const p = String(a.path);
    const m = /^# \{mark\} (.+)$/.exec(String(a.marker));
    if (!m) throw new OpError(`blockinfile: marker ${JSON.stringify(a.marker)} is not supported; write it as "# {mark} TEXT"`);
    if (!a.create && (await remoteRead(ctx.op, p)) === null) throw new OpError(`Path ${p} does not exist !`);
    const plan = await CATALOGUE.block.run(ctx.op, { path: p, marker: m[1], block: a.state === 'absent' ? '' : String(a.block), mode: a.mode as string });
    return { plan: withBackup(ctx, p, plan, a.backup), result: {} };
  },
};
