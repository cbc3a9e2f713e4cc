// SshTransport.reconnect() against a real sshd on loopback: the reboot operation's way back in.
// After the server drops every session (as a host going down does) the transport reports the
// loss, and reconnect() gives a working connection again, persistent root shell included; a
// command in flight when reconnect() drops a live connection fails as unreachable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { HostError } from '../src/errors.js';
import { SshTransport, sh } from '../src/transport/index.js';
import { TEST_USER, sshdUnavailable, startSshd, type Sshd } from './helpers/sshd.js';

const skip = sshdUnavailable();
let d: Sshd;
let t: SshTransport;

before(async () => {
  if (skip) return;
  d = await startSshd({ users: [TEST_USER] });
  t = new SshTransport(d.spec({ user: TEST_USER, become: true }));
});

after(async () => {
  if (skip) return;
  await t.close();
  await d.stop();
});

/** The pid of the persistent root shell that runs the command. */
const shellPid = async () => Number((await t.exec(sh`echo $$`, { sudo: true })).stdout.trim());

test('reconnect after the server dropped every session: the loss is reported, then a new connection and a new root shell work', { skip, timeout: 60_000 }, async () => {
  await t.connect();
  const first = await shellPid();
  const connections = d.connectionCount();
  // What sshd does to its sessions when the host shuts down: every per-connection process ends.
  const sessions = execFileSync('ps', ['-o', 'pid=', '--ppid', String(d.pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  assert.ok(sessions.length >= 1);
  for (const pid of sessions) process.kill(pid, 'SIGTERM');
  assert.equal(await t.lostWithin(5000), true, 'the transport sees the connection go');
  await assert.rejects(t.exec(sh`true`), (e: unknown) => e instanceof HostError && e.kind === 'unreachable');

  await t.reconnect();
  const second = await shellPid();
  assert.notEqual(second, first, 'a new root shell on the new connection');
  assert.equal((await t.exec(sh`id -u`, { sudo: true })).stdout, '0\n');
  await d.waitForLog(/Connection from/);
  assert.ok(d.connectionCount() > connections, 'a new TCP connection');
  assert.equal(await t.lostWithin(300), false, 'the dropped connection is not counted against the new one');
});

test('reconnect while a command runs: that command fails as unreachable, the next one runs on the new connection', { skip, timeout: 60_000 }, async () => {
  await t.connect();
  const slow = t.exec(sh`sleep 20`, { sudo: true }).then(() => undefined, (e: unknown) => e);
  await new Promise((r) => setTimeout(r, 300));
  await t.reconnect();
  const e = await slow;
  assert.ok(e instanceof HostError && e.kind === 'unreachable', String(e));
  assert.match(e.message, /lost: dropped to reconnect/);
  assert.deepEqual(await t.exec(sh`echo back`), { stdout: 'back\n', stderr: '', code: 0 });
});
