// Services where systemd is not the init system: OpenRC (rc-service, rc-update) and SysV
// (service, update-rc.d or chkconfig). The task's message names the init system used.
import { sh, type Shell } from '../transport/quote.js';
import type { OpContext, Plan } from './types.js';
import { OpError } from './types.js';
import { run, fact } from './remote.js';
import { initSystem, type InitSystem } from '../facts/accounts.js';

export type { InitSystem };

/** Which init system manages services on the host (one read; used only when systemd is not PID 1). */
export function detectInit(ctx: OpContext): Promise<InitSystem> {
  return fact(ctx, initSystem);
}

interface InitCommands {
  status: Shell;
  enabled: Shell;
  act(verb: 'start' | 'stop' | 'restart' | 'reload'): Shell;
  enable: Shell;
  disable: Shell;
}

function commands(init: Exclude<InitSystem, 'systemd'>, name: string): InitCommands {
  if (init === 'openrc') {
    return {
      status: sh`rc-service ${name} status`,
      enabled: sh`rc-update show default | grep -qw -- ${name}`,
      act: (verb) => sh`rc-service ${name} ${verb}`,
      enable: sh`rc-update add ${name} default`,
      disable: sh`rc-update del ${name} default`,
    };
  }
  return {
    status: sh`service ${name} status`,
    enabled: sh`ls /etc/rc[2345].d/S*${name} >/dev/null 2>&1 || { command -v chkconfig >/dev/null 2>&1 && chkconfig ${name}; }`,
    act: (verb) => sh`service ${name} ${verb}`,
    enable: sh`if command -v update-rc.d >/dev/null 2>&1; then update-rc.d ${name} defaults; else chkconfig ${name} on; fi`,
    disable: sh`if command -v update-rc.d >/dev/null 2>&1; then update-rc.d ${name} disable; else chkconfig ${name} off; fi`,
  };
}

/** The same contract as the systemd plan, through OpenRC or SysV scripts. */
export async function planInitService(
  ctx: OpContext,
  init: Exclude<InitSystem, 'systemd'>,
  spec: { name: string; state?: 'started' | 'stopped' | 'restarted' | 'reloaded'; enabled?: boolean },
): Promise<Plan> {
  if (!/^[A-Za-z0-9@._+-]+$/.test(spec.name)) throw new OpError(`not a service name: ${JSON.stringify(spec.name)}`);
  const c = commands(init, spec.name);
  const running = (await ctx.read(c.status)).code === 0;
  const enabled = spec.enabled === undefined ? undefined : (await ctx.read(c.enabled)).code === 0;
  const steps: Shell[] = [];
  const words: string[] = [];
  if (spec.enabled === true && !enabled) (steps.push(c.enable), words.push('enabled'));
  if (spec.enabled === false && enabled) (steps.push(c.disable), words.push('disabled'));
  if (spec.state === 'started' && !running) (steps.push(c.act('start')), words.push('started'));
  if (spec.state === 'stopped' && running) (steps.push(c.act('stop')), words.push('stopped'));
  if (spec.state === 'restarted') (steps.push(c.act('restart')), words.push('restarted'));
  if (spec.state === 'reloaded') (steps.push(c.act(running ? 'reload' : 'start')), words.push(running ? 'reloaded' : 'started'));
  const via = `(${init === 'openrc' ? 'OpenRC rc-service' : 'SysV service'})`;
  if (steps.length === 0) return { changed: false, message: via };
  return {
    changed: true,
    message: `${words.join(', ')} ${via}`,
    apply: async () => {
      for (const s of steps) await run(ctx, s, s.text);
    },
  };
}
