// The few things the transport needs that ssh2 has no named API for, each wrapped once in
// src/transport/channel.ts on ssh2's public methods. These fail if an ssh2 upgrade changes them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { connectSsh } from '../src/transport/connect.js';
import { execTracked, killChannel, pingServer, type ExitInfo, type SshClient } from '../src/transport/channel.js';
import { TEST_USER, sshdUnavailable, startSshd, type Sshd } from './helpers/sshd.js';

describe('ssh2 public API the transport relies on (real sshd)', { skip: sshdUnavailable() }, () => {
  let d: Sshd;
  let client: SshClient;
  before(async () => {
    d = await startSshd({ users: [TEST_USER] });
    client = await connectSsh(d.spec({ user: TEST_USER }));
    client.on('error', () => undefined); // the server stops at the end
  });
  after(async () => {
    client?.end();
    await d?.stop();
  });

  it('pingServer: a global request sshd answers without a process (unforwardIn of nothing)', async () => {
    const before = Date.now();
    assert.equal(await pingServer(client, 2000), true);
    assert.ok(Date.now() - before < 1000);
  });

  it('killChannel: the KILL signal request reaches the command while our side is open', async () => {
    const exits = new WeakMap<ClientChannel, ExitInfo>();
    const ch = await new Promise<ClientChannel>((resolve, reject) => execTracked(client, 'exec sleep 30', exits, (e, c) => (e ? reject(e) : resolve(c))));
    ch.resume();
    ch.stderr.resume();
    const closed = new Promise<void>((r) => ch.on('close', () => r()));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    ch.signal('KILL'); // what killChannel sends first
    await new Promise((r) => setTimeout(r, 500));
    const [code, signal] = exits.get(ch) ?? [];
    assert.equal(code, null);
    assert.match(String(signal), /^(SIG)?KILL$/, 'sshd reported the command killed by KILL');
    killChannel(ch);
    await closed;
    assert.ok(Date.now() - t0 < 5000);
  });

  it('execTracked: the exit status of a command that ends at once is recorded', async () => {
    const exits = new WeakMap<ClientChannel, ExitInfo>();
    const ch = await new Promise<ClientChannel>((resolve, reject) => execTracked(client, 'exit 5', exits, (e, c) => (e ? reject(e) : resolve(c))));
    ch.resume();
    ch.end();
    await new Promise<void>((r) => ch.on('close', () => r()));
    assert.deepEqual(exits.get(ch)?.slice(0, 1), [5]);
  });
});
