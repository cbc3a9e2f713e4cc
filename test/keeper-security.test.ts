// The connection keeper and its CLI authenticate each other (issue 19, findings 1 and 9), against
// a real sshd on loopback and a second local user: a directory or socket that is not this user's
// own is never used, a socket that does not prove the keeper key gets nothing, the keeper lets in
// no other user and no client without the key, and it starts without the CLI's secrets.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { SshTransport, sh, type ConnectionSpec } from '../src/transport/index.js';
import { checkedDir, readKeeperKey, writeKeeperKey } from '../src/transport/keeper-trust.js';
import { PersistClient, socketPath } from '../src/transport/persist.js';
import { TEST_USER, ensureTestUser, sshdUnavailable, startSshd, type Sshd } from './helpers/sshd.js';

const OTHER = 'provother';
const dirs: string[] = [];
const uidOf = (user: string): number => Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
const gidOf = (user: string): number => Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());

function base(mode = 0o755): string {
  const b = mkdtempSync(join(tmpdir(), 'provision-keeper-sec-'));
  chmodSync(b, mode);
  dirs.push(b);
  return b;
}

/** Run through the keeper in `dir`; returns the command's output and why the keeper was not used (if so). */
async function run(spec: ConnectionSpec, dir: string): Promise<{ out: string; unavailable: string[]; reused?: boolean }> {
  const unavailable: string[] = [];
  const t = new SshTransport(spec, { persist: new PersistClient({ persistMs: 3000, dir }), onPersistUnavailable: (m) => unavailable.push(m) });
  try {
    await t.connect();
    const out = (await t.exec(sh`echo ran`, { sudo: false })).stdout;
    return { out, unavailable, reused: t.reused };
  } finally {
    await t.close();
  }
}

/** A listener on `file` that counts connections (and says nothing). */
async function listener(file: string): Promise<{ count: () => number; close: () => void }> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => srv.listen(file, r));
  return { count: () => n, close: () => srv.close() };
}

describe('keeper trust (real sshd, a second local user)', { skip: sshdUnavailable() }, () => {
  let d: Sshd;
  before(async () => {
    ensureTestUser({ name: OTHER, sudo: 'none' });
    d = await startSshd({ users: [TEST_USER] });
  });
  after(async () => {
    await d?.stop();
    for (const x of dirs) rmSync(x, { recursive: true, force: true });
  });

  it("a keeper directory made by another user, with a socket of hers, is never connected to", async () => {
    // Finding 1: after a reboot the directory is absent; another user creates it (0755) and
    // listens on the socket. The CLI used to connect first and check later.
    const b = base(0o1777);
    const dir = join(b, 'k');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, uidOf(OTHER), gidOf(OTHER));
    const fake = await listener(socketPath(dir));
    chownSync(socketPath(dir), uidOf(OTHER), gidOf(OTHER));
    chmodSync(socketPath(dir), 0o777);
    try {
      const r = await run(d.spec({ user: TEST_USER }), dir);
      assert.equal(r.out, 'ran\n', 'the run connected directly');
      assert.equal(fake.count(), 0, 'nothing ever reached the fake keeper');
      assert.equal(r.unavailable.length, 1);
      assert.match(r.unavailable[0], new RegExp(`belongs to uid ${uidOf(OTHER)}, not to this user`));
    } finally {
      fake.close();
    }
  });

  it('a symlinked keeper directory is refused, even one pointing at a private directory of ours', async () => {
    const b = base();
    const real = join(b, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(b, 'k'));
    const r = await run(d.spec({ user: TEST_USER }), join(b, 'k'));
    assert.equal(r.out, 'ran\n');
    assert.match(r.unavailable[0] ?? '', /not a directory \(a symlink/);
  });

  it('a socket that does not present the pinned keeper key is refused before anything is sent', async () => {
    const b = base();
    const dir = join(b, 'k');
    mkdirSync(dir, { mode: 0o700 });
    const cd = checkedDir(dir)!;
    writeKeeperKey(cd);
    cd.close();
    // An SSH server on the socket with a key of its own: it would see the attach request.
    let auths = 0;
    let channels = 0;
    const impostor = new ssh2.Server({ hostKeys: [ssh2.utils.generateKeyPairSync('ed25519').private] }, (c) => {
      c.on('error', () => undefined);
      c.on('authentication', (ctx) => {
        auths++;
        ctx.accept();
      });
      c.on('session', () => channels++);
    });
    await new Promise<void>((r) => impostor.listen(socketPath(dir), r));
    try {
      const r = await run(d.spec({ user: TEST_USER }), dir);
      assert.equal(r.out, 'ran\n');
      assert.match(r.unavailable[0] ?? '', /did not present the keeper key: refused, nothing sent/);
      assert.deepEqual([auths, channels], [0, 0]);
    } finally {
      impostor.close();
    }
  });

  it('the keeper lets in no other user (the kernel: its 0700 directory) and no client without its key', async () => {
    const b = base();
    const dir = join(b, 'k');
    const first = await run(d.spec({ user: TEST_USER }), dir);
    assert.deepEqual([first.unavailable, first.reused], [[], false]);
    // Another local user cannot even connect to the socket.
    const probe = `require('net').connect(${JSON.stringify(socketPath(dir))}).on('connect', () => console.log('CONNECTED')).on('error', (e) => console.log(e.code))`;
    const other = spawnSync(process.execPath, ['-e', probe], { uid: uidOf(OTHER), gid: gidOf(OTHER), encoding: 'utf8', cwd: '/' });
    assert.equal(other.stdout.trim(), 'EACCES', other.stderr);
    // A client that reaches the socket (here: root) but holds another key is refused.
    const wrong = ssh2.utils.parseKey(ssh2.utils.generateKeyPairSync('ed25519').private) as ssh2.ParsedKey;
    const pinned = readKeeperKey(checkedDir(dir)!)!.parsed.getPublicSSH();
    const outcome = await new Promise<string>((resolve) => {
      const c = new ssh2.Client();
      c.on('ready', () => (c.end(), resolve('accepted')));
      c.on('error', (e) => resolve(e.message));
      c.connect({ sock: net.connect(socketPath(dir)), username: 'provision', hostVerifier: (k: Buffer) => k.equals(pinned), authHandler: [{ type: 'publickey', username: 'provision', key: wrong } as never] });
    });
    assert.match(outcome, /authentication methods failed/i);
    // The real CLI still gets in.
    const again = await run(d.spec({ user: TEST_USER }), dir);
    assert.deepEqual([again.unavailable, again.reused], [[], true]);
  });

  it('the keeper starts with a clean environment: no become or VRRP password', async () => {
    // Finding 9: the keeper used to inherit the CLI's whole environment for its whole life.
    const dir = join(base(), 'k');
    const saved = { b: process.env.PROVISION_BECOME_PASS, v: process.env.PROVISION_VRRP_PASS };
    process.env.PROVISION_BECOME_PASS = 'become-Secret-19';
    process.env.PROVISION_VRRP_PASS = 'vrrp-Secret-19';
    try {
      const r = await run(d.spec({ user: TEST_USER }), dir);
      assert.deepEqual(r.unavailable, []);
    } finally {
      for (const [k, v] of [['PROVISION_BECOME_PASS', saved.b], ['PROVISION_VRRP_PASS', saved.v]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const pid = Number(readFileSync(join(dir, 'keeper.pid'), 'utf8').trim());
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.ok(env.some((e) => e.startsWith('PATH=')), 'PATH is kept');
    assert.deepEqual(env.filter((e) => /PASS|Secret-19/.test(e)), []);
  });
});
