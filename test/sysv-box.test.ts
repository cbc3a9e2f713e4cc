// The service operation's init-system fallback on a real host without systemd: this machine
// (PID 1 is not systemd; Debian's `service` and update-rc.d run its /etc/init.d scripts),
// reached over a loopback sshd (test/helpers/box-target.ts). The test installs an LSB init
// script for a tiny daemon (a `sleep` with a pidfile under a temporary directory, a unique
// name), then drives it with the real CLI from a YAML task and from a TypeScript role: the
// daemon really starts, restarts (a new pid), stops; boot links appear and go; every message
// names SysV; each second run changes nothing. Everything is removed afterwards (the daemon by
// its pid).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sshdUnavailable } from './helpers/sshd.js';
import { startBoxTarget, runCli, type BoxTarget } from './helpers/box-target.js';

const FIXTURES = path.resolve('test/fixtures/sysv');
const NAME = `provtest-sysv-${randomBytes(4).toString('hex')}`;
const SCRIPT = `/etc/init.d/${NAME}`;
const TOOLS = ['/usr/sbin/service', '/usr/sbin/update-rc.d', '/usr/sbin/start-stop-daemon'];
const skip =
  sshdUnavailable() ??
  (existsSync('/run/systemd/system') ? 'systemd is the init system here: the SysV fallback is for hosts without it' : undefined) ??
  (TOOLS.find((t) => !existsSync(t)) ? `needs ${TOOLS.join(', ')}` : undefined);
let box: BoxTarget;
let pidFile: string;

/** An LSB init script: start-stop-daemon runs `sleep` in the background with a pidfile. */
function initScript(pid: string): string {
  return `#!/bin/sh
### BEGIN INIT INFO
# Provides:          ${NAME}
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: provision's SysV test daemon (test/sysv-box.test.ts)
### END INIT INFO
PIDFILE=${pid}
DAEMON=/usr/bin/sleep
case "$1" in
  start) start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile "$PIDFILE" --exec "$DAEMON" -- 86400 ;;
  stop) start-stop-daemon --stop --quiet --oknodo --retry 5 --remove-pidfile --pidfile "$PIDFILE" --exec "$DAEMON" ;;
  restart|force-reload) "$0" stop && "$0" start ;;
  status) start-stop-daemon --status --pidfile "$PIDFILE" --exec "$DAEMON" ;;
  *) echo "Usage: $0 {start|stop|restart|status}" >&2; exit 3 ;;
esac
`;
}

/** Pids of the daemon seen running: whatever still lives at the end is killed by its pid. */
const seen = new Set<number>();

/** A live process (a zombie is dead: PID 1 here may not reap the daemons it inherits). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** The daemon's pid when it runs (its pidfile names a live sleep), else undefined. */
async function daemonPid(): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!pid) return undefined;
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmd.startsWith('/usr/bin/sleep\0') || !(await alive(pid))) return undefined;
  seen.add(pid);
  return pid;
}

/** The daemon's pid once it runs: start-stop-daemon --background returns before its child has exec'd sleep. */
async function runningPid(): Promise<number | undefined> {
  for (let i = 0; i < 40; i++) {
    const pid = await daemonPid();
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

const bootLinks = () => ['rc2.d', 'rc3.d', 'rc4.d', 'rc5.d'].flatMap((d) => readdirSync(`/etc/${d}`).filter((f) => f.endsWith(NAME)).map((f) => f[0]));

async function run(playbook: string, state: string, enabled: 'yes' | 'no') {
  const json = path.join(box.dir, `r-${Date.now()}.json`);
  const res = await runCli(box.inventory, path.join(FIXTURES, playbook), '-e', `svc=${NAME}`, '-e', `svc_state=${state}`, '-e', `svc_enabled=${enabled}`, '--json', json);
  assert.equal(res.code, 0, res.output);
  const report = JSON.parse(await readFile(json, 'utf8')) as { hosts: { box: { changed: number } }; tasks: { task: string; status: string; message?: string }[] };
  const task = report.tasks.find((t) => t.task === 'daemon');
  assert.ok(task, res.output);
  assert.match(task.message ?? '', /\(SysV service\)/, 'the message names the init system used');
  return { changed: report.hosts.box.changed, message: task.message ?? '' };
}

before(async () => {
  if (skip) return;
  box = await startBoxTarget('provision-sysv-');
  const runDir = path.join(box.dir, 'run');
  await mkdir(runDir);
  pidFile = path.join(runDir, `${NAME}.pid`);
  await writeFile(SCRIPT, initScript(pidFile), { mode: 0o755 });
});

after(async () => {
  if (skip) return;
  await daemonPid();
  for (const pid of seen) if (await alive(pid)) process.kill(pid, 'SIGTERM');
  execFileSync('update-rc.d', ['-f', NAME, 'remove'], { stdio: 'ignore' });
  await rm(SCRIPT, { force: true });
  await box.stop();
});

test('service on a SysV host from a YAML task: started and enabled, then nothing to do', { skip, timeout: 60_000 }, async () => {
  assert.equal(await daemonPid(), undefined);
  const first = await run('tasks.yaml', 'started', 'yes');
  assert.equal(first.changed, 1);
  assert.equal(first.message, 'enabled, started (SysV service)');
  assert.ok(await runningPid(), 'the daemon runs');
  assert.deepEqual(bootLinks(), ['S', 'S', 'S', 'S'], 'update-rc.d defaults: started in runlevels 2-5');
  const second = await run('tasks.yaml', 'started', 'yes');
  assert.equal(second.changed, 0, second.message);
});

test('service on a SysV host from a TypeScript role: restarted (a new pid), then stopped and disabled, then nothing to do', { skip, timeout: 60_000 }, async () => {
  const pid0 = await runningPid();
  assert.ok(pid0, 'started by the test before');
  const restarted = await run('role.yaml', 'restarted', 'yes');
  assert.equal(restarted.changed, 1);
  assert.equal(restarted.message, 'restarted (SysV service)');
  const pid1 = await runningPid();
  assert.ok(pid1 && pid1 !== pid0, `a new daemon: ${pid0} -> ${pid1}`);

  const stopped = await run('role.yaml', 'stopped', 'no');
  assert.equal(stopped.message, 'disabled, stopped (SysV service)');
  assert.equal(await daemonPid(), undefined, 'the daemon is gone');
  assert.equal(await alive(pid1), false, 'its process too');
  assert.deepEqual(bootLinks(), ['K', 'K', 'K', 'K'], 'update-rc.d disable: stop links only');
  assert.equal((await run('role.yaml', 'stopped', 'no')).changed, 0);
  assert.equal((await run('tasks.yaml', 'stopped', 'no')).changed, 0, 'the YAML task agrees');
});
