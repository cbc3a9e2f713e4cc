// Catalogue entries of the file operations (their plans are in ./files.ts).
import type { Shell } from '../transport/quote.js';
import { defineOperation } from './operation.js';
import { t, required } from './schema.js';
import { planFile, planDirectory, planBlock, planLine } from './files.js';
import { sourceFile, renderTemplateFile } from './source.js';

const owner = {
  mode: t.mode('file mode', { default: '"0644" for a new file' }),
  owner: t.string('owner (user name)'),
  group: t.string('group name'),
};
const validate = t.fn<(candidatePath: string) => Shell>(
  '(candidate: string) => Shell',
  'a command that checks a candidate file before it replaces the live one (e.g. p => sh`nginx -t -c ${p}`)',
);

export const file = defineOperation({
  summary: 'A file with the given content, mode and owner (or absent).',
  ansible: 'ansible.builtin.copy (content=) / ansible.builtin.file (state=absent)',
  options: {
    path: required(t.string('path on the host')),
    content: t.content('the wanted content (required unless state is absent)'),
    ...owner,
    state: t.oneOf(['present', 'absent'], 'present or removed', { default: 'present' }),
    validate,
  },
  reads: "the file's type, mode, owner, group and sha256 (one stat); its content only for --diff",
  changes: 'writes the file atomically (temp file in its directory, then rename); chmod/chown for metadata only',
  checkMode: '--check plans without writing; --diff shows a unified diff of the content',
  example: `await r.file('motd', { path: '/etc/motd', content: 'managed by provision\\n', mode: '0644' });`,
  run: (ctx, spec) => planFile(ctx, spec),
});

export const template = defineOperation({
  summary: 'A file rendered from an EJS template of the role (templates/), with host, vars and facts.',
  ansible: 'ansible.builtin.template',
  options: {
    src: required(t.string("template file, under the role's templates/ directory")),
    dest: required(t.string('path on the host')),
    data: t.object('extra data for the template, on top of { host, vars, facts }'),
    ...owner,
    validate,
  },
  reads: 'as file; renders on the controller',
  changes: 'as file',
  checkMode: 'as file: --diff shows the rendered difference',
  example: `await r.template('site', { src: 'site.conf.ejs', dest: '/etc/nginx/sites-enabled/site.conf' }, { notify: 'reload nginx' });`,
  async run(ctx, spec) {
    const { src, dest, data, ...rest } = spec;
    const render = ctx.renderTemplate ?? renderTemplateFile;
    const content = await render(sourceFile(ctx, 'templates', src), { host: ctx.host, vars: ctx.vars ?? {}, facts: await ctx.facts(), ...(data ?? {}) });
    return planFile(ctx, { ...rest, path: dest, content });
  },
});

export const directory = defineOperation({
  summary: 'A directory with the given mode and owner (parents created).',
  ansible: 'ansible.builtin.file (state=directory)',
  options: { path: required(t.string('path on the host')), ...owner },
  reads: 'type, mode, owner, group (one stat)',
  changes: 'mkdir -p, chmod, chown',
  checkMode: '--check plans only; no diff',
  example: `await r.directory('web root', { path: '/srv/www', mode: '0755' });`,
  run: (ctx, spec) => planDirectory(ctx, spec),
});

export const block = defineOperation({
  summary: 'A managed block between "# BEGIN marker" and "# END marker" lines; the rest of the file left byte for byte.',
  ansible: 'ansible.builtin.blockinfile',
  options: {
    path: required(t.string('path on the host')),
    marker: required(t.string('names the block: "# BEGIN <marker>" ... "# END <marker>"')),
    block: required(t.string('the lines between the markers; empty removes the block')),
    mode: t.mode('mode of a new file', { default: '"0644"' }),
  },
  reads: 'the file',
  changes: "rewrites the file atomically, keeping its mode and owner",
  checkMode: '--diff shows the difference',
  example: `await r.block('hosts', { path: '/etc/hosts', marker: 'provision', block: '10.0.0.1 db\\n' });`,
  run: (ctx, spec) => planBlock(ctx, spec),
});

export const line = defineOperation({
  summary: 'One line in a file: the last line matching `regexp` replaced (or appended), or every match removed.',
  ansible: 'ansible.builtin.lineinfile',
  options: {
    path: required(t.string('path on the host')),
    line: t.string('the wanted line (required unless state is absent)'),
    regexp: t.pattern('a RegExp, or a string that is the exact line to replace', { default: 'the line itself' }),
    state: t.oneOf(['present', 'absent'], 'present or every matching line removed', { default: 'present' }),
  },
  reads: 'the file',
  changes: 'rewrites the file atomically, keeping its mode and owner',
  checkMode: '--diff shows the difference',
  example: `await r.line('ssh port', { path: '/etc/ssh/sshd_config', regexp: /^#?Port /, line: 'Port 22' });`,
  run: (ctx, spec) => planLine(ctx, spec),
});
