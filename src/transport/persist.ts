// Connections that outlive a run, as OpenSSH's ControlPersist keeps them for Ansible: the run
// right after another reuses its SSH connections instead of logging in again.
//
// Why: on a no-op run most of the work is on the targets, and a login is the most expensive
// part of it there (sshd forks and re-executes itself, PAM opens a session; with logind and
// D-Bus, as on any ordinary server, systemd also starts and later stops the user's manager,
// user@UID.service). Measured in the lab: a login costs sshd ~110 ms of CPU, ~900 ms on the
// host whose logind starts the user manager; a new channel on a live connection ~15 ms.
//
// How: a keeper process (./persist-daemon.ts, started on demand, one per user) holds the real
// connections. The CLI talks to it over a Unix socket in a private directory (0700, owned by
// the user: the same protection as OpenSSH's ControlPath), with the SSH protocol itself: a
// local ssh2 session whose user name carries the connection settings, whose channels the
// keeper relays to the real connection (exec, the SFTP subsystem, signals, exit statuses). So
// SshTransport works unchanged on either client. A persisted connection is reused only when
// every connection setting is equal and the key and known_hosts files are unchanged (size and
// mtime); it is closed after `persistMs` without a run using it.
import { spawn } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { HostError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { ConnectionSpec } from './types.js';

const { Client } = ssh2;
type SshClient = InstanceType<typeof Client>;

/** Bumped whenever the CLI and the keeper would no longer understand each other. */
export const PERSIST_PROTOCOL = 2;
/** Ansible's default ssh_args keep connections for 60 s (ControlPersist=60s): the same here. */
export const DEFAULT_PERSIST_SECONDS = 60;
/** The exec request that asks the keeper for the state of the real connection. */
export const STATUS_COMMAND = '#provision-persist:status';
/**
 * "Keep this idle root shell for the next run": a window-change request (meaningless on a
 * channel without a terminal, and never sent otherwise) with rows = cols = 0 and this value as
 * width and height in pixels. (A signal request cannot carry a name of our own: ssh2 sends
 * only the standard signal names.)
 */
export const PARK_MAGIC = 0x7061726b;
export { KEEPER_COMMAND } from './persist-names.js';
import { KEEPER_COMMAND } from './persist-names.js';

/** What the CLI sends as the local session's user name. */
export interface AttachRequest {
  v: number;
  spec: ConnectionSpec;
  /** Size and mtime of each key and known_hosts file: a change means a new connection. */
  stamp: string[];
  persistMs: number;
}

/** The keeper's answer to STATUS_COMMAND. */
export type AttachStatus = { ok: true; warnings: string[]; reused: boolean; /** The login user's uid (`id -u`), asked once per connection. */ uid?: number } | { ok: false; kind: 'unreachable' | 'failed'; message: string };

/** The directory of the keeper's socket: private to this user. */
export function persistDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return process.env.PROVISION_PERSIST_DIR || path.join(os.tmpdir(), `provision-ssh-${uid}`);
}

export function socketPath(dir: string): string {
  return path.join(dir, `keeper-v${PERSIST_PROTOCOL}.sock`);
}

/**
 * Create the directory (0700) or check that it is a real directory, owned by us and closed to
 * everyone else: whoever can reach the socket can run commands on every persisted connection.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (st.uid !== uid) throw new Error(`${dir} belongs to uid ${st.uid}, not to this user (uid ${uid})`);
  if (st.mode & 0o077) throw new Error(`${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}); expected 700`);
}

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
    // A small young generation (2 MiB semispaces; node's default lets it grow to 16): the keeper
    // holds long-lived connections and moves bytes between them, so little survives a scavenge:
    // a smaller peak memory with many connections, for no more CPU (docs/benchmarks.md).
    this.keeperCommand = opts.keeperCommand ?? [process.execPath, '--max-semi-space-size=2', path.join(PACKAGE_ROOT, 'bin', 'provision.js'), KEEPER_COMMAND];
  }

  /**
   * A local SSH client attached to the persisted connection of `spec` (made by the keeper now
   * if there is none). Throws HostError when the real connection fails (the keeper's message,
   * as a direct connect would word it); throws a plain Error when the keeper itself cannot be
   * reached or started (the caller then connects directly).
   */
  async attach(spec: ConnectionSpec): Promise<{ client: SshClient; status: Extract<AttachStatus, { ok: true }> }> {
    const req: AttachRequest = { v: PERSIST_PROTOCOL, spec: forKeeper(spec), stamp: await stamps(spec), persistMs: this.persistMs };
    const sock = await this.socket();
    const client = new Client();
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error): void => reject(new Error(`the connection keeper: ${e.message}`));
        client.once('ready', () => {
          client.off('error', onError);
          resolve();
        });
        client.once('error', onError);
        client.connect({
          sock,
          username: JSON.stringify(req),
          // The socket's directory is the access control; the keeper's key is made per start.
          hostVerifier: () => true,
          authHandler: ['none'] as never,
          readyTimeout: 10_000,
          algorithms: { cipher: ['aes128-gcm@openssh.com'] as never },
        });
      });
    } catch (e) {
      client.on('error', () => undefined);
      client.end();
      sock.destroy();
      throw e;
    }
    client.on('error', () => undefined); // the transport adds its own listeners
    const raw = await execCollect(client, STATUS_COMMAND).catch((e: Error) => {
      client.end();
      throw new Error(`the connection keeper: ${e.message}`);
    });
    let status: AttachStatus;
    try {
      status = JSON.parse(raw) as AttachStatus;
    } catch {
      client.end();
      throw new Error(`the connection keeper answered ${JSON.stringify(raw.slice(0, 200))}`);
    }
    if (!status.ok) {
      client.end();
      throw new HostError(spec.host, status.kind, status.message);
    }
    return { client, status };
  }

  /** A connected socket to the keeper, starting it when none answers. */
  private async socket(): Promise<net.Socket> {
    const file = socketPath(this.dir);
    const first = await connectUnix(file).catch(() => undefined);
    if (first) return first;
    this.started ??= this.startKeeper(file).finally(() => {
      this.started = undefined;
    });
    await this.started;
    return connectUnix(file);
  }

  /**
   * Start the keeper, one at a time per directory (a lock directory: two CLIs starting at once
   * must not unlink each other's socket), and wait until its socket answers.
   */
  private async startKeeper(file: string): Promise<void> {
    ensurePrivateDir(this.dir);
    const lock = path.join(this.dir, 'start.lock');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        // Another CLI is starting it: wait for its socket; a lock left by a killed CLI expires.
        if (await connectUnix(file).then((s) => (s.destroy(), true), () => false)) return;
        const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > 10_000) {
          try {
            rmdirSync(lock);
          } catch {
            // removed by another CLI meanwhile
          }
        }
        if (Date.now() > deadline) throw new Error(`the connection keeper did not start (lock ${lock} held)`);
        await sleep(20);
      }
    }
    try {
      if (await connectUnix(file).then((s) => (s.destroy(), true), () => false)) return;
      try {
        unlinkSync(file); // a socket left by a keeper that died
      } catch {
        // none
      }
      // Appended to across keepers; started anew once it passes 1 MiB.
      const logFile = path.join(this.dir, 'keeper.log');
      const big = (statSync(logFile, { throwIfNoEntry: false })?.size ?? 0) > 1024 * 1024;
      const log = openSync(logFile, big ? 'w' : 'a', 0o600);
      try {
        const [cmd, ...args] = this.keeperCommand;
        const child = spawn(cmd, [...args, this.dir], { detached: true, stdio: ['ignore', log, log] });
        child.unref();
      } finally {
        closeSync(log);
      }
      for (;;) {
        if (await connectUnix(file).then((s) => (s.destroy(), true), () => false)) return;
        if (Date.now() > deadline) throw new Error(`the connection keeper did not start within 10 s (see ${path.join(this.dir, 'keeper.log')})`);
        await sleep(10);
      }
    } finally {
      rmdirSync(lock);
    }
  }
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

/** Run a command on an ssh2 client and return its stdout (the keeper's status query). */
function execCollect(client: SshClient, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err: Error | undefined, ch: ClientChannel) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      ch.on('data', (d: Buffer) => out.push(d));
      ch.stderr.resume();
      ch.on('close', () => resolve(Buffer.concat(out).toString('utf8')));
      ch.end();
    });
  });
}
