// Modules that are one catalogue operation each, with Ansible's argument names passed through
// as they are (the catalogue uses Ansible's names for these): user, group, cron, get_url,
// unarchive, wait_for, reboot. The entry is found by the Ansible module its `ansible` field
// names, so the table in src/ops/catalogue.ts stays the one place that says which is which.
import { CATALOGUE } from '../../ops/catalogue.js';
import { raw } from '../../transport/quote.js';
import type { Operation } from '../../ops/operation.js';
import { problems } from '../../ops/schema.js';
import { OpError } from '../../ops/types.js';
import type { ArgSpec, ModuleDef } from './types.js';

/** The catalogue entry whose Ansible equivalent is ansible.builtin.<module> (first name it lists). */
export function catalogueEntry(module: string): [string, Operation] | undefined {
  const want = `ansible.builtin.${module}`;
  return (Object.entries(CATALOGUE) as [string, Operation][]).find(([, op]) => op.ansible.split(/[\s/(]+/).includes(want));
}

/**
 * `shellArgs`: arguments that are shell text the playbook wrote (reboot's test_command): the
 * operation takes them as a Shell, as the shell module takes its command.
 */
function mapped(name: string, args: Record<string, ArgSpec>, extra: Partial<ModuleDef> = {}, shellArgs: readonly string[] = []): ModuleDef {
  return {
    name,
    args,
    ...extra,
    async run(ctx, a) {
      const found = catalogueEntry(name);
      if (!found) throw new OpError(`${name}: no operation of this build's catalogue does ansible.builtin.${name}`);
      const [opName, op] = found;
      const given = Object.entries(a).filter(([, v]) => v !== undefined && v !== null);
      const spec = Object.fromEntries(given.map(([k, v]) => [k, shellArgs.includes(k) ? raw(String(v)) : v]));
      const bad = problems(opName, op.options, spec);
      if (bad.length) throw new OpError(bad.join('; '));
      return { plan: await op.run(ctx.op, spec as never), result: {} };
    },
  };
}

const str = (o: Partial<ArgSpec> = {}): ArgSpec => ({ type: 'str', ...o });
const bool = (o: Partial<ArgSpec> = {}): ArgSpec => ({ type: 'bool', ...o });
const int = (o: Partial<ArgSpec> = {}): ArgSpec => ({ type: 'int', ...o });
const present = str({ choices: ['present', 'absent'] });

export const user = mapped(
  'user',
  {
    name: str({ aliases: ['user'] }), state: present, uid: int(), group: str(), groups: { type: 'list' }, append: bool(),
    shell: str(), home: { type: 'path' }, create_home: bool({ aliases: ['createhome'] }), system: bool(), comment: str(),
    password: str(), remove: bool(),
  },
  { requiredOneOf: [['name']] },
);

export const group = mapped('group', { name: str(), state: present, gid: int(), system: bool() }, { requiredOneOf: [['name']] });

export const cron = mapped(
  'cron',
  {
    name: str(), job: str({ aliases: ['value'] }), state: present, minute: str(), hour: str(), day: str({ aliases: ['dom'] }),
    month: str(), weekday: str({ aliases: ['dow'] }), special_time: str({ choices: ['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'hourly'] }),
    user: str(), cron_file: str(), disabled: bool(),
  },
  { requiredOneOf: [['name']] },
);

export const getUrl = mapped(
  'get_url',
  { url: str(), dest: { type: 'path' }, checksum: str(), force: bool(), mode: { type: 'mode' }, owner: str(), group: str(), timeout: int() },
  { requiredOneOf: [['url'], ['dest']] },
);

export const unarchive = mapped('unarchive', { src: { type: 'path' }, dest: { type: 'path' }, remote_src: bool(), creates: { type: 'path' } }, { requiredOneOf: [['src'], ['dest']] });

export const waitFor = mapped(
  'wait_for',
  {
    port: int(), host: str(), path: { type: 'path' }, search_regex: str(), state: str({ choices: ['started', 'stopped', 'present', 'absent'] }),
    timeout: int(), delay: int(), sleep: int(),
  },
  { exclusive: [['port', 'path']] },
);

export const reboot = mapped(
  'reboot',
  { reboot_timeout: int(), msg: str(), pre_reboot_delay: int(), post_reboot_delay: int(), test_command: str(), reboot_command: str(), boot_time_command: str() },
  {},
  ['test_command', 'reboot_command', 'boot_time_command'],
);
