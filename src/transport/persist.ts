// Connections that outlive a run, as OpenSSH's ControlPersist keeps them for Ansible: the run
// right after another reuses its SSH connections instead of logging in again.
//
// Why: on a no-op run most of the work is on the targets, and a login is the most expensive
// part of it there (sshd forks and re-executes itself, PAM opens a session; with logind, systemd
// also starts and later stops the user's manager). A new channel on a live connection is cheap.
//
// How: a keeper process (./persist-daemon.ts, started on demand, one per user) holds the real
// connections. The CLI talks to it over a Unix socket in a private directory with the SSH
// protocol itself, both ends authenticated (./keeper-trust.ts). The CLI opens the subsystem
// ATTACH_SUBSYSTEM and writes an AttachRequest (the connection settings); the keeper answers
// with an AttachStatus once the real connection is up (or failed: the same error a direct
// connection gives). From then on the keeper relays the session's channels one to one to the
// real connection, so SshTransport uses this client exactly as a direct one. A kept connection
// is reused only when every setting is equal and the key and known_hosts files are unchanged
// (size and mtime); it is closed after `persistMs` without a run using it. Nothing else is kept:
// every run starts its own shells, so sudo decides anew each run.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';
import { HostError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { SshClient } from './channel.js';
import { checkedDir, ensurePrivateDir, isKey, persistDir, readKeeperKey, socketName, writeKeeperKey, type CheckedDir, type KeeperKey } from './keeper-trust.js';
import { KEEPER_COMMAND } from './persist-names.js';
import type { ConnectionSpec } from './types.js';

export { persistDir, socketPath } from './keeper-trust.js';
export { KEEPER_COMMAND };

/** Ansible's default ssh_args keep connections for 60 s (ControlPersist=60s): the same here. */
export const DEFAULT_PERSIST_SECONDS = 60;
/** The local SSH session's user name: the keeper has one client, this user. */
export const KEEPER_USER = 'provision';
/** The subsystem request that attaches a local session to a real connection. */
export const ATTACH_SUBSYSTEM = 'attach@provision';
/** An AttachRequest larger than this is refused. */
export const MAX_REQUEST_BYTES = 256 * 1024;

/** What the CLI writes on the attach channel. */
export interface AttachRequest {
  spec: ConnectionSpec;
  /** Size and mtime of each key and known_hosts file: a change means a new connection. */
  stamp: string[];
  persistMs: number;
}

/** The keeper's answer on the attach channel. */
export type AttachStatus =
  | { ok: true; warnings: string[]; reused: boolean; /** The login user's uid (`id -u`), asked once per connection. */ uid?: number }
  | { ok: false; kind: 'unreachable' | 'failed'; message: string };

/** The environment the keeper starts with: no secrets (become and VRRP passwords stay in the CLI). */
const KEEPER_ENV = /^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z_]+|TZ|TMPDIR|XDG_CACHE_HOME|PROVISION_CACHE_DIR|PROVISION_DEBUG)$/;

/** The connection settings as the keeper needs them: no become password (sudo runs in the CLI's channels). */
function forKeeper(spec: ConnectionSpec): ConnectionSpec {
  const { becomePassword: _secret, ...rest } = spec;
  return { ...rest, proxyJump: rest.proxyJump && forKeeper(rest.proxyJump) };
}

async function stamps(spec: ConnectionSpec): Promise<string[]> {
  const files = new Set<string>();
  for (let s: ConnectionSpec | undefined = spec; s; s = s.proxyJump) {
    for (const f of [...s.privateKeyFiles, ...s.knownHostsFiles]) files.add(f);
  }
  return Promise.all(
    [...files].map(async (f) => {
      const st = await stat(f).catch(() => undefined);
      return st ? `${f}:${st.size}:${st.mtimeMs}` : `${f}:-`;
    }),
  );
}

export interface PersistClientOptions {
  persistMs: number;
  /** The keeper's directory (default persistDir()). */
  dir?: string;
  /** How the keeper is started (default: this CLI's bin/provision.js with KEEPER_COMMAND). */
  keeperCommand?: string[];
}

/** The CLI's side: attach a host's SshTransport to a persisted connection. */
export class PersistClient {
  readonly dir: string;
  readonly persistMs: number;
  private readonly keeperCommand: string[];
  private started?: Promise<void>;

  constructor(opts: PersistClientOptions) {
    this.dir = opts.dir ?? persistDir();
    this.persistMs = opts.persistMs;
    // A small young generation (2 MiB semispaces): the keeper holds long-lived connections and
    // moves bytes between them, so little survives a scavenge: a smaller peak memory with many
    // connections, for no more CPU (docs/benchmarks.md).
    this.keeperCommand = opts.keeperCommand ?? [process.execPath, '--max-semi-space-size=2', path.join(PACKAGE_ROOT, 'bin', 'provision.js'), KEEPER_COMMAND];
  }

  /**
   * A local SSH client attached to the persisted connection of `spec` (made by the keeper now
   * if there is none). Throws HostError when the real connection fails (the keeper's message,
   * as a direct connect words it); a plain Error when the keeper itself cannot be used (its
   * directory is not safe, it cannot start, it does not prove its key): then the caller
   * connects directly.
   */
  async attach(spec: ConnectionSpec): Promise<{ client: SshClient; status: Extract<AttachStatus, { ok: true }> }> {
    const req: AttachRequest = { spec: forKeeper(spec), stamp: await stamps(spec), persistMs: this.persistMs };
    const client = await this.session();
    client.on('error', () => undefined); // the transport adds its own listeners
    let status: AttachStatus;
    try {
      const raw = await request(client, ATTACH_SUBSYSTEM, JSON.stringify(req));
      status = JSON.parse(raw) as AttachStatus;
    } catch (e) {
      client.end();
      throw new Error(`the connection keeper: ${(e as Error).message}`);
    }
    if (!status.ok) {
      client.end();
      throw new HostError(spec.host, status.kind, status.message);
    }
    return { client, status };
  }

  /** An authenticated session with this user's keeper (started when none answers). */
  private async session(): Promise<SshClient> {
    let d = checkedDir(this.dir);
    let key = d && readKeeperKey(d);
    let sock = d && key ? await connectUnix(d.at(socketName())).catch(() => undefined) : undefined;
    if (!sock || !key) {
      d?.close();
      this.started ??= this.startKeeper().finally(() => (this.started = undefined));
      await this.started;
      d = checkedDir(this.dir);
      key = d && readKeeperKey(d);
      if (!d || !key) throw new Error(`the connection keeper's key is missing in ${this.dir}`);
      sock = await connectUnix(d.at(socketName())).catch((e: Error) => {
        d!.close();
        throw e;
      });
    }
    d!.close();
    return handshake(sock, key);
  }

  /**
   * Start the keeper with a new key, one at a time per directory (a lock directory: two CLIs
   * starting at once must not replace each other's), and wait until its socket answers.
   */
  private async startKeeper(): Promise<void> {
    const d = ensurePrivateDir(this.dir);
    try {
      const lock = await takeLock(d);
      if (!lock) return; // another CLI started it meanwhile
      try {
        if ((await answers(d)) && readKeeperKey(d)) return;
        try {
          unlinkSync(d.at(socketName())); // a socket left by a keeper that died
        } catch {
          // none
        }
        writeKeeperKey(d);
        this.spawnKeeper();
        const deadline = Date.now() + 10_000;
        while (!(await answers(d))) {
          if (Date.now() > deadline) throw new Error(`the connection keeper did not start within 10 s (see ${path.join(this.dir, 'keeper.log')})`);
          await sleep(10);
        }
      } finally {
        rmdirSync(d.at('start.lock'));
      }
    } finally {
      d.close();
    }
  }

  /** The keeper process, detached, with a clean environment, its output in keeper.log (0600). */
  private spawnKeeper(): void {
    // Appended to across keepers; started anew once it passes 1 MiB.
    const logFile = path.join(this.dir, 'keeper.log');
    const big = (statSync(logFile, { throwIfNoEntry: false })?.size ?? 0) > 1024 * 1024;
    const log = openSync(logFile, big ? 'w' : 'a', 0o600);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => KEEPER_ENV.test(k)));
    try {
      const [cmd, ...args] = this.keeperCommand;
      spawn(cmd, [...args, this.dir], { detached: true, stdio: ['ignore', log, log], env }).unref();
    } finally {
      closeSync(log);
    }
  }
}

/** The start lock (a directory); false when another CLI's keeper answered while waiting for it. */
async function takeLock(d: CheckedDir): Promise<boolean> {
  const lock = d.at('start.lock');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      mkdirSync(lock);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await answers(d)) return false;
    // A lock left by a killed CLI expires.
    const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > 10_000) {
      try {
        rmdirSync(lock);
      } catch {
        // removed by another CLI meanwhile
      }
    }
    if (Date.now() > deadline) throw new Error(`the connection keeper did not start (lock ${path.join(d.dir, 'start.lock')} held)`);
    await sleep(20);
  }
}

function answers(d: CheckedDir): Promise<boolean> {
  return connectUnix(d.at(socketName())).then(
    (s) => (s.destroy(), true),
    () => false,
  );
}

/** The SSH session over the keeper's socket: its host key must be the pinned key; we log in with it. */
async function handshake(sock: net.Socket, { parsed: key }: KeeperKey): Promise<SshClient> {
  const client = new ssh2.Client();
  let wrongKey = false;
  let offered = false;
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => {
        client.off('error', reject);
        resolve();
      });
      client.once('error', reject);
      client.connect({
        sock,
        username: KEEPER_USER,
        hostVerifier: (blob: Buffer) => (isKey(key, blob) ? true : ((wrongKey = true), false)),
        authHandler: (_left, _partial, next) => {
          if (offered) return (next as unknown as (v: false) => void)(false); // "no more methods"
          offered = true;
          next({ type: 'publickey', username: KEEPER_USER, key });
        },
        readyTimeout: 10_000,
        algorithms: { cipher: ['aes128-gcm@openssh.com'] as never, serverHostKey: ['ssh-ed25519'] as never },
      });
    });
  } catch (e) {
    client.on('error', () => undefined);
    client.end();
    sock.destroy();
    throw new Error(wrongKey ? 'the socket did not present the keeper key: refused, nothing sent' : `the connection keeper: ${(e as Error).message}`);
  }
  return client;
}

function connectUnix(file: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(file);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Open a subsystem, write `body`, return what comes back (the attach exchange). */
function request(client: SshClient, subsystem: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.subsys(subsystem, (err, ch) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      ch.on('data', (d: Buffer) => out.push(d));
      ch.stderr.resume();
      ch.on('close', () => resolve(Buffer.concat(out).toString('utf8')));
      ch.end(body);
    });
  });
}
