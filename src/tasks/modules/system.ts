// command, shell, package (apt/dnf/yum), service (systemd), sysctl: Ansible's arguments mapped
// onto the catalogue's operations (src/ops/catalogue.ts), the ones TypeScript roles call.
import path from 'node:path';
import { sh, raw, type Shell } from '../../transport/quote.js';
import { OpError, type Plan } from '../../ops/types.js';
import { CATALOGUE } from '../../ops/catalogue.js';
import { run, fact } from '../../ops/remote.js';
import { fileContent } from '../../facts/file.js';
import { sysctl as sysctlFact } from '../../facts/system.js';
import type { ModuleContext, ModuleDef, ModuleOutcome } from './types.js';

/** POSIX shell word splitting as Python's shlex.split does it (quotes and backslashes). */
export function shlexSplit(text: string): string[] {
  const words: string[] = [];
  let cur: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && /["\\$`]/.test(text[i + 1] ?? '')) cur += text[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      cur ??= '';
    } else if (ch === '\\' && i + 1 < text.length) cur = (cur ?? '') + text[++i];
    else if (/\s/.test(ch)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else cur = (cur ?? '') + ch;
  }
  if (quote) throw new OpError(`unbalanced ${quote} quote in ${JSON.stringify(text)}`);
  if (cur !== null) words.push(cur);
  return words;
}

/** command/shell: planned by the command operation (creates/removes), run with its output kept for register. */
async function runCommand(ctx: ModuleContext, a: Record<string, unknown>, body: Shell, shown: string): Promise<ModuleOutcome> {
  const cmd = a.chdir !== undefined ? sh`cd -- ${String(a.chdir)} && ${body}` : body;
  const result: Record<string, unknown> = { cmd: shown };
  const decided = await CATALOGUE.command.run(ctx.op, {
    cmd,
    creates: a.creates as string | undefined,
    unless: a.removes !== undefined ? sh`test ! -e ${String(a.removes)}` : undefined,
  });
  if (!decided.changed) {
    return { plan: { changed: false, message: a.creates !== undefined ? `skipped, since ${a.creates} exists` : `skipped, since ${a.removes} does not exist` }, result: { ...result, rc: 0, stdout: '', stderr: '', stdout_lines: [], stderr_lines: [] } };
  }
  const plan: Plan = {
    changed: true,
    message: shown.length > 80 ? shown.slice(0, 77) + '...' : shown,
    apply: async () => {
      const r = await ctx.op.transport.exec(cmd, a.stdin !== undefined ? { stdin: String(a.stdin) } : undefined);
      const stdout = r.stdout.replace(/\n$/, '');
      const stderr = r.stderr.replace(/\n$/, '');
      Object.assign(result, { rc: r.code, stdout, stderr, stdout_lines: stdout ? stdout.split('\n') : [], stderr_lines: stderr ? stderr.split('\n') : [], failed: r.code !== 0 });
      if (r.code !== 0) result.msg = 'non-zero return code';
      return stdout.length > 200 ? stdout.slice(0, 197) + '...' : stdout;
    },
  };
  return { plan, result, skipInCheck: true };
}

const COMMAND_ARGS = { creates: { type: 'path' }, removes: { type: 'path' }, chdir: { type: 'path' }, stdin: { type: 'str' } } as const;

export const command: ModuleDef = {
  name: 'command',
  freeForm: 'cmd',
  args: { cmd: { type: 'str', aliases: ['_raw_params'] }, argv: { type: 'list' }, ...COMMAND_ARGS },
  requiredOneOf: [['cmd', 'argv']],
  exclusive: [['cmd', 'argv']],
  async run(ctx, a) {
    const words = a.argv !== undefined ? (a.argv as unknown[]).map(String) : shlexSplit(String(a.cmd));
    if (words.length === 0) throw new OpError('command: no command given');
    return runCommand(ctx, a, sh`${words}`, words.join(' '));
  },
};

export const shell: ModuleDef = {
  name: 'shell',
  freeForm: 'cmd',
  args: { cmd: { type: 'str', aliases: ['_raw_params'] }, executable: { type: 'path' }, ...COMMAND_ARGS },
  requiredOneOf: [['cmd']],
  async run(ctx, a) {
    // The task's own shell text, as written in the playbook (the shell module's whole point).
    const text = String(a.cmd);
    const body = a.executable !== undefined ? sh`${String(a.executable)} -c ${text}` : raw(`{ ${text}\n}`);
    return runCommand(ctx, a, body, text);
  },
};

const PKG_STATE: Record<string, 'present' | 'absent'> = { present: 'present', installed: 'present', absent: 'absent', removed: 'absent' };

export const pkg: ModuleDef = {
  name: 'package',
  aliases: ['apt', 'dnf', 'yum'],
  args: {
    name: { type: 'list', aliases: ['pkg'] },
    state: { type: 'str', choices: ['present', 'installed', 'absent', 'removed'], default: 'present' },
    update_cache: { type: 'bool', aliases: ['update-cache'], default: false },
    cache_valid_time: { type: 'int' },
  },
  requiredOneOf: [['name']],
  facts: ['os', 'packageManager', 'packages'],
  async run(ctx, a) {
    const names = (a.name as unknown[]).map(String);
    const plan = await CATALOGUE.package.run(ctx.op, { name: names, state: PKG_STATE[String(a.state)] });
    if (!a.update_cache || !plan.changed || !plan.apply) return { plan, result: {} };
    // update_cache refreshes the lists before an install; with nothing to do, nothing runs (as with cache_valid_time).
    const apply = plan.apply;
    const pm = (await ctx.op.facts()).packageManager;
    return {
      plan: {
        ...plan,
        apply: async () => {
          if (pm === 'apt') await run(ctx.op, sh`DEBIAN_FRONTEND=noninteractive apt-get -q update`, 'apt-get update');
          else await run(ctx.op, sh`${pm} -q -y makecache`, `${pm} makecache`);
          return apply();
        },
      },
      result: {},
    };
  },
};

export const service: ModuleDef = {
  name: 'service',
  aliases: ['systemd', 'systemd_service'],
  args: {
    name: { type: 'str', aliases: ['service', 'unit'] },
    state: { type: 'str', choices: ['started', 'stopped', 'restarted', 'reloaded'] },
    enabled: { type: 'bool' },
    daemon_reload: { type: 'bool', aliases: ['daemon-reload'], default: false },
    use: { type: 'str', choices: ['auto', 'systemd', 'openrc', 'sysvinit'], default: 'auto' },
  },
  requiredOneOf: [['name', 'daemon_reload']],
  facts: ['services'],
  async run(ctx, a) {
    // daemon_reload runs before the unit is looked at, outside check mode; it is not a change (as in Ansible).
    if (a.daemon_reload && !ctx.op.check) await run(ctx.op, sh`systemctl daemon-reload`, 'systemctl daemon-reload');
    if (a.name === undefined) return { plan: { changed: false }, result: {} };
    const use = a.use as 'auto' | 'systemd' | 'openrc' | 'sysvinit';
    const plan = await CATALOGUE.service.run(ctx.op, { name: String(a.name), state: a.state as 'started' | undefined, enabled: a.enabled as boolean | undefined, use });
    return { plan, result: { name: a.name, state: a.state } };
  },
};

/** Ansible writes "name=value", provision "name = value": a file holding just this parameter at this value, live too, is converged. */
async function sameAsAnsibleWrote(ctx: ModuleContext, name: string, value: string, file: string): Promise<boolean> {
  const text = await fact(ctx.op, fileContent, file);
  if (text === null) return false;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const norm = (v: string) => v.trim().split(/\s+/).join(' ');
  if (lines.length !== 1 || lines[0].split('=')[0].trim() !== name || norm(lines[0].slice(lines[0].indexOf('=') + 1)) !== norm(value)) return false;
  const live = await fact(ctx.op, sysctlFact, name).catch(() => undefined);
  return live !== undefined && live === norm(value);
}

export const sysctl: ModuleDef = {
  name: 'sysctl',
  args: {
    name: { type: 'str', aliases: ['key'] },
    value: { type: 'str', aliases: ['val'] },
    state: { type: 'str', choices: ['present'], default: 'present' },
    sysctl_file: { type: 'path' },
    reload: { type: 'bool', default: true },
    sysctl_set: { type: 'bool' },
  },
  requiredOneOf: [['name'], ['value']],
  async run(ctx, a) {
    let file: string | undefined;
    if (a.sysctl_file !== undefined) {
      const f = String(a.sysctl_file);
      if (path.posix.dirname(f) !== '/etc/sysctl.d') throw new OpError(`sysctl: sysctl_file must be a file in /etc/sysctl.d (provision writes one file per parameter), got ${f}`);
      file = path.posix.basename(f);
    }
    if (file && (await sameAsAnsibleWrote(ctx, String(a.name), String(a.value), `/etc/sysctl.d/${file}`))) return { plan: { changed: false }, result: {} };
    const plan = await CATALOGUE.sysctl.run(ctx.op, { name: String(a.name), value: String(a.value), file });
    return { plan, result: {} };
  },
};
