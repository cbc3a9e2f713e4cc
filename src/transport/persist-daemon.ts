// The connection keeper (see ./persist.ts): holds real SSH connections between runs and relays
// the CLI's channels to them. One process per user, started by the first CLI that needs it; it
// exits when its last connection has been idle for its persist time.
//
// Each local session arrives with an AttachRequest as its user name. The real connection for
// that request (key: the whole request minus persistMs) is made with SshTransport, so host key
// checking, jump hosts, agents and error messages are those of a direct connection. Channels
// are relayed one to one: exec requests and subsystems (SFTP) are opened on the real
// connection with the same command, data flows both ways with stderr and EOF, signals are
// forwarded, and the real channel's exit status or signal is sent back before the close.
import { lstatSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel, ServerChannel } from 'ssh2';
import { HostError } from '../errors.js';
import { sh } from './quote.js';
import { PARK_MAGIC, PERSIST_PROTOCOL, STATUS_COMMAND, ensurePrivateDir, socketPath, type AttachRequest, type AttachStatus } from './persist.js';
import { SshTransport, sendSignal } from './ssh.js';

const { Server, utils } = ssh2;
type Connection = ssh2.Connection;
type SshClient = Awaited<ReturnType<SshTransport['sshClient']>>;

/** Attempts to open a channel the real server refuses (sshd's session slots free up late). */
const OPEN_ATTEMPTS = 30;
/** Parked shells kept per connection and command. */
const MAX_PARKED = 2;
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
  /** Idle root shells the last run parked, by command (PARK_MAGIC). */
  parked: Map<string, ClientChannel[]>;
  /** The login user's uid, asked once after connecting. */
  uid?: number;
}

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} keeper[${process.pid}]: ${message}\n`);
}

export async function runKeeper(dir: string): Promise<number> {
  ensurePrivateDir(dir);
  const file = socketPath(dir);
  const upstreams = new Map<string, Upstream>();
  const conns = new Set<Connection>();
  let emptyTimer: NodeJS.Timeout | undefined;
  let finish!: (code: number) => void;
  const done = new Promise<number>((r) => (finish = r));

  const drop = (up: Upstream, why: string): void => {
    if (up.dead) return;
    up.dead = why;
    clearTimeout(up.timer);
    if (upstreams.get(up.key) === up) upstreams.delete(up.key);
    log(`${up.transport.label}: closed (${why})`);
    void up.transport.close();
    for (const c of up.users) c.end();
    checkEmpty();
  };

  const checkEmpty = (): void => {
    clearTimeout(emptyTimer);
    if (upstreams.size || conns.size) return;
    emptyTimer = setTimeout(() => {
      if (!upstreams.size && !conns.size) shutdown('idle');
    }, EMPTY_EXIT_MS);
  };

  const upstreamFor = (req: AttachRequest): Upstream => {
    const key = JSON.stringify({ spec: req.spec, stamp: req.stamp });
    const found = upstreams.get(key);
    if (found && !found.dead) return found;
    // The callbacks below run only once the connection attempt is under way, after `up` is set.
    let up: Upstream;
    const warnings: string[] = [];
    const transport = new SshTransport(req.spec, {
      warn: (m) => warnings.push(m),
      persistentShell: false,
      onLost: (reason) => drop(up, `lost: ${reason}`),
    });
    const ready = transport.connect().then(
      async () => {
        log(`${transport.label}: connected in ${Math.round(transport.connectMs ?? 0)} ms`);
        // Every run asks whether it logged in as root (sudo or not): asked once here instead.
        const r = await transport.exec(sh`id -u`, { sudo: false }).catch(() => undefined);
        if (r?.code === 0 && /^\d+$/.test(r.stdout.trim())) up.uid = Number(r.stdout.trim());
      },
      (e: unknown) => {
        drop(up, `connect failed: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      },
    );
    up = { key, transport, ready, users: new Set(), persistMs: req.persistMs, warnings, attaches: 0, parked: new Map() };
    up.ready.catch(() => undefined);
    upstreams.set(key, up);
    return up;
  };

  const server = new Server({ hostKeys: [utils.generateKeyPairSync('ed25519').private] }, (conn: Connection) => {
    conns.add(conn);
    clearTimeout(emptyTimer);
    let up: Upstream | undefined;
    let gone = false;
    conn.on('error', () => undefined);
    conn.on('authentication', (ctx) => {
      let req: AttachRequest | undefined;
      try {
        req = JSON.parse(ctx.username) as AttachRequest;
      } catch {
        // not ours
      }
      if (ctx.method !== 'none' || !req || req.v !== PERSIST_PROTOCOL || !req.spec) return ctx.reject(['none']);
      const request = req;
      void (async () => {
        let u = upstreamFor(request);
        // A kept connection is asked first whether its server still answers (a rebooted host,
        // a dropped NAT entry): a dead one is replaced, not handed out.
        if (u.attaches > 0 && !(await u.ready.then(() => u.transport.ping(Math.min(u.transport.spec.connectTimeoutMs, 5000)), () => true))) {
          drop(u, 'no answer to a keepalive');
          u = upstreamFor(request);
        }
        if (gone) return;
        up = u;
        u.persistMs = Math.max(u.persistMs, request.persistMs);
        u.users.add(conn);
        u.attaches++;
        clearTimeout(u.timer);
        ctx.accept();
      })();
    });
    conn.on('close', () => {
      gone = true;
      conns.delete(conn);
      if (up && up.users.delete(conn) && up.users.size === 0 && !up.dead) {
        const u = up;
        u.timer = setTimeout(() => drop(u, `idle for ${u.persistMs / 1000} s`), u.persistMs);
      }
      checkEmpty();
    });
    conn.on('ready', () => {
      conn.on('session', (accept) => {
        if (!up) return;
        relaySession(accept(), up);
      });
    });
  });

  // Another keeper may be starting (the CLI's lock prevents it; a hand-started one may not).
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const ino = lstatSync(file).ino;
  // For whoever wants to stop it (by pid) or read its memory: `kill $(cat keeper.pid)`.
  const pidFile = path.join(dir, 'keeper.pid');
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  log(`listening on ${file}`);

  let stopping = false;
  function shutdown(why: string): void {
    if (stopping) return;
    stopping = true;
    log(`exiting: ${why}`);
    clearTimeout(emptyTimer);
    for (const up of [...upstreams.values()]) drop(up, why);
    for (const c of conns) c.end();
    clearTimeout(emptyTimer); // drop() may have armed it again
    server.close();
    // Each on its own: closing the server may already have removed the socket.
    try {
      if (lstatSync(file).ino === ino) unlinkSync(file);
    } catch {
      // already gone
    }
    try {
      if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(pidFile);
    } catch {
      // already gone
    }
    // Give the closes a moment to reach the servers, then go (a ref'd timer: with nothing
    // else left the process would otherwise end before runKeeper returns, exit status 13).
    setTimeout(() => finish(0), 200);
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => undefined); // the CLI's terminal closing is not our business
  checkEmpty();
  return done;
}

type ExitInfo = [number | null, string?, boolean?, string?];
/** Exit status per real channel, recorded as soon as it arrives (see open()). */
const exits = new WeakMap<ClientChannel, ExitInfo>();
const closedChannels = new WeakSet<ClientChannel>();

/** A parked root shell of this command, if one is alive (see PARK_MAGIC). */
function takeParked(up: Upstream, command: string): ClientChannel | undefined {
  const list = up.parked.get(command) ?? [];
  for (let ch = list.pop(); ch; ch = list.pop()) if (!closedChannels.has(ch)) return ch;
  return undefined;
}

interface Relay {
  real: ClientChannel;
  park(): void;
}

/** Relay one local session channel (exec or subsystem) to the real connection. */
function relaySession(session: ssh2.Session, up: Upstream): void {
  let relay: Relay | undefined;
  session.on('signal', (_accept, _reject, info) => {
    if (relay) sendSignal(relay.real, info.name);
  });
  session.on('window-change', (_accept, reject, info) => {
    if (relay && info.rows === 0 && info.cols === 0 && info.width === PARK_MAGIC && info.height === PARK_MAGIC) relay.park();
    else reject?.();
  });
  session.on('exec', (accept, reject, info) => {
    if (info.command === STATUS_COMMAND) {
      const ch = accept();
      const reply = (s: AttachStatus): void => {
        ch.write(JSON.stringify(s));
        ch.exit(s.ok ? 0 : 1);
        ch.end();
      };
      up.ready.then(
        () => {
          reply({ ok: true, warnings: up.warnings.splice(0), reused: up.attaches > 1, uid: up.uid });
        },
        (e: unknown) => {
          const kind = e instanceof HostError && e.kind === 'failed' ? 'failed' : 'unreachable';
          reply({ ok: false, kind, message: e instanceof Error ? e.message : String(e) });
        },
      );
      return;
    }
    const parked = takeParked(up, info.command);
    if (parked) {
      const local = accept();
      if (local) relay = bind(up, info.command, parked, local);
      return;
    }
    void open(up, (client, cb) => client.exec(info.command, cb), accept, reject, (real, local) => (relay = bind(up, info.command, real, local)));
  });
  session.on('subsystem', (accept, reject, info) => {
    void open(up, (client, cb) => client.subsys(info.name, cb), accept, reject, (real, local) => (relay = bind(up, undefined, real, local)));
  });
}

/** Join a local channel and a real one: data both ways, stderr, EOF, exit status, close. */
function bind(up: Upstream, command: string | undefined, real: ClientChannel, local: ServerChannel): Relay {
  let parked = false;
  real.pipe(local, { end: false });
  real.stderr.pipe(local.stderr, { end: false });
  local.pipe(real);
  const onRealClose = (): void => {
    const exit = exits.get(real);
    if (exit) {
      const [code, signal, dump, desc] = exit;
      if (typeof code === 'number') local.exit(code);
      else if (signal) local.exit(signal, !!dump, desc ?? '');
    }
    local.end();
  };
  real.on('close', onRealClose);
  local.on('close', () => {
    if (!parked) real.close();
  });
  local.on('error', () => undefined);
  return {
    real,
    park(): void {
      // Only an exec channel (the CLI's idle root shell), only while the connection lives.
      if (parked || command === undefined || up.dead || closedChannels.has(real)) return;
      parked = true;
      real.unpipe(local);
      real.stderr.unpipe(local.stderr);
      local.unpipe(real);
      real.pause();
      real.stderr.pause();
      real.off('close', onRealClose);
      const list = (up.parked.get(command) ?? []).filter((ch) => !closedChannels.has(ch));
      list.push(real);
      // Concurrent runs each leave one: a few are kept, the oldest ends.
      while (list.length > MAX_PARKED) list.shift()!.close();
      up.parked.set(command, list);
      local.close();
    },
  };
}

async function open(
  up: Upstream,
  start: (client: SshClient, cb: (err: Error | undefined, ch: ClientChannel) => void) => void,
  accept: () => ServerChannel,
  reject: () => void,
  opened: (real: ClientChannel, local: ServerChannel) => void,
): Promise<void> {
  let client: SshClient;
  try {
    await up.ready;
    client = await up.transport.sshClient();
  } catch {
    return reject();
  }
  for (let attempt = 1; ; attempt++) {
    // The exit status is listened for inside the callback: a fast command's exit can arrive
    // in the same read as the open confirmation (see SshTransport.run).
    const res = await new Promise<{ err?: Error; ch?: ClientChannel }>((resolve) => {
      try {
        start(client, (err, ch) => {
          if (!err) {
            ch.on('exit', (code: number | null, signal?: string, dump?: boolean, desc?: string) => exits.set(ch, [code, signal, dump, desc]));
            ch.on('close', () => closedChannels.add(ch));
            ch.on('error', () => undefined);
          }
          resolve({ err, ch });
        });
      } catch (e) {
        resolve({ err: e as Error });
      }
    });
    if (res.err || !res.ch) {
      if (attempt < OPEN_ATTEMPTS && /channel open failure/i.test(res.err?.message ?? '') && !up.dead) {
        await new Promise((r) => setTimeout(r, Math.min(10 * attempt, 100)));
        continue;
      }
      return reject();
    }
    const local = accept();
    if (!local) {
      res.ch.close();
      return;
    }
    opened(res.ch, local);
    return;
  }
}
