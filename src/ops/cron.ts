// cron: a named job in a user's crontab or in a file of /etc/cron.d, in Ansible's format (a
// "#Ansible: <name>" line above the job), so a job Ansible wrote is the same job here.
import { sh } from '../transport/quote.js';
import type { OpContext, Plan } from './types.js';
import { OpError } from './types.js';
import { run, fact } from './remote.js';
import { fileText } from '../facts/file.js';
import { crontab } from '../facts/system.js';
import { unifiedDiff } from './diff.js';
import { defineOperation } from './operation.js';
import { t, required, type SpecOf } from './schema.js';

const cronOptions = {
  name: required(t.string('names the job (the "#Ansible: <name>" line above it)')),
  job: t.string('the command (required unless state is absent)'),
  state: t.oneOf(['present', 'absent'], 'present or removed', { default: 'present' }),
  minute: t.string('minute field', { default: '"*"' }),
  hour: t.string('hour field', { default: '"*"' }),
  day: t.string('day of month field', { default: '"*"' }),
  month: t.string('month field', { default: '"*"' }),
  weekday: t.string('day of week field', { default: '"*"' }),
  special_time: t.oneOf(['reboot', 'yearly', 'annually', 'monthly', 'weekly', 'daily', 'hourly'], 'instead of the five time fields'),
  user: t.string("whose crontab (or the user column of cron_file)", { default: '"root"' }),
  cron_file: t.string('a file in /etc/cron.d instead of the user crontab'),
  disabled: t.boolean('keep the job commented out', { default: 'false' }),
};
type CronSpec = SpecOf<typeof cronOptions>;

/** The job's line as Ansible writes it. */
export function cronLine(spec: CronSpec): string {
  if (spec.job === undefined) throw new OpError('cron: "job" is required unless state is absent');
  const when = spec.special_time ? `@${spec.special_time}` : [spec.minute, spec.hour, spec.day, spec.month, spec.weekday].map((f) => f ?? '*').join(' ');
  return `${spec.disabled ? '#' : ''}${when} ${spec.cron_file ? `${spec.user ?? 'root'} ` : ''}${spec.job}`;
}

/** A crontab text with the named job set to `line` (or removed when null); the rest kept. */
export function withCronJob(text: string, name: string, line: string | null): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const at = lines.indexOf(`#Ansible: ${name}`);
  const body = line === null ? [] : [`#Ansible: ${name}`, line];
  if (at >= 0) lines.splice(at, at + 1 < lines.length ? 2 : 1, ...body);
  else lines.push(...body);
  return lines.length ? lines.join('\n') + '\n' : '';
}

function readCron(ctx: OpContext, spec: CronSpec, file: string | undefined): Promise<string> {
  return file ? fact(ctx, fileText, file) : fact(ctx, crontab, spec.user ?? 'root');
}

export const cron = defineOperation({
  summary: 'A named cron job in a user crontab or in /etc/cron.d/<cron_file>.',
  ansible: 'ansible.builtin.cron',
  options: cronOptions,
  reads: 'crontab -l -u <user>, or the cron_file',
  changes: 'crontab -u <user> - (the whole crontab, other jobs kept), or the cron_file written atomically (0644 root)',
  checkMode: '--diff shows the crontab difference',
  example: `await r.cron('backup', { name: 'nightly backup', job: '/usr/local/bin/backup', hour: '3', minute: '0' });`,
  async run(ctx, spec): Promise<Plan> {
    const file = spec.cron_file ? (spec.cron_file.startsWith('/') ? spec.cron_file : `/etc/cron.d/${spec.cron_file}`) : undefined;
    const before = await readCron(ctx, spec, file);
    const after = withCronJob(before, spec.name, spec.state === 'absent' ? null : cronLine(spec));
    if (after === before) return { changed: false };
    const where = file ?? `crontab of ${spec.user ?? 'root'}`;
    return {
      changed: true,
      message: `${spec.state === 'absent' ? 'remove' : 'set'} job "${spec.name}" in ${where}`,
      diff: ctx.diff ? unifiedDiff(where, before, after) : undefined,
      apply: async () => {
        if (file && after === '') await run(ctx, sh`rm -f -- ${file}`, `remove ${file}`);
        else if (file) await ctx.transport.put(file, after, { mode: '0644', owner: 'root', group: 'root' });
        else await run(ctx, sh`crontab -u ${spec.user ?? 'root'} -`, 'crontab', { stdin: after });
      },
    };
  },
});
