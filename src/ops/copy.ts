// copy: a file from the role's files/ (or given content) on the host, with an optional backup
// of the file it replaces; link: a symbolic link (Ansible's file state=link).
import { readInputFile, MAX_UPLOAD_BYTES } from '../input-file.js';
import { sh } from '../transport/quote.js';
import type { Shell } from '../transport/quote.js';
import type { Plan } from './types.js';
import { OpError } from './types.js';
import { run, chownArg, fact } from './remote.js';
import { linkState, pathOwner } from '../facts/file.js';
import { planFile } from './files.js';
import { sourceFile } from './source.js';
import { defineOperation } from './operation.js';
import { t, required } from './schema.js';

export const copy = defineOperation({
  summary: "A file on the host with the content of a controller file (the role's files/) or given content.",
  ansible: 'ansible.builtin.copy',
  options: {
    dest: required(t.string('path on the host')),
    src: t.string("controller file: under the role's files/ directory, else the role's directory, or absolute"),
    content: t.content('the content, instead of src'),
    mode: t.mode('file mode', { default: '"0644"' }),
    owner: t.string('owner'),
    group: t.string('group'),
    backup: t.boolean('keep the replaced file as <dest>.<timestamp>~', { default: 'false' }),
    validate: t.fn<(candidatePath: string) => Shell>('(candidate: string) => Shell', 'checks a candidate before it replaces the live file'),
  },
  reads: "as file: one stat (type, mode, owner, sha256); the controller file's bytes",
  changes: 'writes the file atomically (binary-safe); with backup, cp -p of the old one first',
  checkMode: '--check plans only; --diff shows text differences',
  example: `await r.copy('app binary', { src: 'app.sh', dest: '/usr/local/bin/app', mode: '0755' });`,
  async run(ctx, spec) {
    if ((spec.src === undefined) === (spec.content === undefined)) throw new OpError('copy: give exactly one of "src" and "content"');
    const content = spec.content ?? (await readInputFile(sourceFile(ctx, 'files', spec.src!), { what: 'copy source', maxBytes: MAX_UPLOAD_BYTES }));
    const { src: _s, dest, backup, ...rest } = spec;
    const plan = await planFile(ctx, { ...rest, path: dest, content });
    if (!backup || !plan.changed || !plan.apply) return plan;
    const apply = plan.apply;
    return {
      ...plan,
      apply: async () => {
        const stamp = new Date().toISOString().replace(/\.\d+Z$/, '').replace('T', '@');
        await run(ctx, sh`if [ -f ${dest} ]; then cp -p -- ${dest} ${`${dest}.${stamp}~`}; fi`, 'backup');
        return apply();
      },
    };
  },
});

export const link = defineOperation({
  summary: 'A symbolic link at `path` pointing to `src`.',
  ansible: 'ansible.builtin.file (state=link)',
  options: {
    path: required(t.string('the link')),
    src: required(t.string('what it points to (stored as given)')),
    force: t.boolean('replace a regular file at path', { default: 'false' }),
    owner: t.string('owner of the link itself'),
    group: t.string('group of the link itself'),
  },
  reads: 'readlink and the type of what is at path (one command)',
  changes: 'ln -sfn; chown -h',
  checkMode: '--check names the change; no diff',
  example: `await r.link('site enabled', { path: '/etc/nginx/sites-enabled/app', src: '/etc/nginx/sites-available/app' });`,
  async run(ctx, spec): Promise<Plan> {
    const p = spec.path;
    const st = await fact(ctx, linkState, p);
    if (st.kind === 'link' && st.target === spec.src) return ownerPlan(ctx, spec);
    if (st.kind === 'other' && (st.type === 'directory' || !spec.force)) {
      throw new OpError(`${p} exists and is a ${st.type}${st.type === 'directory' ? '' : ' (force: true replaces it)'}`);
    }
    return {
      changed: true,
      message: st.kind === 'link' ? `${st.target} -> ${spec.src}` : `-> ${spec.src}`,
      apply: async () => {
        await run(ctx, sh`ln -sfn -- ${spec.src} ${p}`, 'ln');
        if (spec.owner || spec.group) await run(ctx, sh`chown -h ${chownArg(spec.owner, spec.group)!} -- ${p}`, 'chown');
      },
    };
  },
});

async function ownerPlan(ctx: Parameters<typeof link.run>[0], spec: { path: string; owner?: string; group?: string }): Promise<Plan> {
  if (!spec.owner && !spec.group) return { changed: false };
  const { owner, group } = await fact(ctx, pathOwner, spec.path);
  if ((!spec.owner || spec.owner === owner) && (!spec.group || spec.group === group)) return { changed: false };
  return {
    changed: true,
    message: `owner ${owner}:${group} -> ${spec.owner ?? owner}:${spec.group ?? group}`,
    apply: () => run(ctx, sh`chown -h ${chownArg(spec.owner, spec.group)!} -- ${spec.path}`, 'chown').then(() => {}),
  };
}
