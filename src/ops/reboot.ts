// reboot: restart the host and wait until it is back, as Ansible's reboot module does: read the
// boot id, order the reboot, then reconnect until the boot id differs (a new boot, not the old
// one still shutting down), wait post_reboot_delay, and until test_command succeeds. Always a
// change; --check reboots nothing.
import { HostError } from '../errors.js';
import { sh, type Shell } from '../transport/quote.js';
import type { OpContext } from './types.js';
import { OpError } from './types.js';
import { defineOperation } from './operation.js';
import { t, type SpecOf } from './schema.js';

const BOOT_ID = sh`cat /proc/sys/kernel/random/boot_id`;
/** Each read of the boot id or the test command: a host going down must not hold the loop. */
const READ_TIMEOUT_MS = 10_000;
/** Between two attempts to get back in. */
const RETRY_MS = 1_000;

const options = {
  reboot_timeout: t.number('seconds for the host to come back and pass test_command, else the task fails', { default: '600' }),
  msg: t.string('message shown to logged-in users', { default: '"Reboot initiated by provision"' }),
  pre_reboot_delay: t.number('seconds before the reboot, in whole minutes as shutdown counts them (under 60: now)', { default: '0' }),
  post_reboot_delay: t.number('seconds to wait after the new boot answers, before test_command', { default: '0' }),
  test_command: t.shell('a command that succeeds once the host is ready', { default: 'whoami' }),
  reboot_command: t.shell('the command that reboots', { default: 'shutdown -r +M MSG (M: pre_reboot_delay in minutes, MSG: msg)' }),
  boot_time_command: t.shell('prints something that differs on each boot', { default: 'cat /proc/sys/kernel/random/boot_id' }),
};

type RebootSpec = SpecOf<typeof options>;

/** The boot id now (undefined while the host cannot be asked). */
async function bootId(ctx: OpContext, cmd: Shell): Promise<string | undefined> {
  const r = await ctx.transport.exec(cmd, { timeoutMs: READ_TIMEOUT_MS }).catch(() => undefined);
  return r?.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** Order the reboot. The connection may drop before the command answers: that is the reboot. */
async function order(ctx: OpContext, cmd: Shell): Promise<void> {
  try {
    const r = await ctx.transport.exec(cmd, { timeoutMs: 30_000 });
    if (r.code !== 0 && r.code !== null) throw new OpError(`reboot: ${cmd.text} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  } catch (e) {
    // The command's channel can end a moment before the connection is seen lost: asked as the runner does.
    if (e instanceof HostError && (e.kind === 'unreachable' || (await ctx.transport.lostWithin?.(2000)))) return;
    throw e;
  }
}

/** Try `attempt` until it answers true or the deadline passes. */
async function until(deadline: number, what: string, attempt: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await attempt().catch(() => false)) return;
    if (Date.now() >= deadline) throw new OpError(`reboot: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

async function rebootAndWait(ctx: OpContext, spec: RebootSpec): Promise<string> {
  if (!ctx.transport.reconnect) throw new OpError('reboot: this connection cannot reconnect after a reboot');
  const boot = spec.boot_time_command ?? BOOT_ID;
  const before = await bootId(ctx, boot);
  if (before === undefined) throw new OpError(`reboot: cannot read the boot id (${boot.text})`);
  const t0 = Date.now();
  const deadline = t0 + (spec.reboot_timeout ?? 600) * 1000;
  const minutes = Math.floor((spec.pre_reboot_delay ?? 0) / 60);
  await order(ctx, spec.reboot_command ?? sh`shutdown -r +${minutes} ${spec.msg ?? 'Reboot initiated by provision'}`);
  await until(deadline, 'the host to come back with a new boot id', async () => {
    await ctx.transport.reconnect!();
    const now = await bootId(ctx, boot);
    return now !== undefined && now !== before;
  });
  const back = Date.now();
  // Units the run saw active may not have come back (not enabled): later tasks ask again.
  ctx.factsChanged((f) => void (f.services = {}));
  if (spec.post_reboot_delay) await new Promise((r) => setTimeout(r, spec.post_reboot_delay! * 1000));
  const test = spec.test_command ?? sh`whoami`;
  await until(deadline, `test_command (${test.text}) to succeed`, async () => (await ctx.transport.exec(test, { timeoutMs: READ_TIMEOUT_MS })).code === 0);
  return `back after ${((back - t0) / 1000).toFixed(1)} s`;
}

export const reboot = defineOperation({
  summary: 'The host rebooted; the task ends when it is back (a new boot id) and test_command succeeds.',
  ansible: 'ansible.builtin.reboot',
  options,
  reads: 'the boot id (/proc/sys/kernel/random/boot_id) before and after, then test_command',
  changes: 'runs shutdown -r, drops the connection and reconnects until the boot id changes; later tasks read service states anew',
  checkMode: '--check reports a change and reboots nothing',
  example: `await r.reboot('new kernel', { reboot_timeout: 300 });`,
  async run(ctx, spec) {
    return { changed: true, message: 'reboot', apply: () => rebootAndWait(ctx, spec) };
  },
});
