// The transport against a real OpenSSH sshd on loopback (test/helpers/sshd.ts), plus the
// recording transport. All traffic stays on 127.0.0.0/8.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import net, { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HostError } from '../src/errors.js';
import type { Host } from '../src/inventory/types.js';
import type { ExecOptions } from '../src/transport/types.js';
import {
  RecordingTransport,
  SshTransport,
  TransportPool,
  describeConnectError,
  findStaleTemps,
  raw,
  removeStaleTemps,
  sh,
  type ConnectionSpec,
  type Transport,
} from '../src/transport/index.js';
import { TEST_PASSWORD, TEST_PW_USER, TEST_USER, freePort, sshdUnavailable, startSshd, writeKnownHosts, type Sshd } from './helpers/sshd.js';

const skip = sshdUnavailable();
const tmpDirs: string[] = [];

function tempDir(owner?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'provision-transport-'));
  tmpDirs.push(d);
  chmodSync(d, 0o755);
  if (owner) chownSync(d, uidOf(owner), gidOf(owner));
  return d;
}
const uidOf = (user: string): number => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
const gidOf = (user: string): number => Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The HostError a promise rejects with. */
async function hostErrorOf(p: Promise<unknown>): Promise<HostError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HostError, `expected a HostError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    assert.ok(!/\n\s+at /.test(e.message));
    return e;
  }
  assert.fail('expected a rejection');
}

after(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

describe('SshTransport (real sshd)', { skip }, () => {
  let d: Sshd;
  const open: Transport[] = [];
  const transport = (overrides: Partial<ConnectionSpec> = {}, opts: ConstructorParameters<typeof SshTransport>[1] = {}): SshTransport => {
    const t = new SshTransport(d.spec(overrides), opts);
    open.push(t);
    return t;
  };

  before(async () => {
    d = await startSshd({ users: [TEST_USER, TEST_PW_USER] });
  });
  after(async () => {
    await Promise.allSettled(open.map((t) => t.close()));
    await d?.stop();
  });

  describe('exec', () => {
    let t: SshTransport;
    before(async () => {
      t = transport({ user: TEST_USER });
      await t.connect();
    });

    it('returns stdout, stderr and exit codes', async (ctx) => {
      ctx.diagnostic(`connect time ${t.connectMs!.toFixed(0)} ms`);
      assert.deepEqual(await t.exec(sh`echo out; echo err >&2; exit 3`), { stdout: 'out\n', stderr: 'err\n', code: 3 });
      assert.deepEqual(await t.exec(sh`true`), { stdout: '', stderr: '', code: 0 });
    });

    it('passes stdin (text and binary), and gives EOF when there is none', async () => {
      assert.equal((await t.exec(sh`cat`, { stdin: 'hello\nworld' })).stdout, 'hello\nworld');
      const bin = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < bin.length; i++) bin[i] = (i * 7919) & 0xff;
      const r = await t.exec(sh`sha256sum`, { stdin: bin });
      assert.equal(r.stdout.split(' ')[0], sha256(bin));
      assert.deepEqual(await t.exec(sh`cat`), { stdout: '', stderr: '', code: 0 });
    });

    it('never loses the exit status of a fast first command on a fresh connection', async () => {
      // Seen in the lab: the exec reply, the output, exit-status and close arrived in one TCP
      // read; ssh2 emitted 'exit' before the awaiting code had attached its listener.
      // A proxy that batches the server's bytes every 25 ms recreates those coalesced reads.
      const batching = createServer((client: Socket) => {
        const server = net.connect(d.port, '127.0.0.1');
        let held: Buffer[] = [];
        const flush = setInterval(() => {
          if (held.length) client.write(Buffer.concat(held));
          held = [];
        }, 25);
        server.on('data', (b: Buffer) => held.push(b));
        client.pipe(server);
        const end = () => {
          clearInterval(flush);
          if (held.length) client.write(Buffer.concat(held));
          client.destroy();
          server.destroy();
        };
        server.on('close', end).on('error', end);
        client.on('close', end).on('error', end);
      });
      await new Promise<void>((res) => batching.listen(0, '127.0.0.1', res));
      const port = (batching.address() as { port: number }).port;
      const kh = join(tempDir(), 'known_hosts');
      writeKnownHosts(kh, d.hostKeyPublic.replace(`]:${d.port} `, `]:${port} `));
      const codes: Array<number | null> = [];
      for (let i = 0; i < 15; i++) {
        const f = new SshTransport(d.spec({ user: TEST_USER, port, knownHostsFiles: [kh] }));
        try {
          await f.connect();
          codes.push((await f.exec(raw('exit 7'), { sudo: false })).code);
        } finally {
          await f.close();
        }
      }
      batching.close();
      assert.deepEqual(codes, Array(15).fill(7));
    });

    it('carries hostile words through the remote shell unchanged', async () => {
      const values = ['$(id)', '`id`', "it's", '"q"', 'a\nb', '; exit 9', '*', '-n', 'ünï ✓'];
      const r = await t.exec(sh`printf '%s\\0' ${values}`);
      assert.equal(r.code, 0);
      assert.deepEqual(r.stdout.split('\0').slice(0, -1), values);
    });

    it('reports a signal instead of a code', async () => {
      const r = await t.exec(raw('kill -TERM $$'));
      assert.equal(r.code, null);
      assert.equal(r.signal, 'SIGTERM');
    });

    it('kills a command after timeoutMs', async () => {
      const t0 = performance.now();
      const r = await t.exec(sh`sleep 31.5`, { timeoutMs: 300 });
      assert.equal(r.code, null);
      assert.equal(r.signal, 'TIMEOUT');
      // well before the 31.5 s the command would take (the bound is loose: CI machines are busy)
      assert.ok(performance.now() - t0 < 15_000, `${(performance.now() - t0).toFixed(0)} ms`);
      // sshd delivered the KILL signal: the remote (here: local) sleep goes away
      let left = '';
      for (let i = 0; i < 30; i++) {
        try {
          left = execFileSync('pgrep', ['-a', '-f', '^sleep 31[.]5$'], { encoding: 'utf8' });
        } catch {
          left = '';
          break;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(left, '', 'the remote command was killed');
    });

    it('reuseShell: commands as the login user share one persistent shell; a timeout ends it and the next starts anew', async () => {
      const parent = async (opts: ExecOptions) => (await t.exec(raw('echo $PPID'), opts)).stdout.trim();
      const a = await parent({ reuseShell: true });
      assert.equal(await parent({ reuseShell: true }), a, 'the same `sh -s` ran both');
      assert.notEqual(await parent({}), a, 'without reuseShell: a session of its own');
      const r = await t.exec(raw('echo $$; exec sleep 30.5'), { reuseShell: true, timeoutMs: 500 });
      assert.deepEqual([r.code, r.signal], [null, 'TIMEOUT']);
      const sleeper = Number(r.stdout.trim());
      assert.ok(sleeper > 1, `the output so far comes with the timeout: ${JSON.stringify(r.stdout)}`);
      const b = await parent({ reuseShell: true });
      assert.notEqual(b, a, 'the timed-out shell was replaced');
      assert.equal(await parent({ reuseShell: true }), b);
      // The shell's child outlives it (as a script's children outlive an exec channel's kill): stopped here by its pid.
      try {
        process.kill(sleeper, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });

    it('a background job left in the persistent shell never writes into a later command', async () => {
      // Issue 19 finding 7: its output used to appear in whatever command ran next in the shell.
      const first = await t.exec(raw(`sh -c 'sleep 0.3; while :; do echo INJECTED; sleep 0.05; done' & echo "started $!"`), { reuseShell: true });
      const [word, pid] = first.stdout.trim().split(' ');
      assert.equal(word, 'started');
      try {
        for (let i = 0; i < 8; i++) {
          const r = await t.exec(raw('sleep 0.1; echo clean'), { reuseShell: true });
          assert.deepEqual([r.stdout, r.stderr, r.code], ['clean\n', '', 0]);
        }
      } finally {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // ended when its output was cut off
        }
      }
    });

    it('takes only Shell commands', async () => {
      await assert.rejects(t.exec('id' as never), TypeError);
    });
  });

  describe('put', () => {
    let t: SshTransport;
    let dir: string;
    before(() => {
      t = transport({ user: TEST_USER });
      dir = tempDir(TEST_USER);
    });

    it('writes content and mode, leaving no temp file', async () => {
      const target = join(dir, 'app.conf');
      await t.put(target, 'line 1\n', { mode: '0640' });
      assert.equal(readFileSync(target, 'utf8'), 'line 1\n');
      assert.equal(statSync(target).mode & 0o7777, 0o640);
      assert.equal(statSync(target).uid, uidOf(TEST_USER));
      assert.deepEqual(readdirSync(dir), ['app.conf']);
    });

    it('keeps the mode of the file it replaces, 0644 for a new one; empty content works', async () => {
      const target = join(dir, 'keep.conf');
      await t.put(target, 'one');
      assert.equal(statSync(target).mode & 0o7777, 0o644);
      chmodSync(target, 0o600);
      await t.put(target, Buffer.alloc(0));
      assert.equal(statSync(target).mode & 0o7777, 0o600);
      assert.equal(readFileSync(target, 'utf8'), '');
    });

    it('refuses bad modes and relative paths', async () => {
      await assert.rejects(t.put(join(dir, 'x'), 'x', { mode: 'rw-r--r--' }), /invalid file mode/);
      await assert.rejects(t.put('relative/x', 'x'), /absolute/);
    });

    it('fails with a one-line reason where it may not write, leaving nothing behind', async () => {
      const rootDir = tempDir();
      const e = await hostErrorOf(t.put(join(rootDir, 'x.conf'), 'x'));
      assert.equal(e.kind, 'failed');
      assert.match(e.message, /cannot write .*x\.conf.*permission denied/i);
      assert.deepEqual(readdirSync(rootDir), []);
    });

    it('applies owner and group (as root)', async () => {
      const r = transport();
      const rootDir = tempDir();
      const target = join(rootDir, 'owned.conf');
      await r.put(target, 'secret', { mode: '0600', owner: TEST_USER, group: TEST_USER });
      const st = statSync(target);
      assert.equal(st.uid, uidOf(TEST_USER));
      assert.equal(st.gid, gidOf(TEST_USER));
      assert.equal(st.mode & 0o7777, 0o600);
      // replacing it as root without owner keeps the owner
      await r.put(target, 'secret 2');
      assert.equal(statSync(target).uid, uidOf(TEST_USER));
      assert.equal(statSync(target).mode & 0o7777, 0o600);
    });

    it('never shows a reader a half-written file (5 MB uploads while another process reads)', async (ctx) => {
      const target = join(dir, 'big.bin');
      await atomicityCheck(ctx, (content) => t.put(target, content, { mode: '0644' }), target, 8);
      assert.deepEqual(readdirSync(dir).filter((f) => f.includes('provision-tmp')), []);
    });
  });

  describe('sudo', () => {
    it('runs as root through passwordless sudo (non-root user)', async () => {
      const t = transport({ user: TEST_USER, become: true });
      const r = await t.exec(sh`id -u; echo "$SUDO_USER"; echo "$HOME"`);
      assert.deepEqual(r, { stdout: `0\n${TEST_USER}\n/root\n`, stderr: '', code: 0 });
      assert.equal((await t.exec(sh`id -u`, { sudo: false })).stdout, `${uidOf(TEST_USER)}\n`);
      assert.equal((await t.exec(sh`cat`, { stdin: 'through sudo' })).stdout, 'through sudo');
    });

    it('commands started together as root all run (one takes the kept root shell, the others exec channels)', async () => {
      const t = transport({ user: TEST_USER, become: true });
      const rs = await Promise.all([0, 1, 2, 3].map((i) => t.exec(sh`sleep 0.2; echo ${i} "$(id -u)"`)));
      assert.deepEqual(rs.map((r) => [r.stdout, r.code]), [0, 1, 2, 3].map((i) => [`${i} 0\n`, 0]));
    });

    it('does not use sudo when connected as root', async () => {
      const t = transport({ become: true });
      assert.equal((await t.exec(sh`echo "$(id -u) $SUDO_USER"`)).stdout, '0 \n');
    });

    it('uploads as root into a root-owned directory, atomically, with mode and owner', async (ctx) => {
      const t = transport({ user: TEST_USER, become: true });
      const dir = tempDir();
      const target = join(dir, 'root.conf');
      await t.put(target, 'as root\n', { mode: '0640' });
      let st = statSync(target);
      assert.equal(st.uid, 0);
      assert.equal(st.mode & 0o7777, 0o640);
      assert.equal(readFileSync(target, 'utf8'), 'as root\n');
      await t.put(target, 'owned\n', { owner: TEST_USER });
      st = statSync(target);
      assert.equal(st.uid, uidOf(TEST_USER));
      assert.equal(st.mode & 0o7777, 0o640, 'mode kept when not given');
      await t.put(join(dir, 'new.conf'), 'x');
      assert.equal(statSync(join(dir, 'new.conf')).mode & 0o7777, 0o644);
      await atomicityCheck(ctx, (content) => t.put(join(dir, 'big.bin'), content), join(dir, 'big.bin'), 4);
      assert.deepEqual(readdirSync(dir).filter((f) => f.includes('provision-tmp')), []);
    });

    it('a failed sudo upload says why and removes its temp file', async () => {
      const t = transport({ user: TEST_USER, become: true });
      const dir = tempDir();
      const e = await hostErrorOf(t.put(join(dir, 'x.conf'), 'x', { owner: 'no-such-user-provision' }));
      assert.match(e.message, /cannot write .*x\.conf \(sudo\): .*no-such-user-provision/);
      assert.deepEqual(readdirSync(dir), []);
    });

    it('sudo with a password: answers the prompt, stdin and uploads stay clean', async () => {
      const t = transport({ user: TEST_PW_USER, become: true, becomePassword: TEST_PASSWORD });
      assert.deepEqual(await t.exec(sh`id -u; cat`, { stdin: 'payload' }), { stdout: '0\npayload', stderr: '', code: 0 });
      const dir = tempDir();
      await t.put(join(dir, 'pw.conf'), 'content only');
      assert.equal(readFileSync(join(dir, 'pw.conf'), 'utf8'), 'content only');
    });

    it('a wrong become password: "incorrect sudo password" as soon as sudo refuses it, tried once per connection', async () => {
      const t = transport({ user: TEST_PW_USER, become: true, becomePassword: 'wrong-password' });
      await t.connect();
      await t.exec(sh`true`, { sudo: false });
      const t0 = performance.now();
      const r = await t.exec(sh`id -u`);
      const first = performance.now() - t0;
      assert.deepEqual(r, { stdout: '', stderr: 'incorrect sudo password\n', code: 1 });
      // sudo refuses after PAM's fail delay on the target (pam_unix: 2 s, varied by PAM), not after
      // its 3 tries (6 s and more): the answer comes at its first "try again".
      assert.ok(first < 3500, `${first.toFixed(0)} ms`);
      const t1 = performance.now();
      const again = await t.exec(sh`id -u`);
      assert.deepEqual(again, r);
      assert.ok(performance.now() - t1 < 500, 'not tried again: no second PAM delay');
      await t.put(join(tempDir(), 'x'), 'x').then(
        () => assert.fail('uploaded as root with a wrong password'),
        (e: Error) => assert.match(e.message, /incorrect sudo password/),
      );
    });

    it('a missing become password names -K and PROVISION_BECOME_PASS, at once', async () => {
      const t = transport({ user: TEST_PW_USER, become: true });
      const t0 = performance.now();
      const r = await t.exec(sh`id -u`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /sudo: a password is required/);
      assert.match(r.stderr, /-K \(--ask-become-pass\) or PROVISION_BECOME_PASS/);
      assert.ok(performance.now() - t0 < 2000);
    });

    it('a become password is never fed to a command that sudo runs without asking (NOPASSWD)', async () => {
      const t = transport({ user: TEST_USER, become: true, becomePassword: 'should-not-leak' });
      assert.deepEqual(await t.exec(sh`id -u; cat`, { stdin: 'data' }), { stdout: '0\ndata', stderr: '', code: 0 });
      const dir = tempDir();
      await t.put(join(dir, 'f'), 'file');
      assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'file');
    });
  });

  describe('one connection, at most 8 channels', () => {
    it('runs 50 parallel commands on one connection with at most 8 channels open', async (ctx) => {
      let open = 0;
      let peak = 0;
      const t = transport(
        { user: TEST_USER },
        {
          onChannelCount: (n) => {
            open = n;
            peak = Math.max(peak, n);
          },
        },
      );
      const before = d.connectionCount();
      const logStart = d.log().length;
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => t.exec(sh`echo ${i}; sleep 0.02`)));
      const wall = performance.now() - t0;
      ctx.diagnostic(`50 commands: ${wall.toFixed(0)} ms wall (connect ${t.connectMs!.toFixed(0)} ms), channel open retries: ${t.channelStats.openRetries}`);
      results.forEach((r, i) => assert.deepEqual(r, { stdout: `${i}\n`, stderr: '', code: 0 }));
      assert.ok(peak <= 8, `peak ${peak}`);
      assert.equal(peak, 8, 'the cap was reached (requests were queued)');
      assert.equal(open, 0);
      assert.equal(t.channelStats.opened, 50);
      // the server saw one new connection, and every session came through it
      // (counted by polling: a regex repeating `[^]*` 50 times backtracks for minutes on a log that has 49)
      const sessions = () => (d.log().slice(logStart).match(/Starting session: command for provtest from 127\.0\.0\.1 port \d+/g) ?? []).length;
      for (let i = 0; i < 100 && sessions() < 50; i++) await new Promise((res) => setTimeout(res, 50));
      assert.equal(d.connectionCount() - before, 1);
      const ports = new Set([...d.log().slice(logStart).matchAll(/Starting session: command for provtest from 127\.0\.0\.1 port (\d+)/g)].map((m) => m[1]));
      assert.equal(ports.size, 1);
    });

    it('uploads and commands share the cap (SFTP holds one channel)', async () => {
      let peak = 0;
      const t = transport({ user: TEST_USER }, { onChannelCount: (n) => (peak = Math.max(peak, n)) });
      const dir = tempDir(TEST_USER);
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => t.exec(sh`echo ${i}`)),
        ...Array.from({ length: 10 }, (_, i) => t.put(join(dir, `f${i}`), `content ${i}`)),
      ]);
      assert.ok(peak <= 8, `peak ${peak}`);
      for (let i = 0; i < 10; i++) assert.equal(readFileSync(join(dir, `f${i}`), 'utf8'), `content ${i}`);
    });

    it('shares one connection per host through TransportPool', async () => {
      const before = d.connectionCount();
      const pool = new TransportPool(() => d.spec({ user: TEST_USER }));
      const h: Host = { name: 'h1', groups: ['all'], vars: {} };
      const [a, b] = await Promise.all([pool.get(h), pool.get(h)]);
      assert.equal(a, b);
      await Promise.all([a.exec(sh`true`), b.exec(sh`true`)]);
      await pool.closeAll();
      assert.equal(d.connectionCount() - before, 1);
      await assert.rejects(a.exec(sh`true`), /closed/);
    });
  });

  describe('host keys', () => {
    it('strict: refuses a host missing from known_hosts', async () => {
      const kh = join(tempDir(), 'known_hosts');
      const e = await hostErrorOf(transport({ user: TEST_USER, knownHostsFiles: [kh] }).connect());
      assert.equal(e.kind, 'unreachable');
      assert.ok(e.message.startsWith(`host key for [127.0.0.1]:${d.port} not in known_hosts (${kh}; offered ssh-ed25519 ${d.hostKeyFingerprint}`), e.message);
    });

    it('accept-new: records a new host, then strict accepts it', async () => {
      const kh = join(tempDir(), 'sub', 'known_hosts');
      await transport({ user: TEST_USER, knownHostsFiles: [kh], hostKeyPolicy: 'accept-new' }).connect();
      assert.equal(readFileSync(kh, 'utf8').trim(), d.hostKeyPublic);
      await transport({ user: TEST_USER, knownHostsFiles: [kh] }).connect();
    });

    it('a changed key is refused (strict and accept-new) naming host, port and fingerprint', async () => {
      const dir = tempDir();
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
      const [type, b64] = readFileSync(join(dir, 'other.pub'), 'utf8').split(/\s+/);
      const kh = join(dir, 'known_hosts');
      writeKnownHosts(kh, `[127.0.0.1]:${d.port} ${type} ${b64}`);
      for (const policy of ['strict', 'accept-new'] as const) {
        const e = await hostErrorOf(transport({ user: TEST_USER, knownHostsFiles: [kh], hostKeyPolicy: policy }).connect());
        assert.equal(e.kind, 'unreachable');
        assert.ok(e.message.startsWith(`host key mismatch for 127.0.0.1 port ${d.port}: offered ssh-ed25519 ${d.hostKeyFingerprint} is not the key in ${kh}:1`), e.message);
      }
      assert.equal(readFileSync(kh, 'utf8').split('\n').filter(Boolean).length, 1, 'nothing appended');
      // off: accepted, with one warning for the run
      const warnings: string[] = [];
      const warn = (m: string): void => void warnings.push(m);
      await transport({ user: TEST_USER, knownHostsFiles: [kh], hostKeyPolicy: 'off' }, { warn }).connect();
      await transport({ user: TEST_USER, knownHostsFiles: [join(dir, 'none')], hostKeyPolicy: 'off' }, { warn }).connect();
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /host key checking is off/);
    });

    it('reads hashed known_hosts (ssh-keygen -H)', async () => {
      const kh = join(tempDir(), 'known_hosts');
      copyFileSync(d.knownHostsFile, kh);
      execFileSync('ssh-keygen', ['-q', '-H', '-f', kh], { stdio: 'pipe' });
      assert.ok(readFileSync(kh, 'utf8').startsWith('|1|'));
      await transport({ user: TEST_USER, knownHostsFiles: [kh] }).connect();
    });
  });

  describe('connection failures', () => {
    it('authentication failure names user, address and methods tried', async () => {
      const dir = tempDir();
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
      const e = await hostErrorOf(transport({ user: 'root', privateKeyFiles: [join(dir, 'stranger')] }).connect());
      assert.equal(e.kind, 'unreachable');
      assert.equal(e.message, `authentication failed for root@127.0.0.1:${d.port} (tried: publickey)`);
      const e2 = await hostErrorOf(transport({ user: 'ops', privateKeyFiles: [join(dir, 'missing')] }).connect());
      assert.equal(e2.message, `authentication failed for ops@127.0.0.1:${d.port} (tried: none); skipped ${join(dir, 'missing')}: missing`);
    });

    it('connection refused', async () => {
      const port = await freePort();
      const e = await hostErrorOf(transport({ port }).connect());
      assert.equal(e.kind, 'unreachable');
      assert.equal(e.message, `connection refused by 127.0.0.1:${port}`);
    });

    it('connect timeout (a server that never speaks)', async () => {
      const sockets: Socket[] = [];
      const silent = createServer((s) => void sockets.push(s));
      await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
      const port = (silent.address() as { port: number }).port;
      try {
        const t0 = performance.now();
        const e = await hostErrorOf(transport({ port, connectTimeoutMs: 500 }).connect());
        assert.equal(e.message, `connection to 127.0.0.1:${port} timed out after 0.5 s`);
        assert.ok(performance.now() - t0 < 3000);
      } finally {
        sockets.forEach((s) => s.destroy());
        silent.close();
      }
    });

    it('maps DNS and other errors to one line (no lookup is made here)', () => {
      const ctx = { label: 'ops@db.invalid:22', address: 'db.invalid', port: 22, timeoutMs: 10_000, tried: [] };
      assert.equal(describeConnectError(Object.assign(new Error('getaddrinfo ENOTFOUND db.invalid'), { code: 'ENOTFOUND' }), ctx), 'cannot resolve host name db.invalid (DNS ENOTFOUND)');
      assert.equal(describeConnectError(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }), ctx), 'no route to db.invalid:22');
      assert.equal(describeConnectError(Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }), ctx), 'connection to db.invalid:22 timed out after 10 s');
      assert.equal(describeConnectError(new Error('weird\n  at stack'), ctx), 'cannot connect to db.invalid:22: weird / at stack');
    });

    it('a dropped connection fails running and later commands as unreachable', async () => {
      const t = transport({ user: TEST_USER });
      await t.connect();
      const e = await hostErrorOf(t.exec(raw('kill -9 $PPID; sleep 5')));
      assert.equal(e.kind, 'unreachable');
      assert.match(e.message, /connection to provtest@127\.0\.0\.1:\d+ lost/);
      const e2 = await hostErrorOf(t.exec(sh`true`));
      assert.equal(e2.kind, 'unreachable');
    });
  });

  describe('stale temp files', () => {
    it('finds and removes upload leftovers, and nothing else', async () => {
      const t = transport({ user: TEST_USER });
      const dir = tempDir(TEST_USER);
      const names = ['.app.conf.provision-tmp-0a1b2c3d4e5f', '.x.provision-tmp-ffffffffffff', 'app.conf', '.hidden', 'provision-tmp-lookalike'];
      for (const n of names) writeFileSync(join(dir, n), n);
      const old = new Date(Date.now() - 3600_000);
      utimesSync(join(dir, names[1]), old, old);
      assert.deepEqual((await findStaleTemps(t, dir)).sort(), [join(dir, names[0]), join(dir, names[1])].sort());
      assert.deepEqual(await findStaleTemps(t, dir, { olderThanMinutes: 10 }), [join(dir, names[1])]);
      assert.deepEqual((await removeStaleTemps(t, dir)).sort(), [join(dir, names[0]), join(dir, names[1])].sort());
      assert.deepEqual(readdirSync(dir).sort(), ['.hidden', 'app.conf', 'provision-tmp-lookalike']);
      await assert.rejects(findStaleTemps(t, join(dir, 'missing')), /cannot list upload temp files/);
    });
  });
});

describe('ProxyJump (two sshds on loopback)', { skip }, () => {
  let jump: Sshd;
  let target: Sshd;
  before(async () => {
    jump = await startSshd({ logLevel: 'DEBUG1' });
    target = await startSshd({ listenAddress: '127.0.0.2', clientKeyPath: jump.clientKeyPath, users: [TEST_USER] });
  });
  after(async () => {
    await target?.stop();
    await jump?.stop();
  });

  it('reaches the target through a direct-tcpip channel of the jump host', async (ctx) => {
    const t = new SshTransport(target.spec({ user: TEST_USER, proxyJump: jump.spec() }));
    try {
      const r = await t.exec(sh`echo "$SSH_CONNECTION"`);
      ctx.diagnostic(`connect through the jump host: ${t.connectMs!.toFixed(0)} ms`);
      assert.match(r.stdout, new RegExp(` 127\\.0\\.0\\.2 ${target.port}\\n$`));
      await jump.waitForLog(new RegExp(`server_request_direct_tcpip: originator \\S+ port \\d+, target 127\\.0\\.0\\.2 port ${target.port}`));
      assert.equal(jump.connectionCount(), 1);
      assert.equal(target.connectionCount(), 1);
    } finally {
      await t.close();
    }
  });

  it('shares one jump connection between targets in a pool', async () => {
    const jumpBefore = jump.connectionCount();
    const pool = new TransportPool((h: Host) => target.spec({ host: h.name, user: TEST_USER, proxyJump: jump.spec() }));
    const hosts: Host[] = ['a', 'b', 'c'].map((name) => ({ name, groups: ['all'], vars: {} }));
    const ts = await Promise.all(hosts.map((h) => pool.get(h)));
    const rs = await Promise.all(ts.map((t) => t.exec(sh`echo ok`)));
    assert.deepEqual(rs.map((r) => r.stdout), ['ok\n', 'ok\n', 'ok\n']);
    await pool.closeAll();
    assert.equal(jump.connectionCount() - jumpBefore, 1);
  });

  it('a jump host failure is reported against the target with the jump named', async () => {
    const kh = join(tempDir(), 'known_hosts');
    const t = new SshTransport(target.spec({ user: TEST_USER, proxyJump: jump.spec({ knownHostsFiles: [kh] }) }));
    const e = await hostErrorOf(t.connect());
    assert.equal(e.host, target.spec().host);
    assert.equal(e.kind, 'unreachable');
    assert.ok(e.message.startsWith(`jump host root@127.0.0.1:${jump.port}: host key for [127.0.0.1]:${jump.port} not in known_hosts`), e.message);
    await t.close();
  });

  it('checks the target host key too', async () => {
    const kh = join(tempDir(), 'known_hosts');
    const t = new SshTransport(target.spec({ user: TEST_USER, knownHostsFiles: [kh], proxyJump: jump.spec() }));
    const e = await hostErrorOf(t.connect());
    assert.ok(e.message.startsWith(`host key for [127.0.0.2]:${target.port} not in known_hosts`), e.message);
    await t.close();
  });
});

describe('RecordingTransport', () => {
  it('records commands and answers from rules, once-rules first, default code 0', async () => {
    const t = new RecordingTransport('web1', { answers: [['systemctl is-active', { stdout: 'active\n' }]] });
    t.once('systemctl is-active', { stdout: 'inactive\n', code: 3 });
    t.on(/^getenforce/, { stdout: 'Enforcing\n' });
    t.on((cmd, opts) => cmd.startsWith('dnf') && opts.sudo === true, (cmd) => ({ stdout: `ran ${cmd}` }));
    assert.deepEqual(await t.exec(sh`systemctl is-active ${'nginx'}`), { stdout: 'inactive\n', stderr: '', code: 3 });
    assert.deepEqual(await t.exec(sh`systemctl is-active ${'nginx'}`), { stdout: 'active\n', stderr: '', code: 0 });
    assert.equal((await t.exec(sh`getenforce`)).stdout, 'Enforcing\n');
    assert.equal((await t.exec(sh`dnf install -y ${'keepalived'}`, { sudo: true })).stdout, 'ran dnf install -y keepalived');
    assert.deepEqual(await t.exec(sh`dnf install -y x`), { stdout: '', stderr: '', code: 0 }); // no sudo: falls through
    assert.deepEqual(t.commands, [
      'systemctl is-active nginx',
      'systemctl is-active nginx',
      'getenforce',
      'dnf install -y keepalived',
      'dnf install -y x',
    ]);
    assert.equal(t.ran('dnf').length, 2);
    assert.equal(t.execs[3].opts.sudo, true);
  });

  it('uses a fallback callback for unmatched commands', async () => {
    const t = new RecordingTransport('h', { fallback: (cmd) => ({ code: cmd.includes('fail') ? 1 : 0 }) });
    assert.equal((await t.exec(sh`do fail`)).code, 1);
    assert.equal((await t.exec(sh`do ok`)).code, 0);
  });

  it('records uploads with their options, in order with commands', async () => {
    const t = new RecordingTransport('h', { failPut: (p) => (p.endsWith('.bad') ? 'disk full' : undefined) });
    await t.exec(sh`nginx -t`);
    await t.put('/etc/nginx/nginx.conf', 'worker_processes 1;', { mode: '0644', owner: 'root', sudo: true });
    await assert.rejects(t.put('/x.bad', 'x'), /disk full/);
    assert.deepEqual(
      t.log.map((e) => (e.kind === 'exec' ? e.cmd : `put ${e.path}`)),
      ['nginx -t', 'put /etc/nginx/nginx.conf', 'put /x.bad'],
    );
    assert.equal(t.puts[0].text, 'worker_processes 1;');
    assert.deepEqual(t.puts[0].opts, { mode: '0644', owner: 'root', sudo: true });
    assert.equal(t.files.get('/etc/nginx/nginx.conf')?.toString(), 'worker_processes 1;');
    assert.equal(t.files.has('/x.bad'), false);
    await assert.rejects(t.exec('ls' as never), TypeError);
    await t.close();
    await assert.rejects(t.exec(sh`true`), /after close/);
  });

  it('works with a TransportPool', async () => {
    const made: RecordingTransport[] = [];
    const pool = new TransportPool((h) => ({ host: h.name }) as ConnectionSpec, {
      create: (spec) => {
        const t = new RecordingTransport(spec.host);
        made.push(t);
        return t;
      },
    });
    const h: Host = { name: 'x', groups: [], vars: {} };
    assert.equal(await pool.get(h), await pool.get(h));
    assert.equal(made.length, 1);
    assert.equal(made[0].connected, true);
    await pool.closeAll();
    assert.equal(made[0].closed, true);
  });
});

/**
 * Upload two 5 MB versions alternately `rounds` times while a separate process hashes the target
 * in a loop: every hash must be one of the complete versions.
 */
async function atomicityCheck(
  ctx: { diagnostic(msg: string): void },
  upload: (content: Buffer) => Promise<void>,
  target: string,
  rounds: number,
): Promise<void> {
  const size = 5 * 1024 * 1024;
  const a = Buffer.alloc(size, 'a');
  const b = Buffer.alloc(size, 'b');
  for (let i = 0; i < size; i += 4096) b.writeUInt32BE(i, i); // different at many places
  const allowed = new Set([sha256(a), sha256(b)]);
  await upload(a);
  const stop = join(tmpdir(), `provision-stop-${process.pid}-${Date.now()}`);
  const reader = spawn('sh', ['-c', `while [ ! -e "$2" ]; do sha256sum "$1" || echo FAILED; done`, 'reader', target, stop], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  reader.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  reader.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<void>((res) => reader.once('exit', () => res()));
  const t0 = performance.now();
  try {
    for (let i = 0; i < rounds; i++) await upload(i % 2 === 0 ? b : a);
  } finally {
    writeFileSync(stop, '');
    await exited;
    rmSync(stop, { force: true });
  }
  const ms = performance.now() - t0;
  const lines = out.split('\n').filter(Boolean);
  const bad = lines.filter((l) => !allowed.has(l.split(/\s+/)[0]));
  ctx.diagnostic(`${rounds} x 5 MB uploads in ${ms.toFixed(0)} ms (${((rounds * 5) / (ms / 1000)).toFixed(1)} MB/s); reader saw ${lines.length} complete versions`);
  assert.deepEqual(bad, [], 'a reader saw a partial or missing file');
  assert.ok(lines.length >= rounds, `the reader ran during the uploads (${lines.length} reads)`);
  assert.ok(existsSync(target));
}
