// The reboot operation end to end against a loopback sshd (test/helpers/box-target.ts): this
// machine cannot reboot for a test, so the playbook's reboot_command does what a reboot does to
// the SSH side: every connection drops (the sshd's session processes are killed, by the
// listener's pid) and, two seconds later, the "boot id" (a file boot_time_command reads)
// changes. The real CLI must reconnect, wait for the new id, and run the next task over the new
// connection: from a YAML task and from a TypeScript role (whose reboot command is cut off by
// the drop, as `shutdown` can be), through the connection keeper (the default) and directly
// (--persist 0). A real kernel reboot belongs on a VM: test/fixtures/reboot/real.yaml.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { sshdUnavailable } from './helpers/sshd.js';
import { startBoxTarget, runCli, type BoxTarget } from './helpers/box-target.js';

const FIXTURES = path.resolve('test/fixtures/reboot');
const skip = sshdUnavailable();
let box: BoxTarget;

before(async () => {
  if (!skip) box = await startBoxTarget('provision-reboot-');
});

after(async () => {
  if (!skip) await box.stop();
});

async function rebootRun(playbook: string, ...flags: string[]) {
  const bootFile = path.join(box.dir, 'boot-id');
  const before = `first-boot-${Date.now()}\n`;
  await writeFile(bootFile, before);
  await mkdir(box.root, { recursive: true });
  await rm(path.join(box.root, 'after-reboot.txt'), { force: true });
  const connections = box.sshd.connectionCount();
  const json = path.join(box.dir, `report-${Date.now()}.json`);
  const vars = ['-e', `sshd_pid=${box.sshd.pid}`, '-e', `boot_file=${bootFile}`];
  const t0 = Date.now();
  const res = await runCli(box.inventory, path.join(FIXTURES, playbook), ...vars, '--json', json, ...flags);
  const ms = Date.now() - t0;
  assert.equal(res.code, 0, res.output);
  const report = JSON.parse(await readFile(json, 'utf8')) as { tasks: { task: string; status: string; message?: string }[] };
  const reboot = report.tasks.find((t) => t.task === 'reboot');
  assert.equal(reboot?.status, 'changed', res.output);
  assert.match(reboot?.message ?? '', /^reboot: back after \d+\.\d s$/);
  assert.ok(Number(/(\d+\.\d) s/.exec(reboot!.message!)![1]) >= 2, `the new boot id appears 2.5 s after the order: ${reboot!.message}`);
  assert.notEqual(await readFile(bootFile, 'utf8'), before, 'the boot id changed');
  assert.equal(await readFile(path.join(box.root, 'after-reboot.txt'), 'utf8'), 'box is back\n', 'the next task ran on the new connection');
  await box.sshd.waitForLog(/Connection from/);
  assert.ok(box.sshd.connectionCount() >= connections + 2, `reconnected: ${box.sshd.connectionCount() - connections} new connections`);
  return { ms, message: reboot!.message! };
}

test('reboot from a YAML task: the connection drops, provision reconnects until the boot id is new, the next task runs', { skip, timeout: 120_000 }, async (t) => {
  const kept = await rebootRun('tasks.yaml');
  const direct = await rebootRun('tasks.yaml', '--persist', '0');
  t.diagnostic(`through the keeper: ${kept.message}, run ${kept.ms} ms; direct: ${direct.message}, run ${direct.ms} ms`);
});

test('reboot from a TypeScript role (r.reboot): the same operation', { skip, timeout: 120_000 }, async (t) => {
  const r = await rebootRun('role.yaml');
  t.diagnostic(`${r.message}, run ${r.ms} ms`);
});

test('reboot in --check: reported as a change, the host keeps its boot and its connections', { skip, timeout: 60_000 }, async () => {
  const bootFile = path.join(box.dir, 'boot-id');
  await writeFile(bootFile, 'unchanged\n');
  const json = path.join(box.dir, 'check.json');
  const res = await runCli(box.inventory, path.join(FIXTURES, 'tasks.yaml'), '-e', `sshd_pid=${box.sshd.pid}`, '-e', `boot_file=${bootFile}`, '--check', '--json', json);
  assert.equal(res.code, 0, res.output);
  const report = JSON.parse(await readFile(json, 'utf8')) as { tasks: { task: string; status: string }[] };
  assert.equal(report.tasks.find((t) => t.task === 'reboot')?.status, 'changed');
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await readFile(bootFile, 'utf8'), 'unchanged\n');
});
