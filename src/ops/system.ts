// Packages, services, sysctls and commands: planned from facts, applied with one quoted command.
import { sh, raw, type Shell } from '../transport/quote.js';
import type { OpContext, Plan } from './types.js';
import { OpError } from './types.js';
import { run, fact } from './remote.js';
import { service, sysctl, pathExists } from '../facts/catalog.js';
import { planFile } from './files.js';
import { detectInit, planInitService, type InitSystem } from './service.js';

export interface PackageSpec {
  name: string | string[];
  state?: 'present' | 'absent';
}

export async function planPackage(ctx: OpContext, spec: PackageSpec): Promise<Plan> {
  const names = Array.isArray(spec.name) ? spec.name : [spec.name];
  const facts = await ctx.facts();
  const state = spec.state ?? 'present';
  const todo = names.filter((n) => (state === 'present') !== n in facts.packages);
  if (todo.length === 0) return { changed: false };
  const pm = facts.packageManager;
  if (pm === 'unknown') throw new OpError(`no supported package manager on ${ctx.host.name} (apt, dnf, yum)`);
  return {
    changed: true,
    message: `${state === 'present' ? 'install' : 'remove'} ${todo.join(' ')}`,
    apply: async () => {
      if (pm === 'apt') {
        const env = raw('DEBIAN_FRONTEND=noninteractive');
        const verb = state === 'present' ? raw('install --no-install-recommends') : raw('purge');
        const cmd = sh`${env} apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${verb} ${todo}`;
        const r = await ctx.transport.exec(cmd);
        if (r.code !== 0 && /Unable to locate package|has no installation candidate|404\s/.test(r.stderr + r.stdout)) {
          // Stale or missing package lists on a fresh host: refresh once, then retry.
          await run(ctx, sh`${env} apt-get -q update`, 'apt-get update');
          await run(ctx, cmd, `apt-get ${state === 'present' ? 'install' : 'purge'}`);
        } else if (r.code !== 0) {
          throw new OpError(`apt-get failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n')}`);
        }
      } else {
        const verb = state === 'present' ? raw('install') : raw('remove');
        await run(ctx, sh`${raw(pm)} -y -q ${verb} ${todo}`, `${pm} ${state === 'present' ? 'install' : 'remove'}`);
      }
      ctx.factsChanged((f) => {
        for (const n of todo) {
          if (state === 'present') f.packages[n] = 'installed';
          else delete f.packages[n];
        }
      });
    },
  };
}

export interface ServiceSpec {
  name: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  /** The init system: auto (systemd where it is PID 1, else OpenRC or SysV), or one forced. */
  use?: 'auto' | InitSystem;
}

/** One systemctl round trip for a unit the facts did not already cover. */
export async function serviceState(ctx: OpContext, name: string): Promise<{ active: string; enabled: string }> {
  const facts = await ctx.facts();
  const known = facts.services[name];
  if (known) return known;
  const st = await fact(ctx, service, name);
  ctx.factsChanged((f) => (f.services[name] = { ...st }));
  return st;
}

export async function planService(ctx: OpContext, spec: ServiceSpec): Promise<Plan> {
  const use = spec.use ?? 'auto';
  if (use !== 'systemd' && (use !== 'auto' || (await ctx.facts()).systemd === false)) {
    const init = use === 'auto' ? await detectInit(ctx) : use;
    if (init !== 'systemd') return planInitService(ctx, init, spec);
  }
  const st = await serviceState(ctx, spec.name);
  const steps: Shell[] = [];
  const words: string[] = [];
  if (spec.enabled === true && st.enabled !== 'enabled' && st.enabled !== 'static' && st.enabled !== 'alias') {
    steps.push(sh`systemctl enable -- ${spec.name}`);
    words.push('enabled');
  }
  if (spec.enabled === false && st.enabled === 'enabled') {
    steps.push(sh`systemctl disable -- ${spec.name}`);
    words.push('disabled');
  }
  const active = st.active === 'active' || st.active === 'reloading' || st.active === 'activating';
  switch (spec.state) {
    case 'started':
      if (!active) (steps.push(sh`systemctl start -- ${spec.name}`), words.push('started'));
      break;
    case 'stopped':
      if (active) (steps.push(sh`systemctl stop -- ${spec.name}`), words.push('stopped'));
      break;
    case 'restarted':
      steps.push(sh`systemctl restart -- ${spec.name}`);
      words.push('restarted');
      break;
    case 'reloaded':
      // Reloading a stopped service starts it (as Ansible does): the handler's intent is "running with the new config".
      steps.push(active ? sh`systemctl reload -- ${spec.name}` : sh`systemctl start -- ${spec.name}`);
      words.push(active ? 'reloaded' : 'started');
      break;
  }
  if (steps.length === 0) return { changed: false };
  return {
    changed: true,
    message: words.join(', '),
    apply: async () => {
      for (const s of steps) {
        const r = await ctx.transport.exec(s);
        if (r.code !== 0) {
          const journal = await ctx.transport.exec(sh`journalctl -u ${spec.name} -n 15 --no-pager -o cat`);
          throw new OpError(`${s.text} failed (exit ${r.code}): ${r.stderr.trim()}\n${journal.stdout.trim()}`);
        }
      }
      ctx.factsChanged((f) => {
        const cur = (f.services[spec.name] ??= { ...st });
        if (words.includes('enabled')) cur.enabled = 'enabled';
        if (words.includes('disabled')) cur.enabled = 'disabled';
        if (words.some((w) => ['started', 'restarted', 'reloaded'].includes(w))) cur.active = 'active';
        if (words.includes('stopped')) cur.active = 'inactive';
      });
    },
  };
}

export interface SysctlSpec {
  name: string;
  value: string | number;
  /** Persisted in /etc/sysctl.d/<file>; default 60-provision-<name>.conf */
  file?: string;
}

export async function planSysctl(ctx: OpContext, spec: SysctlSpec): Promise<Plan> {
  if (!/^[a-z0-9_.\-/]+$/i.test(spec.name)) throw new OpError(`invalid sysctl name ${JSON.stringify(spec.name)}`);
  const value = String(spec.value);
  const file = `/etc/sysctl.d/${spec.file ?? `60-provision-${spec.name.replace(/[/.]/g, '-')}.conf`}`;
  const persisted = await planFile(ctx, { path: file, content: `${spec.name} = ${value}\n`, mode: '0644', owner: 'root', group: 'root' });
  const runtime = await fact(ctx, sysctl, spec.name);
  const runtimeOk = runtime === value.split(/\s+/).join(' ');
  if (!persisted.changed && runtimeOk) return { changed: false };
  return {
    changed: true,
    diff: persisted.diff,
    message: [runtimeOk ? '' : `runtime ${runtime} -> ${value}`, persisted.changed ? `persisted in ${file}` : ''].filter(Boolean).join(', '),
    apply: async () => {
      if (persisted.changed) await persisted.apply!();
      if (!runtimeOk) await run(ctx, sh`sysctl -q -w ${`${spec.name}=${value}`}`, `sysctl ${spec.name}`);
    },
  };
}

export interface CommandSpec {
  cmd: Shell;
  /** Skip when this path exists on the host. */
  creates?: string;
  /**
   * Skip when this command succeeds. A check: it must change nothing on the host (it is run as
   * a read, so the run's read-ahead may answer it, like any other check).
   */
  unless?: Shell;
  /** Run even in check mode (read-only commands). */
  readOnly?: boolean;
}

export async function planCommand(ctx: OpContext, spec: CommandSpec): Promise<Plan> {
  if (spec.creates) {
    if (await fact(ctx, pathExists, spec.creates)) return { changed: false, message: `${spec.creates} exists` };
  }
  if (spec.unless) {
    const r = await ctx.read(spec.unless);
    if (r.code === 0) return { changed: false };
  }
  return {
    changed: true,
    message: spec.cmd.text.length > 80 ? spec.cmd.text.slice(0, 77) + '...' : spec.cmd.text,
    apply: async () => {
      const r = await run(ctx, spec.cmd, 'command');
      return r.stdout.trim();
    },
  };
}
