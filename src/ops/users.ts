// Users and groups: read from the account databases (getent, id), changed with the shadow
// tools (useradd/usermod/userdel, groupadd/groupmod/groupdel), as Ansible's user and group do.
import { sh, type Shell } from '../transport/quote.js';
import type { OpContext, Plan } from './types.js';
import { OpError } from './types.js';
import { run, fact } from './remote.js';
import { account, shadowHash, groupId, type Account } from '../facts/accounts.js';
import { defineOperation } from './operation.js';
import { t, required, type SpecOf } from './schema.js';

/** One read: the passwd entry, the primary group's name and every group of a user. */
export function readUser(ctx: OpContext, name: string): Promise<Account | undefined> {
  return fact(ctx, account, name);
}

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

const userOptions = {
  name: required(t.string('user name')),
  state: t.oneOf(['present', 'absent'], 'present or removed', { default: 'present' }),
  uid: t.number('user id'),
  group: t.string('primary group (must exist)'),
  groups: t.strings('supplementary groups (list or comma-separated)'),
  append: t.boolean('add to `groups` and keep others; false: exactly `groups`', { default: 'false' }),
  shell: t.string('login shell'),
  home: t.string('home directory', { default: 'useradd\'s (/home/<name>)' }),
  create_home: t.boolean('create the home directory when creating the user', { default: 'true' }),
  system: t.boolean('a system account (created with useradd -r)', { default: 'false' }),
  comment: t.string('the GECOS field'),
  password: t.string('the password hash (crypt format; sent on stdin, never shown)'),
  remove: t.boolean('with state absent: remove the home directory too', { default: 'false' }),
};
type UserSpec = SpecOf<typeof userOptions>;

export const user = defineOperation({
  summary: 'A user account with the given uid, groups, shell and home (or absent).',
  ansible: 'ansible.builtin.user',
  options: userOptions,
  reads: 'getent passwd, id -gn, id -Gn (one command); getent shadow only when `password` is given',
  changes: 'useradd, usermod, userdel; chpasswd -e for the password',
  checkMode: '--check names what would change; no diff',
  example: `await r.user('deploy user', { name: 'deploy', groups: ['www-data'], shell: '/bin/bash' });`,
  run: (ctx, spec) => planUser(ctx, spec),
});

async function planUser(ctx: OpContext, spec: UserSpec): Promise<Plan> {
  const cur = await readUser(ctx, spec.name);
  if (spec.state === 'absent') {
    if (!cur) return { changed: false, message: 'absent' };
    return { changed: true, message: `remove user ${spec.name}`, apply: () => run(ctx, sh`userdel ${spec.remove ? ['-r'] : []} -- ${spec.name}`, 'userdel').then(() => {}) };
  }
  const groups = list(spec.groups);
  const steps: Shell[] = [];
  const words: string[] = [];
  if (!cur) {
    const args: string[] = [];
    if (spec.uid !== undefined) args.push('-u', String(spec.uid));
    if (spec.group) args.push('-g', spec.group);
    if (groups?.length) args.push('-G', groups.join(','));
    if (spec.shell) args.push('-s', spec.shell);
    if (spec.home) args.push('-d', spec.home);
    if (spec.comment !== undefined) args.push('-c', spec.comment);
    if (spec.system) args.push('-r');
    args.push(spec.create_home === false ? '-M' : '-m');
    steps.push(sh`useradd ${args} -- ${spec.name}`);
    words.push(`create user ${spec.name}`);
  } else {
    const args: string[] = [];
    const change = (flag: string, word: string, value: string) => (args.push(flag, value), words.push(word));
    if (spec.uid !== undefined && cur.uid !== spec.uid) change('-u', `uid ${cur.uid} -> ${spec.uid}`, String(spec.uid));
    if (spec.group && cur.group !== spec.group && String(cur.gid) !== spec.group) change('-g', `group ${cur.group} -> ${spec.group}`, spec.group);
    if (spec.shell && cur.shell !== spec.shell) change('-s', `shell ${cur.shell} -> ${spec.shell}`, spec.shell);
    if (spec.home && cur.home !== spec.home) change('-d', `home ${cur.home} -> ${spec.home}`, spec.home);
    if (spec.comment !== undefined && cur.comment !== spec.comment) change('-c', 'comment', spec.comment);
    if (groups) {
      const have = new Set(cur.groups.filter((g) => g !== (spec.group ?? cur.group)));
      const missing = groups.filter((g) => !have.has(g));
      const extra = [...have].filter((g) => !groups.includes(g));
      if (spec.append && missing.length) (args.push('-a', '-G', missing.join(',')), words.push(`groups +${missing.join(',')}`));
      if (!spec.append && (missing.length || extra.length)) change('-G', `groups ${[...have].join(',') || '-'} -> ${groups.join(',') || '-'}`, groups.join(','));
    }
    if (args.length) steps.push(sh`usermod ${args} -- ${spec.name}`);
  }
  const password = spec.password;
  if (password !== undefined && (!cur || (await fact(ctx, shadowHash, spec.name)) !== password)) words.push('password');
  if (words.length === 0) return { changed: false };
  return {
    changed: true,
    message: words.join(', '),
    apply: async () => {
      for (const s of steps) await run(ctx, s, s.text.split(' ')[0]);
      if (password !== undefined && words.includes('password')) await run(ctx, sh`chpasswd -e`, 'chpasswd', { stdin: `${spec.name}:${password}\n` });
    },
  };
}

export const group = defineOperation({
  summary: 'A group with the given gid (or absent).',
  ansible: 'ansible.builtin.group',
  options: {
    name: required(t.string('group name')),
    state: t.oneOf(['present', 'absent'], 'present or removed', { default: 'present' }),
    gid: t.number('group id'),
    system: t.boolean('a system group (groupadd -r)', { default: 'false' }),
  },
  reads: 'getent group',
  changes: 'groupadd, groupmod -g, groupdel',
  checkMode: '--check names what would change; no diff',
  example: `await r.group('app group', { name: 'app', gid: 990, system: true });`,
  async run(ctx, spec) {
    const gid = await fact(ctx, groupId, spec.name);
    if (spec.state === 'absent') {
      if (gid === undefined) return { changed: false, message: 'absent' };
      return { changed: true, message: `remove group ${spec.name}`, apply: () => run(ctx, sh`groupdel -- ${spec.name}`, 'groupdel').then(() => {}) };
    }
    const gidArgs = spec.gid !== undefined ? ['-g', String(spec.gid)] : [];
    if (gid === undefined) {
      return { changed: true, message: `create group ${spec.name}`, apply: () => run(ctx, sh`groupadd ${gidArgs} ${spec.system ? ['-r'] : []} -- ${spec.name}`, 'groupadd').then(() => {}) };
    }
    if (spec.gid !== undefined && gid !== spec.gid) {
      return { changed: true, message: `gid ${gid} -> ${spec.gid}`, apply: () => run(ctx, sh`groupmod ${gidArgs} -- ${spec.name}`, 'groupmod').then(() => {}) };
    }
    return { changed: false };
  },
});
