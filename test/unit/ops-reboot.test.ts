// The reboot operation against a recording transport: it orders the reboot, reconnects until
// the boot id changes (a host still down, then the old boot, then the new one), runs
// test_command; --check touches nothing; a boot id that never changes fails at the timeout.
// The same entry runs a YAML `reboot:` task. Real reboots: test/reboot-box.test.ts (loopback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingTransport } from '../../src/transport/recording.js';
import { HostError } from '../../src/errors.js';
import { sh } from '../../src/transport/quote.js';
import type { OpContext } from '../../src/ops/types.js';
import { emptyFacts } from '../../src/facts/index.js';
import { CATALOGUE } from '../../src/ops/catalogue.js';
import { adhocModule, runAdhoc } from '../../src/tasks/adhoc.js';

function ctx(t: RecordingTransport, check = false, facts = emptyFacts()): OpContext {
  return {
    host: { name: 'h', groups: ['all'], vars: {} },
    transport: t,
    read: (c) => t.exec(c),
    facts: async () => facts,
    factsChanged: (update) => update(facts),
    check,
    diff: false,
  };
}

/** A host whose boot id is `old` until `reboots` reconnects have happened, then `new`. */
function rebootingHost(o: { reconnectFailures?: number; oldAfterReboot?: number } = {}) {
  const t = new RecordingTransport('h', { reconnectFailures: o.reconnectFailures ?? 0 });
  let oldAnswers = 1 + (o.oldAfterReboot ?? 0);
  t.on('boot_id', () => ({ stdout: oldAnswers-- > 0 ? 'old-boot\n' : 'new-boot\n' }));
  return t;
}

test('reboot: orders shutdown -r, reconnects until the boot id is new, then test_command; service facts are read again after it', async () => {
  const t = rebootingHost({ reconnectFailures: 1, oldAfterReboot: 1 });
  const facts = { ...emptyFacts(), services: { nginx: { active: 'active', enabled: 'disabled' } } };
  const plan = await CATALOGUE.reboot.run(ctx(t, false, facts), {});
  assert.equal(plan.changed, true);
  assert.equal(t.commands.length, 0, 'planning reads nothing');
  const out = await plan.apply!();
  assert.match(String(out), /^back after \d+\.\d s$/);
  assert.deepEqual(t.commands, [
    'cat /proc/sys/kernel/random/boot_id',
    "shutdown -r +0 'Reboot initiated by provision'",
    'cat /proc/sys/kernel/random/boot_id', // reconnected to the old boot, still going down
    'cat /proc/sys/kernel/random/boot_id',
    'whoami',
  ]);
  assert.equal(t.reconnects, 3, 'one refused (host down), one to the old boot, one to the new');
  assert.deepEqual(facts.services, {}, 'service states from before the reboot are forgotten');
});

test('reboot: the connection dropping under the shutdown command is the reboot, not a failure; pre_reboot_delay in minutes; options from a role', async () => {
  const t = rebootingHost();
  const ordered: string[] = [];
  t.on('shutdown', (cmd) => {
    ordered.push(cmd);
    throw new HostError('h', 'unreachable', 'connection lost: connection closed');
  });
  const plan = await CATALOGUE.reboot.run(ctx(t), { msg: 'kernel 6.1', pre_reboot_delay: 150, test_command: sh`systemctl is-system-running` });
  await plan.apply!();
  assert.deepEqual(ordered, ["shutdown -r +2 'kernel 6.1'"]);
  assert.deepEqual(t.commands.slice(1), ['cat /proc/sys/kernel/random/boot_id', 'systemctl is-system-running']);

  // The command's channel ended first ("failed"), the connection is lost a moment later: still the reboot.
  const late = rebootingHost();
  late.on('shutdown', () => {
    throw new HostError('h', 'failed', 'channel closed while running a command');
  });
  let asked = 0;
  Object.assign(late, { lostWithin: async () => ++asked > 0 });
  await (await CATALOGUE.reboot.run(ctx(late), {})).apply!();
  assert.equal(asked, 1);
  const other = rebootingHost();
  other.on('shutdown', () => {
    throw new HostError('h', 'failed', 'cannot open a channel');
  });
  Object.assign(other, { lostWithin: async () => false });
  await assert.rejects((await CATALOGUE.reboot.run(ctx(other), {})).apply!(), /cannot open a channel/);
});

test('reboot: --check reports a change and sends nothing; a boot id that never changes fails at reboot_timeout', async () => {
  const c = new RecordingTransport('h');
  const checked = await CATALOGUE.reboot.run(ctx(c, true), {});
  assert.equal(checked.changed, true);
  assert.equal(c.commands.length + c.reconnects, 0);

  const stuck = new RecordingTransport('h').on('boot_id', { stdout: 'same\n' });
  const plan = await CATALOGUE.reboot.run(ctx(stuck), { reboot_timeout: 1 });
  await assert.rejects(plan.apply!(), /reboot: timed out waiting for the host to come back with a new boot id/);

  const failing = new RecordingTransport('h').on('boot_id', { stdout: 'b\n' }).on('shutdown', { code: 1, stderr: 'shutdown: not allowed' });
  await assert.rejects((await CATALOGUE.reboot.run(ctx(failing), {})).apply!(), /exit 1\): shutdown: not allowed/);
  assert.equal(failing.reconnects, 0);
});

test('reboot as a YAML task: the same operation, Ansible argument names, shell text for the commands', async () => {
  const t = rebootingHost();
  t.on('my-boot', () => ({ stdout: t.reconnects ? 'two\n' : 'one\n' }));
  const m = adhocModule('reboot', { reboot_command: 'kill -HUP 1 && echo bye', boot_time_command: 'cat /run/my-boot', test_command: 'test -e /run/ready', reboot_timeout: 30 });
  const r = await runAdhoc(m, ctx(t));
  assert.equal(r.changed, true);
  assert.deepEqual(t.commands, ['cat /run/my-boot', 'kill -HUP 1 && echo bye', 'cat /run/my-boot', 'test -e /run/ready']);
  assert.throws(() => adhocModule('reboot', 'reboot_timout=5'), /did you mean "reboot_timeout"/);
  const checked = await runAdhoc(m, ctx(new RecordingTransport('h'), true));
  assert.equal(checked.changed, true);
});
