// The connection keeper (see ./persist.ts): holds real SSH connections between runs and relays
// the CLI's channels to them. One process per user, started by the first CLI that needs it; it
// exits when its last connection has been idle for its persist time.
//
// A local session logs in with the keeper key (./keeper-trust.ts), then attaches with an
// AttachRequest on the ATTACH_SUBSYSTEM channel. The real connection for that request (key: the
// request minus persistMs) is made with SshTransport, so host key checking, jump hosts, agents
// and error messages are those of a direct connection. Channels are relayed one to one: exec
// requests and subsystems (SFTP) are opened on the real connection with the same command, data
// flows both ways with stderr and EOF, signals are forwarded, and the real channel's exit status
// or signal is sent back before the close.
import { chmodSync, lstatSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel, ServerChannel } from 'ssh2';
import { HostError } from '../errors.js';
import { execTracked, openWithRetry, type ExitInfo, type SshClient } from './channel.js';
import { ensurePrivateDir, isKey, readKeeperKey, socketName } from './keeper-trust.js';
import { ATTACH_SUBSYSTEM, KEEPER_USER, MAX_REQUEST_BYTES, type AttachRequest, type AttachStatus } from './persist.js';
import { sh } from './quote.js';
import { SshTransport } from './ssh.js';

type Connection = ssh2.Connection;

/** With nothing held and nobody attached, the keeper exits after this long. */
const EMPTY_EXIT_MS = 2_000;

interface Upstream {
  key: string;
  transport: SshTransport;
  ready: Promise<void>;
  /** Local sessions attached now. */
  users: Set<Connection>;
  persistMs: number;
  warnings: string[];
  timer?: NodeJS.Timeout;
  /** Set once the real connection is lost or closed: never handed out again. */
  dead?: string;
  attaches: number;
  /** The login user's uid, asked once after connecting. */
  uid?: number;
}

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} keeper[${process.pid}]: ${message}\n`);
}

/** The keeper's state: real connections by settings, local sessions. */
class Keeper {
  readonly upstreams = new Map<string, Upstream>();
  readonly conns = new Set<Connection>();
  private emptyTimer?: NodeJS.Timeout;

  constructor(private readonly onEmpty: () => void) {}

  drop(up: Upstream, why: string): void {
    if (up.dead) return;
    up.dead = why;
    clearTimeout(up.timer);
    if (this.upstreams.get(up.key) === up) this.upstreams.delete(up.key);
    log(`${up.transport.label}: closed (${why})`);
    void up.transport.close();
    for (const c of up.users) c.end();
    this.checkEmpty();
  }

  checkEmpty(): void {
    clearTimeout(this.emptyTimer);
    if (this.upstreams.size || this.conns.size) return;
    this.emptyTimer = setTimeout(() => {
      if (!this.upstreams.size && !this.conns.size) this.onEmpty();
    }, EMPTY_EXIT_MS);
  }

  stopEmptyTimer(): void {
    clearTimeout(this.emptyTimer);
  }

  /** The real connection for a request: a live one with equal settings, or a new one. */
  upstreamFor(req: AttachRequest): Upstream {
    const key = JSON.stringify({ spec: req.spec, stamp: req.stamp });
    const found = this.upstreams.get(key);
    if (found && !found.dead) return found;
    const warnings: string[] = [];
    const up: Upstream = { key, transport: undefined as never, ready: undefined as never, users: new Set(), persistMs: req.persistMs, warnings, attaches: 0 };
    up.transport = new SshTransport(req.spec, { warn: (m) => warnings.push(m), persistentShell: false, onLost: (reason) => this.drop(up, `lost: ${reason}`) });
    up.ready = up.transport.connect().then(
      async () => {
        log(`${up.transport.label}: connected in ${Math.round(up.transport.connectMs ?? 0)} ms`);
        // Every run asks whether it logged in as root (sudo or not): asked once here instead.
        const r = await up.transport.exec(sh`id -u`, { sudo: false }).catch(() => undefined);
        if (r?.code === 0 && /^\d+$/.test(r.stdout.trim())) up.uid = Number(r.stdout.trim());
      },
      (e: unknown) => {
        this.drop(up, `connect failed: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      },
    );
    up.ready.catch(() => undefined);
    this.upstreams.set(key, up);
    return up;
  }

  /**
   * Attach a local session: the real connection up (a kept one is first asked whether its server
   * still answers: a dead one is replaced, not handed out), or the reason it failed.
   */
  async attach(conn: Connection, req: AttachRequest): Promise<{ up?: Upstream; status: AttachStatus }> {
    let u = this.upstreamFor(req);
    if (u.attaches > 0 && !(await u.ready.then(() => u.transport.ping(Math.min(u.transport.spec.connectTimeoutMs, 5000)), () => true))) {
      this.drop(u, 'no answer to a keepalive');
      u = this.upstreamFor(req);
    }
    try {
      await u.ready;
    } catch (e) {
      const kind = e instanceof HostError && e.kind === 'failed' ? 'failed' : 'unreachable';
      return { status: { ok: false, kind, message: e instanceof Error ? e.message : String(e) } };
    }
    u.persistMs = Math.max(u.persistMs, req.persistMs);
    u.users.add(conn);
    u.attaches++;
    clearTimeout(u.timer);
    return { up: u, status: { ok: true, warnings: u.warnings.splice(0), reused: u.attaches > 1, uid: u.uid } };
  }

  /** A local session ended: its connection is kept for its persist time. */
  detach(conn: Connection, up: Upstream | undefined): void {
    this.conns.delete(conn);
    if (up && up.users.delete(conn) && up.users.size === 0 && !up.dead) {
      up.timer = setTimeout(() => this.drop(up, `idle for ${up.persistMs / 1000} s`), up.persistMs);
    }
    this.checkEmpty();
  }
}

export async function runKeeper(dir: string): Promise<number> {
  const d = ensurePrivateDir(dir);
  const keeperKey = readKeeperKey(d);
  if (!keeperKey) throw new Error(`no keeper key in ${dir}: the keeper is started by the CLI`);
  const key = keeperKey.parsed;
  const file = path.join(dir, socketName());
  let finish!: (code: number) => void;
  const done = new Promise<number>((r) => (finish = r));
  const keeper = new Keeper(() => shutdown('idle'));

  const server = new ssh2.Server({ hostKeys: [keeperKey.raw] }, (conn: Connection) => serve(keeper, key, conn));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(file, 0o600);
  const ino = lstatSync(file).ino;
  d.close();
  // For whoever wants to stop it (by pid) or read its memory: `kill $(cat keeper.pid)`.
  const pidFile = path.join(dir, 'keeper.pid');
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  log(`listening on ${file}`);

  let stopping = false;
  function shutdown(why: string): void {
    if (stopping) return;
    stopping = true;
    log(`exiting: ${why}`);
    keeper.stopEmptyTimer();
    for (const up of [...keeper.upstreams.values()]) keeper.drop(up, why);
    for (const c of keeper.conns) c.end();
    keeper.stopEmptyTimer(); // drop() may have armed it again
    server.close();
    removeIfOurs(file, () => lstatSync(file).ino === ino);
    removeIfOurs(pidFile, () => readFileSync(pidFile, 'utf8').trim() === String(process.pid));
    // Give the closes a moment to reach the servers, then go (a ref'd timer: with nothing
    // else left the process would otherwise end before runKeeper returns, exit status 13).
    setTimeout(() => finish(0), 200);
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => undefined); // the CLI's terminal closing is not our business
  keeper.checkEmpty();
  return done;
}

/** One local session: logs in with the keeper key, attaches once, then its channels are relayed. */
function serve(keeper: Keeper, key: ssh2.ParsedKey, conn: Connection): void {
  keeper.conns.add(conn);
  keeper.stopEmptyTimer();
  let up: Upstream | undefined;
  let gone = false;
  conn.on('error', () => undefined);
  conn.on('authentication', (ctx) => {
    // Only a client that holds the keeper key (this user: the key is 0600 in a 0700 directory).
    if (ctx.method !== 'publickey' || ctx.username !== KEEPER_USER || !isKey(key, ctx.key.data)) return ctx.reject(['publickey']);
    if (ctx.signature && key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
    ctx.accept();
  });
  conn.on('close', () => {
    gone = true;
    keeper.detach(conn, up);
  });
  conn.on('ready', () => {
    conn.on('session', (accept) => {
      const session = accept();
      session.on('subsystem', (acc, rej, info) => {
        if (info.name !== ATTACH_SUBSYSTEM) return up ? relay(session, up, (c, cb) => c.subsys(info.name, cb), acc, rej) : rej?.();
        if (up) return rej?.();
        const ch = acc();
        void readRequest(ch).then(async (req) => {
          const r = req ? await keeper.attach(conn, req) : { status: { ok: false, kind: 'failed', message: 'malformed attach request' } as AttachStatus };
          if (gone && r.up) keeper.detach(conn, r.up);
          else up = r.up;
          ch.write(JSON.stringify(r.status));
          ch.exit(r.status.ok ? 0 : 1);
          ch.end();
        });
      });
      session.on('exec', (acc, rej, info) => (up ? relay(session, up, (c, cb) => execTracked(c, info.command, exits, cb), acc, rej) : rej?.()));
      // Forwarded while the CLI's side is open (a command that may be killed keeps it open).
      session.on('signal', (_acc, _rej, info) => signals.get(session)?.signal(info.name));
    });
  });
}

function removeIfOurs(file: string, ours: () => boolean): void {
  try {
    if (ours()) unlinkSync(file);
  } catch {
    // already gone
  }
}

/** The attach request on its channel: bounded, parsed, its shape checked. Undefined if malformed. */
function readRequest(ch: ServerChannel): Promise<AttachRequest | undefined> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    ch.on('data', (b: Buffer) => {
      size += b.length;
      if (size <= MAX_REQUEST_BYTES) parts.push(b);
    });
    ch.on('end', () => {
      if (size > MAX_REQUEST_BYTES) return resolve(undefined);
      try {
        const r = JSON.parse(Buffer.concat(parts).toString('utf8')) as AttachRequest;
        const ok = r && typeof r.spec === 'object' && r.spec !== null && typeof r.spec.host === 'string' && Array.isArray(r.stamp) && typeof r.persistMs === 'number';
        resolve(ok ? r : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** Exit status per real channel, recorded as soon as it arrives (./channel.ts execTracked). */
const exits = new WeakMap<ClientChannel, ExitInfo>();
/** The real channel a local session relays to, for its signal requests. */
const signals = new WeakMap<ssh2.Session, ClientChannel>();

/** Open the real channel (retrying a refusal), then join it to the local one. */
function relay(session: ssh2.Session, up: Upstream, start: (client: SshClient, cb: (err: Error | undefined, ch: ClientChannel) => void) => void, accept: () => ServerChannel, reject?: () => void): void {
  void (async () => {
    let real: ClientChannel;
    try {
      await up.ready;
      const client = await up.transport.sshClient();
      real = await openWithRetry<ClientChannel>((cb) => start(client, cb), () => up.dead);
    } catch {
      return reject?.();
    }
    real.on('error', () => undefined);
    const local = accept();
    if (!local) return void real.close();
    signals.set(session, real);
    bind(real, local);
  })();
}

/** Join a local channel and a real one: data both ways, stderr, EOF, exit status, close. */
function bind(real: ClientChannel, local: ServerChannel): void {
  real.pipe(local, { end: false });
  real.stderr.pipe(local.stderr, { end: false });
  local.pipe(real);
  real.on('close', () => {
    const exit = exits.get(real);
    if (exit) {
      const [code, signal, dump, desc] = exit;
      if (typeof code === 'number') local.exit(code);
      else if (signal) local.exit(signal, !!dump, desc ?? '');
    }
    local.end();
  });
  local.on('close', () => real.close());
  local.on('error', () => undefined);
}
