// SshTransport: one ssh2 connection per host, a cap on open session channels, sudo, atomic upload.
import { randomBytes } from 'node:crypto';
import { readInputFile, type InputFileError } from '../input-file.js';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type {
  AnyAuthMethod,
  AuthenticationType,
  ClientChannel,
  ConnectConfig,
  NextAuthHandler,
  ParsedKey,
  SFTPWrapper,
  Stats,
} from 'ssh2';
import { HostError } from '../errors.js';
import {
  appendKnownHost,
  checkHostKey,
  decideHostKey,
  fingerprintSha256,
  hostKeyAlgorithmsFor,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  loadKnownHosts,
} from './known-hosts.js';
import { Shell, sh } from './quote.js';
import { Semaphore } from './semaphore.js';
import { RemoteShell } from './shell.js';
import type { ConnectionSpec, ExecOptions, ExecResult, PutOptions, Transport } from './types.js';
import { PARK_MAGIC, type PersistClient } from './persist.js';

const { Client, utils } = ssh2;
type SshClient = InstanceType<typeof Client>;

/** OpenSSH's MaxSessions defaults to 10: stay below it. */
export const DEFAULT_MAX_CHANNELS = 8;
/** Larger stdin goes over its own exec channel: the persistent shell reads it as base64 text. */
const SHELL_STDIN_MAX = 256 * 1024;
/** Attempts to open a channel the server refuses (its session slots free up a little late). */
const OPEN_ATTEMPTS = 30;

export interface SshTransportOptions {
  /** Warnings (host key checking off, ...). Never printed by the transport itself. */
  warn?: (message: string) => void;
  /** Session channels (exec, sftp) open at once on the connection (default 8). */
  maxChannels?: number;
  /** A connected-or-not transport to the jump host, shared between targets (else one is made from spec.proxyJump). */
  jump?: SshTransport;
  /** Called whenever the number of open session channels changes (instrumentation). */
  onChannelCount?: (open: number) => void;
  /** ssh2 protocol debug output. */
  debug?: (message: string) => void;
  /**
   * Run commands as root through one persistent remote shell (see ./shell.ts) instead of an
   * exec channel + sudo each. Default true; commands with a timeout, a become password or a
   * busy shell still get their own channel.
   */
  persistentShell?: boolean;
  /**
   * Connect through the connection keeper (./persist.ts): reuse the connection a previous run
   * left open, and leave this one open for the next. Without it, a direct connection.
   */
  persist?: PersistClient;
  /** Called once when an established connection is lost (the keeper drops it then). */
  onLost?: (reason: string) => void;
  /** Called when the keeper cannot be used and the transport connects directly instead. */
  onPersistUnavailable?: (why: string) => void;
}

export interface ChannelStats {
  /** Session channels open now. */
  open: number;
  /** Most session channels ever open at once. */
  peak: number;
  /** Session channels opened in total. */
  opened: number;
  /** Requests waiting for a free channel. */
  waiting: number;
  /** Channel opens the server refused and we retried. */
  openRetries: number;
}

const warnedOff = new WeakSet<(message: string) => void>();

type ShellKind = 'sudo' | 'plain';
interface ShellSlot {
  p?: Promise<RemoteShell | undefined>;
  /** Starts so far (a shell that dies is reopened, a few times at most). */
  starts: number;
  off: boolean;
  live?: RemoteShell;
}

export class SshTransport implements Transport {
  readonly host: string;
  readonly spec: ConnectionSpec;
  /** Milliseconds from the start of connect() to an authenticated session (jump hosts included). */
  connectMs?: number;
  /** Through the connection keeper: true when it reused a connection a previous run left open. */
  reused?: boolean;

  private readonly opts: SshTransportOptions;
  private readonly channels: Semaphore;
  private client?: SshClient;
  private connecting?: Promise<void>;
  private closed = false;
  private lostReason?: string;
  private readonly pending = new Set<(reason: string) => void>();
  private sftpP?: Promise<SFTPWrapper>;
  private ownJump?: SshTransport;
  private rootP?: Promise<boolean>;
  private openRetries = 0;
  /** The persistent shells (./shell.ts): as root through sudo, and as the login user. */
  private readonly shells: Record<ShellKind, ShellSlot> = { sudo: { starts: 0, off: false }, plain: { starts: 0, off: false } };
  /** Commands run by shells that have exited. */
  private shellCommands = 0;

  constructor(spec: ConnectionSpec, opts: SshTransportOptions = {}) {
    this.spec = spec;
    this.host = spec.host;
    this.opts = opts;
    const max = opts.maxChannels ?? DEFAULT_MAX_CHANNELS;
    if (!Number.isInteger(max) || max < 2) throw new Error(`maxChannels must be an integer >= 2, got ${max}`);
    this.channels = new Semaphore(max, opts.onChannelCount);
  }

  /** `user@address:port` */
  get label(): string {
    return `${this.spec.user}@${this.spec.address}:${this.spec.port}`;
  }

  get channelStats(): ChannelStats {
    const s = this.channels.stats;
    return { open: s.active, peak: s.peak, opened: s.total, waiting: s.waiting, openRetries: this.openRetries };
  }

  /** Connect (once; later calls share the same attempt, a failure included). */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new HostError(this.host, 'failed', 'transport already closed'));
    this.connecting ??= this.doConnect();
    return this.connecting;
  }

  async exec(cmd: Shell, opts: ExecOptions = {}): Promise<ExecResult> {
    if (!(cmd instanceof Shell)) throw new TypeError('exec() takes a Shell built with sh`...` or raw()');
    await this.ready();
    const wantRoot = opts.sudo ?? this.spec.become;
    // isRoot() costs a round trip (id -u) unless the user is named root: only when it matters.
    const root = wantRoot ? await this.isRoot() : this.spec.user === 'root';
    const sudo = wantRoot && !root;
    // A persistent shell when one is free: through sudo (without a password) for root; as the
    // login user for a root login's commands, and for others that ask for it (reuseShell).
    const stdinSize = opts.stdin === undefined ? 0 : opts.stdin.length;
    const kind: ShellKind | undefined = sudo ? (this.spec.becomePassword === undefined ? 'sudo' : undefined) : root || opts.reuseShell ? 'plain' : undefined;
    if (kind && stdinSize <= SHELL_STDIN_MAX) {
      const shell = await this.shell(kind);
      if (shell && shell.alive && !shell.busy) {
        try {
          return await shell.run(cmd.text, opts.stdin, opts.timeoutMs);
        } catch (e) {
          if (this.lostReason) throw this.unreachable(`connection to ${this.label} lost: ${this.lostReason}`);
          throw new HostError(this.host, 'failed', `${errMessage(e)} while running a command on ${this.label}`);
        }
      }
    }
    // A reuseShell command is sh text: through an exec channel too it runs in sh, not in
    // whatever the login shell is (`sudo ... sh -c` below does the same for root).
    if (!sudo) return this.run(opts.reuseShell ? sh`sh -c ${cmd.text}`.text : cmd.text, opts);
    const password = this.spec.becomePassword;
    if (password === undefined) {
      return this.run(sh`sudo -n -H -- sh -c ${cmd.text}`.text, opts);
    }
    // sudo with a password: sudo prompts on stderr with our unique prompt, we answer on stdin;
    // the command's own stdin is only sent after it prints our start marker, so a password is
    // never written into the command (e.g. when NOPASSWD applies or credentials are cached).
    const nonce = randomBytes(8).toString('hex');
    const prompt = `[provision-become-${nonce}] password: `;
    const marker = `provision-become-ok-${nonce}`;
    const inner = `echo ${marker}; ${cmd.text}`;
    return this.run(sh`sudo -S -p ${prompt} -H -- sh -c ${inner}`.text, opts, { password, prompt, marker });
  }

  async put(path: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    checkTargetPath(path);
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const mode = opts.mode === undefined ? undefined : parseMode(opts.mode);
    const owner = ownerSpec(opts);
    await this.ready();
    const sudo = (opts.sudo ?? this.spec.become) && !(await this.isRoot());
    const tmp = tempPathFor(path);
    if (sudo) await this.putSudo(path, tmp, data, mode, owner);
    else await this.putSftp(path, tmp, data, mode, owner);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.connecting) await this.connecting.catch(() => undefined);
    // Through the keeper, idle shells are parked there for the next run (before the end of
    // this connection, which would end them).
    if (this.opts.persist && this.client && !this.lostReason) {
      for (const slot of Object.values(this.shells)) slot.live?.park(sendParkRequest);
    }
    const client = this.client;
    this.client = undefined;
    if (client) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        client.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        client.end();
      });
    }
    for (const slot of Object.values(this.shells)) (await slot.p?.catch(() => undefined))?.close();
    if (this.ownJump) await this.ownJump.close();
  }

  /** Open a direct-tcpip channel through this host (used when it is a jump host). */
  async forwardOut(dstHost: string, dstPort: number): Promise<ClientChannel> {
    const client = await this.ready();
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, dstHost, dstPort, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  // -------------------------------------------------------------------------------------------
  // connection

  private async doConnect(): Promise<void> {
    const spec = this.spec;
    const t0 = performance.now();
    if (this.opts.persist) {
      let attached;
      try {
        attached = await this.opts.persist.attach(spec);
      } catch (e) {
        if (e instanceof HostError) throw e;
        this.opts.onPersistUnavailable?.(errMessage(e));
      }
      if (attached) {
        for (const w of attached.status.warnings) this.opts.warn?.(w);
        this.reused = attached.status.reused;
        const uid = attached.status.uid;
        if (typeof uid === 'number' && this.spec.user !== 'root') this.rootP = Promise.resolve(uid === 0);
        this.adopt(attached.client);
        this.connectMs = performance.now() - t0;
        return;
      }
    }
    let sock: Duplex | undefined;
    if (spec.proxyJump) {
      const jump = this.opts.jump ?? (this.ownJump = new SshTransport(spec.proxyJump, { ...this.opts, jump: undefined, onChannelCount: undefined }));
      try {
        await jump.connect();
      } catch (e) {
        throw this.unreachable(`jump host ${jump.label}: ${errMessage(e)}`);
      }
      try {
        sock = await jump.forwardOut(spec.address, spec.port);
      } catch (e) {
        throw this.unreachable(`jump host ${jump.label} cannot reach ${spec.address}:${spec.port}: ${errMessage(e)}`);
      }
    }

    const known = await loadKnownHosts(spec.knownHostsFiles);
    const name = spec.hostKeyAlias ? spec.hostKeyAlias.toLowerCase() : knownHostsName(spec.address, spec.port);
    const preferred = hostKeyAlgorithmsFor(knownKeyTypes(known.entries, [name]));

    const { methods, skipped } = await this.authMethods();
    const tried: string[] = [];
    let serverAllows: string[] | undefined;
    const authHandler = (left: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler): void => {
      if (left) serverAllows = left;
      while (methods.length) {
        const m = methods.shift()!;
        const kind = m.type === 'agent' ? 'publickey' : m.type;
        if (left && !left.includes(kind)) continue;
        if (!tried.includes(kind)) tried.push(kind);
        next(m);
        return;
      }
      (next as unknown as (v: false) => void)(false); // "no more methods" (documented, not in the types)
    };

    let hostKeyFailure: string | undefined;
    const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
      let decision;
      try {
        const verdict = checkHostKey(known.entries, [name], key);
        decision = decideHostKey(spec.hostKeyPolicy, verdict, {
          address: spec.address,
          port: spec.port,
          name,
          key,
          files: spec.knownHostsFiles,
        });
      } catch (e) {
        hostKeyFailure = `cannot check the host key of ${spec.address} port ${spec.port}: ${errMessage(e)}`;
        verify(false);
        return;
      }
      if (!decision.accept) {
        hostKeyFailure = decision.reason;
        verify(false);
        return;
      }
      if (spec.hostKeyPolicy === 'off') this.warnOffOnce();
      if (!decision.record) {
        verify(true);
        return;
      }
      const file = spec.knownHostsFiles[0];
      if (!file) {
        hostKeyFailure = `host key for ${name} is new (${keyTypeOf(key)} ${fingerprintSha256(key)}) and there is no known_hosts file to record it in`;
        verify(false);
        return;
      }
      appendKnownHost(file, name, key).then(
        () => verify(true),
        (e: unknown) => {
          hostKeyFailure = `cannot record the host key of ${name} in ${file}: ${errMessage(e)}`;
          verify(false);
        },
      );
    };

    const cfg: ConnectConfig = {
      port: spec.port,
      username: spec.user,
      readyTimeout: spec.connectTimeoutMs,
      keepaliveInterval: spec.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: 3,
      hostVerifier,
      authHandler,
    };
    if (sock) cfg.sock = sock;
    else cfg.host = spec.address;
    if (preferred.length) {
      cfg.algorithms = { serverHostKey: { remove: preferred, prepend: preferred } as never };
    }
    if (this.opts.debug) cfg.debug = this.opts.debug;

    const client = new Client();
    try {
      await new Promise<void>((resolve, reject) => {
        const cleanup = (): void => {
          client.off('ready', onReady);
          client.off('error', onError);
          client.off('close', onClose);
        };
        const onReady = (): void => {
          cleanup();
          resolve();
        };
        const onError = (err: Error): void => {
          cleanup();
          reject(err);
        };
        const onClose = (): void => {
          cleanup();
          reject(new Error('connection closed during the handshake'));
        };
        client.on('ready', onReady);
        client.on('error', onError);
        client.on('close', onClose);
        client.connect(cfg);
        // Small SSH packets must not wait for the peer's delayed ACK (Nagle): without this every
        // command costs ~40 ms of idle waiting (sshd does not set TCP_NODELAY for exec sessions).
        client.setNoDelay(true);
      });
    } catch (e) {
      client.on('error', () => undefined); // late errors of a dead client must not crash the process
      client.end();
      sock?.destroy();
      throw this.unreachable(
        describeConnectError(e, {
          label: this.label,
          address: spec.address,
          port: spec.port,
          timeoutMs: spec.connectTimeoutMs,
          tried,
          skipped,
          serverAllows,
          hostKeyFailure,
        }),
      );
    }
    this.adopt(client);
    this.connectMs = performance.now() - t0;
  }

  /** Make an authenticated client this transport's connection. */
  private adopt(client: SshClient): void {
    client.on('error', (err: Error) => {
      this.lost(errMessage(err));
    });
    client.on('close', () => {
      this.lost('connection closed');
      this.client = undefined;
    });
    this.client = client;
    if (this.closed) {
      client.end();
      throw new HostError(this.host, 'failed', 'transport closed while connecting');
    }
  }

  private async authMethods(): Promise<{ methods: AnyAuthMethod[]; skipped: string[] }> {
    const spec = this.spec;
    const methods: AnyAuthMethod[] = [];
    const skipped: string[] = [];
    if (spec.agent) methods.push({ type: 'agent', username: spec.user, agent: spec.agent });
    for (const file of spec.privateKeyFiles) {
      let data: Buffer;
      try {
        data = await readInputFile(file, { what: 'private key file' });
      } catch (e) {
        skipped.push(`${file}: ${(e as InputFileError).code === 'ENOENT' ? 'missing' : errMessage(e)}`);
        continue;
      }
      const parsed = utils.parseKey(data) as ParsedKey | ParsedKey[] | Error;
      if (parsed instanceof Error) {
        skipped.push(`${file}: ${/passphrase|encrypted/i.test(parsed.message) ? 'encrypted (load it into ssh-agent)' : parsed.message}`);
        continue;
      }
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      if (!key || !key.isPrivateKey()) {
        skipped.push(`${file}: not a private key`);
        continue;
      }
      methods.push({ type: 'publickey', username: spec.user, key });
    }
    const password = spec.password;
    if (password !== undefined) {
      methods.push({ type: 'password', username: spec.user, password });
      // sshd with PAM asks through keyboard-interactive: every prompt gets the password.
      methods.push({ type: 'keyboard-interactive', username: spec.user, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)) });
    }
    return { methods, skipped };
  }

  private warnOffOnce(): void {
    const warn = this.opts.warn;
    if (!warn || warnedOff.has(warn)) return;
    warnedOff.add(warn);
    warn('host key checking is off: host keys are not verified, anyone on the path can impersonate the hosts');
  }

  private lost(reason: string): void {
    if (this.lostReason === undefined && !this.closed) this.opts.onLost?.(reason);
    this.lostReason ??= reason;
    for (const fail of [...this.pending]) fail(this.lostReason);
  }

  private async ready(): Promise<SshClient> {
    if (this.closed) throw new HostError(this.host, 'failed', 'transport already closed');
    await this.connect();
    if (this.lostReason || !this.client) {
      throw this.unreachable(`connection to ${this.label} lost: ${this.lostReason ?? 'closed'}`);
    }
    return this.client;
  }

  /**
   * Does the server still answer? One SSH keepalive request (answered by sshd itself, no process
   * on the target): a connection kept between runs is checked before it is handed out again.
   */
  async ping(timeoutMs: number): Promise<boolean> {
    let client: SshClient;
    try {
      client = await this.ready();
    } catch {
      return false;
    }
    const c = client as unknown as { _callbacks?: Array<(failed: boolean) => void>; _protocol?: { ping(): void } };
    if (!Array.isArray(c._callbacks) || typeof c._protocol?.ping !== 'function') return !this.lostReason;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      // Either reply (OpenSSH answers keepalive@openssh.com with a failure) proves it is alive.
      c._callbacks!.push(() => {
        clearTimeout(timer);
        resolve(!this.lostReason);
      });
      try {
        c._protocol!.ping();
      } catch {
        clearTimeout(timer);
        resolve(false);
      }
    });
  }

  /** True when the connection is lost now or within `ms` (see Transport.lostWithin). */
  lostWithin(ms: number): Promise<boolean> {
    const client = this.client;
    if (this.lostReason || !client) return Promise.resolve(this.lostReason !== undefined);
    return new Promise((resolve) => {
      const onClose = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        client.off('close', onClose);
        resolve(this.lostReason !== undefined);
      }, ms);
      client.once('close', onClose);
    });
  }

  /** The connected ssh2 client itself: the connection keeper relays channels to it. */
  sshClient(): Promise<SshClient> {
    return this.ready();
  }

  private unreachable(message: string): HostError {
    return new HostError(this.host, 'unreachable', message);
  }

  /** Connected as uid 0? (then sudo is not used) */
  private isRoot(): Promise<boolean> {
    if (this.spec.user === 'root') return Promise.resolve(true);
    this.rootP ??= this.run('id -u', {}).then((r) => {
      if (r.code !== 0) throw new HostError(this.host, 'failed', `id -u failed: ${oneLine(r.stderr) || `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}`}`);
      return r.stdout.trim() === '0';
    });
    return this.rootP;
  }

  /** Start the persistent root shell now, when root commands would use it (see exec). */
  async warm(): Promise<void> {
    try {
      await this.ready();
      if (!this.spec.become) return;
      const root = await this.isRoot();
      if (root || this.spec.becomePassword === undefined) await this.shell(root ? 'plain' : 'sudo');
    } catch {
      // the command that needs root reports it
    }
  }

  /** The persistent shells' use so far (instrumentation): how often they were started, commands run. */
  get shellStats(): { starts: number; commands: number } {
    const slots = Object.values(this.shells);
    return { starts: slots.reduce((n, s) => n + s.starts, 0), commands: slots.reduce((n, s) => n + (s.live?.commands ?? 0), this.shellCommands) };
  }

  /**
   * A persistent shell (./shell.ts), started on first use: `sudo -n -H -- sh -s` (kind sudo),
   * or `sh -s` as the login user (kind plain; root's own shell for a root login). Undefined when
   * it cannot be used here (sudo refused, disabled, too few channel slots: each shell keeps one,
   * and at least two stay free for other channels): the caller uses an exec channel.
   */
  private shell(kind: ShellKind): Promise<RemoteShell | undefined> {
    const slot = this.shells[kind];
    // A shell that ended (a timeout killed it) before its channel closed: start the next one now.
    if (slot.live && !slot.live.alive) {
      slot.live = undefined;
      slot.p = undefined;
    }
    const others = Object.values(this.shells).filter((o) => o !== slot && o.p).length;
    if (slot.off || this.opts.persistentShell === false || (!slot.p && this.channels.capacity - others < 3)) return Promise.resolve(undefined);
    slot.p ??= (async () => {
      if (slot.starts >= 3) {
        slot.off = true;
        return undefined;
      }
      slot.starts++;
      const client = await this.ready();
      const release = await this.channels.acquire();
      let ch: ClientChannel;
      try {
        ch = await this.openChannel<ClientChannel>('the remote shell', (cb) => client.exec(kind === 'sudo' ? 'sudo -n -H -- sh -s' : 'sh -s', cb));
      } catch (e) {
        release();
        throw e;
      }
      const shell = new RemoteShell(ch, (c) => sendSignal(c, 'KILL'));
      slot.live = shell;
      ch.on('close', () => {
        release();
        this.shellCommands += shell.commands;
        if (slot.live === shell) slot.live = undefined;
        // Dead (killed, timed out, or a command killed it): the next command starts a new one.
        if (slot.p === mine) slot.p = undefined;
      });
      try {
        await shell.ready(Math.max(this.spec.connectTimeoutMs, 5000));
      } catch (e) {
        // e.g. sudo wants a password: every command goes through its own channel, which reports it.
        slot.off = true;
        this.opts.debug?.(`persistent ${kind} shell unavailable on ${this.label}: ${errMessage(e)}`);
        shell.close();
        return undefined;
      }
      return shell;
    })();
    const mine = slot.p;
    return mine.catch((e: unknown) => {
      if (e instanceof HostError && e.kind === 'unreachable') throw e;
      slot.off = true;
      return undefined;
    });
  }

  // -------------------------------------------------------------------------------------------
  // channels

  private async run(
    text: string,
    opts: ExecOptions,
    become?: { password: string; prompt: string; marker: string },
  ): Promise<ExecResult> {
    const client = await this.ready();
    const release = await this.channels.acquire();
    try {
      // The exit status must be listened for inside ssh2's callback: for a fast command the
      // server's data, exit-status and close can arrive in the same TCP read as the exec
      // reply, and ssh2 emits 'exit' synchronously while parsing it, before an awaiting caller
      // resumes (data is buffered by the stream; the 'exit' event is not).
      let code: number | null = null;
      let signal: string | undefined;
      let sawExit = false;
      const ch = await this.openChannel<ClientChannel>('a command', (cb) =>
        client.exec(text, (err, c) => {
          if (!err) {
            c.on('exit', (n: number | null, sig?: string) => {
              sawExit = true;
              if (typeof n === 'number') code = n;
              else {
                code = null;
                signal = sig ? (sig.startsWith('SIG') ? sig : `SIG${sig}`) : undefined;
              }
            });
          }
          cb(err, c);
        }),
      );
      return await new Promise<ExecResult>((resolve, reject) => {
        let settled = false;
        const fail = (reason: string): void => {
          if (settled) return;
          settled = true;
          this.pending.delete(fail);
          reject(this.unreachable(`connection to ${this.label} lost: ${reason}`));
        };
        if (this.lostReason) return fail(this.lostReason);
        this.pending.add(fail);
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let timedOut = false;
        let timer: NodeJS.Timeout | undefined;

        // become-with-password state
        let started = !become;
        let preOut = Buffer.alloc(0);
        let preErr = Buffer.alloc(0);
        let prompts = 0;
        const markerLine = become ? Buffer.from(become.marker + '\n') : Buffer.alloc(0);
        const promptBuf = become ? Buffer.from(become.prompt) : Buffer.alloc(0);
        const sendStdin = (): void => {
          if (opts.stdin !== undefined) ch.end(opts.stdin);
          else ch.end();
        };
        const start = (): void => {
          started = true;
          if (preErr.length) errOut.push(preErr);
          preErr = Buffer.alloc(0);
          sendStdin();
        };

        ch.on('data', (d: Buffer) => {
          if (started) {
            out.push(d);
            return;
          }
          preOut = Buffer.concat([preOut, d]);
          const i = preOut.indexOf(markerLine);
          if (i >= 0) {
            if (i > 0) out.push(preOut.subarray(0, i));
            const rest = preOut.subarray(i + markerLine.length);
            if (rest.length) out.push(rest);
            preOut = Buffer.alloc(0);
            start();
          }
        });
        ch.stderr.on('data', (d: Buffer) => {
          if (started) {
            errOut.push(d);
            return;
          }
          preErr = Buffer.concat([preErr, d]);
          let i: number;
          while ((i = preErr.indexOf(promptBuf)) >= 0) {
            preErr = Buffer.concat([preErr.subarray(0, i), preErr.subarray(i + promptBuf.length)]);
            prompts++;
            if (prompts === 1) ch.write(become!.password + '\n');
            else ch.end(); // the password was refused: let sudo give up
          }
        });
        ch.on('close', () => {
          if (timer) clearTimeout(timer);
          if (settled) return;
          settled = true;
          this.pending.delete(fail);
          if (!started) {
            if (preOut.length) out.push(preOut);
            if (preErr.length) errOut.push(preErr);
          }
          let stderr = Buffer.concat(errOut).toString('utf8');
          if (prompts > 1) stderr += (stderr.endsWith('\n') || stderr === '' ? '' : '\n') + 'provision: the become password was refused by sudo\n';
          const result: ExecResult = { stdout: Buffer.concat(out).toString('utf8'), stderr, code };
          if (timedOut) {
            result.code = null;
            result.signal = 'TIMEOUT';
          } else if (signal) {
            result.signal = signal;
          } else if (!sawExit) {
            if (this.lostReason) {
              reject(this.unreachable(`connection to ${this.label} lost: ${this.lostReason}`));
              return;
            }
            result.signal = 'UNKNOWN';
          }
          resolve(result);
        });
        if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
          timer = setTimeout(() => {
            timedOut = true;
            sendSignal(ch, 'KILL');
            ch.close();
          }, opts.timeoutMs);
        }
        if (started) sendStdin();
      });
    } finally {
      release();
    }
  }

  /**
   * Open a session channel, retrying while the server refuses it: sshd frees a session slot a
   * little after the channel closes, so with a full cap a new open can race the old close.
   */
  private async openChannel<T>(what: string, open: (cb: (err: Error | undefined, ch: T) => void) => void): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<T>((resolve, reject) => {
          const fail = (reason: string): void => {
            this.pending.delete(fail);
            reject(this.unreachable(`connection to ${this.label} lost: ${reason}`));
          };
          if (this.lostReason) return fail(this.lostReason);
          this.pending.add(fail);
          open((err, ch) => {
            if (!this.pending.delete(fail)) return; // the connection was lost meanwhile
            if (err) reject(err);
            else resolve(ch);
          });
        });
      } catch (e) {
        if (e instanceof HostError) throw e;
        if (attempt < OPEN_ATTEMPTS && /channel open failure/i.test(errMessage(e)) && !this.lostReason) {
          this.openRetries++;
          await new Promise((r) => setTimeout(r, Math.min(10 * attempt, 100)));
          continue;
        }
        throw new HostError(this.host, 'failed', `cannot open a channel for ${what} on ${this.label}: ${errMessage(e)}`);
      }
    }
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpP ??= (async () => {
      const client = await this.ready();
      // The SFTP session is a session channel too: it holds one slot while open.
      const release = await this.channels.acquire();
      let s: SFTPWrapper;
      try {
        s = await this.openChannel<SFTPWrapper>('SFTP', (cb) => client.sftp(cb));
      } catch (e) {
        release();
        this.sftpP = undefined;
        throw e;
      }
      s.on('close', () => {
        release();
        this.sftpP = undefined;
      });
      return s;
    })();
    return this.sftpP;
  }

  // -------------------------------------------------------------------------------------------
  // uploads

  private async putSftp(path: string, tmp: string, data: Buffer, mode: number | undefined, owner: string | undefined): Promise<void> {
    const sftp = await this.sftp();
    const failed = (what: string, e: unknown): HostError => {
      const m = errMessage(e);
      const hint = /permission denied/i.test(m) ? ' (use sudo/become to write as root)' : '';
      return new HostError(this.host, 'failed', `cannot write ${path}: ${what}: ${m}${hint}`);
    };
    const existing = await sftpCall<Stats | undefined>((cb) =>
      sftp.stat(path, (err, st) => (err && (err as { code?: number }).code === 2 ? cb(undefined, undefined) : cb(err, st))),
    ).catch(() => undefined);

    let handle: Buffer;
    try {
      handle = await sftpCall<Buffer>((cb) => sftp.open(tmp, 'wx', { mode: 0o600 }, cb));
    } catch (e) {
      throw failed('creating a temporary file', e);
    }
    let created = true;
    try {
      try {
        await writeAll(sftp, handle, data);
        await fsyncIfSupported(sftp, handle);
      } finally {
        await sftpCall<void>((cb) => sftp.close(handle, (err) => cb(err))).catch(() => undefined);
      }
      const finalMode = mode ?? (existing ? existing.mode & 0o7777 : 0o644);
      await sftpCall<void>((cb) => sftp.chmod(tmp, finalMode, (err) => cb(err)));
      if (owner) {
        const r = await this.run(sh`chown ${owner} ${tmp}`.text, {});
        if (r.code !== 0) throw new Error(`chown ${owner}: ${oneLine(r.stderr) || `exit ${r.code}`}`);
      } else if (existing && (await this.isRoot())) {
        await sftpCall<void>((cb) => sftp.chown(tmp, existing.uid, existing.gid, (err) => cb(err)));
      }
      await this.renameOver(sftp, tmp, path);
      created = false;
    } catch (e) {
      throw e instanceof HostError ? e : failed('writing', e);
    } finally {
      if (created) await sftpCall<void>((cb) => sftp.unlink(tmp, (err) => cb(err))).catch(() => undefined);
    }
  }

  private async renameOver(sftp: SFTPWrapper, tmp: string, path: string): Promise<void> {
    let unsupported = false;
    try {
      await sftpCall<void>((cb) => {
        try {
          sftp.ext_openssh_rename(tmp, path, (err) => cb(err));
        } catch (e) {
          unsupported = true; // the server lacks posix-rename@openssh.com
          cb(e as Error);
        }
      });
      return;
    } catch (e) {
      if (!unsupported) throw e;
    }
    const r = await this.run(sh`mv -f ${tmp} ${path}`.text, {});
    if (r.code !== 0) throw new Error(`mv: ${oneLine(r.stderr) || `exit ${r.code}`}`);
  }

  private async putSudo(path: string, tmp: string, data: Buffer, mode: number | undefined, owner: string | undefined): Promise<void> {
    const modeStep =
      mode !== undefined
        ? sh`chmod ${formatMode(mode)} ${tmp}`
        : sh`{ if [ -e ${path} ]; then chmod --reference=${path} ${tmp}; else chmod 0644 ${tmp}; fi; }`;
    const ownStep = owner ? sh`chown ${owner} ${tmp}` : sh`{ [ ! -e ${path} ] || chown --reference=${path} ${tmp}; }`;
    // All the bytes, or nothing: if the controller dies mid-upload, `cat` sees the end of its input
    // and exits 0 (no pty, no SIGHUP), so without this check the truncated file would be moved in.
    const sizeStep = sh`{ [ "$(stat -c %s -- ${tmp})" = ${String(data.length)} ] || { echo ${`upload incomplete: fewer than ${data.length} bytes arrived`} >&2; false; }; }`;
    // noclobber: the temp file must be new; any failure removes it and keeps the exit code.
    const script = sh`umask 077; set -C; cat > ${tmp} && ${sizeStep} && ${modeStep} && ${ownStep} && mv -f ${tmp} ${path} || { rc=$?; rm -f ${tmp}; exit $rc; }`;
    const r = await this.exec(script, { sudo: true, stdin: data });
    if (r.code !== 0) {
      throw new HostError(this.host, 'failed', `cannot write ${path} (sudo): ${oneLine(r.stderr) || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

export interface ConnectErrorContext {
  label: string; // user@address:port
  address: string;
  port: number;
  timeoutMs: number;
  tried: string[];
  skipped?: string[];
  serverAllows?: string[];
  hostKeyFailure?: string;
}

/** One line, tied to the host, for a failed connection attempt. Never a stack trace. */
export function describeConnectError(err: unknown, ctx: ConnectErrorContext): string {
  if (ctx.hostKeyFailure) return ctx.hostKeyFailure;
  const e = err as { code?: string; level?: string; message?: string };
  const where = `${ctx.address}:${ctx.port}`;
  if (e.level === 'client-authentication') {
    let m = `authentication failed for ${ctx.label} (tried: ${ctx.tried.join(', ') || 'none'})`;
    if (ctx.serverAllows?.length && ctx.tried.length === 0) m += `; server allows: ${ctx.serverAllows.join(', ')}`;
    if (ctx.skipped?.length) m += `; skipped ${ctx.skipped.join(', ')}`;
    return m;
  }
  if (e.level === 'client-timeout' || e.code === 'ETIMEDOUT') {
    return `connection to ${where} timed out after ${Math.round(ctx.timeoutMs / 100) / 10} s`;
  }
  switch (e.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return `cannot resolve host name ${ctx.address} (DNS ${e.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where}`;
    case 'ECONNRESET':
      return `connection to ${where} reset by peer`;
  }
  const msg = oneLine(e.message ?? String(err));
  if (e.level === 'protocol' || e.level === 'handshake') return `SSH handshake with ${where} failed: ${msg}`;
  return `cannot connect to ${where}: ${msg}`;
}

/** The temp file an upload writes before the rename: `.<name>.provision-tmp-<random>` next to the target. */
export function tempPathFor(target: string): string {
  const dir = posix.dirname(target);
  const base = posix.basename(target).slice(0, 180);
  return posix.join(dir, `.${base}.provision-tmp-${randomBytes(6).toString('hex')}`);
}

function checkTargetPath(path: string): void {
  if (!path.startsWith('/') || path.endsWith('/') || path.includes('\0') || posix.basename(path) === '..' || posix.basename(path) === '.') {
    throw new Error(`put() needs an absolute file path, got ${JSON.stringify(path)}`);
  }
}

/** "0644", "644", "0o644", "2755" → number. */
export function parseMode(mode: string): number {
  const m = /^(?:0o?)?([0-7]{3,4})$/.exec(mode.trim());
  if (!m) throw new Error(`invalid file mode ${JSON.stringify(mode)} (expected an octal string like "0644")`);
  return parseInt(m[1], 8);
}

function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

function ownerSpec(opts: PutOptions): string | undefined {
  for (const [k, v] of [['owner', opts.owner], ['group', opts.group]] as const) {
    if (v !== undefined && !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(v)) throw new Error(`invalid ${k} name ${JSON.stringify(v)}`);
  }
  if (opts.owner && opts.group) return `${opts.owner}:${opts.group}`;
  if (opts.owner) return opts.owner;
  if (opts.group) return `:${opts.group}`;
  return undefined;
}

function sftpCall<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** Write `data` with several requests in flight (SFTP is request/response per chunk). */
async function writeAll(sftp: SFTPWrapper, handle: Buffer, data: Buffer): Promise<void> {
  const CHUNK = 32 * 1024;
  const PARALLEL = 16;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < data.length) {
      const off = next;
      const len = Math.min(CHUNK, data.length - off);
      next += len;
      await sftpCall<void>((cb) => sftp.write(handle, data, off, len, off, (err) => cb(err)));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

async function fsyncIfSupported(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  await sftpCall<void>((cb) => {
    try {
      sftp.ext_openssh_fsync(handle, (err) => cb(err));
    } catch {
      cb(undefined); // fsync@openssh.com not offered
    }
  });
}

/**
 * Ask the server to signal the channel's command. ssh2's `ch.signal()` silently sends nothing
 * once our side of the channel is ended (state 'eof': always, after stdin), so the request goes
 * to the protocol directly while the channel is open. A server without signal support ignores it
 * (OpenSSH >= 7.9 kills the command's process group).
 */
/**
 * A channel's id and ssh2's protocol object, reached into ssh2's internals: ssh2 sends only the
 * standard signal names itself, and no window-change without a pty. Undefined unless the
 * channel is open (or half-closed by our EOF, `eof` true) and the internals look as expected.
 */
interface ChannelProtocol {
  signal?(id: number, sig: string): void;
  windowChange?(id: number, rows: number, cols: number, height: number, width: number): void;
}
function channelProtocol(ch: ClientChannel, eof: boolean): { id: number; protocol: ChannelProtocol } | undefined {
  const c = ch as unknown as { outgoing?: { id?: number; state?: string }; _client?: { _protocol?: ChannelProtocol } };
  const state = c.outgoing?.state;
  if (!(state === 'open' || (eof && state === 'eof')) || typeof c.outgoing?.id !== 'number' || !c._client?._protocol) return undefined;
  return { id: c.outgoing.id, protocol: c._client._protocol };
}

export function sendSignal(ch: ClientChannel, name: string): void {
  try {
    const p = channelProtocol(ch, true);
    if (p?.protocol.signal) p.protocol.signal(p.id, name);
    else ch.signal(name);
  } catch {
    // not supported: closing the channel is all we can do
  }
}

/** Ask the connection keeper to keep this channel's idle shell (see PARK_MAGIC). */
function sendParkRequest(ch: ClientChannel): void {
  try {
    const p = channelProtocol(ch, false);
    p?.protocol.windowChange?.(p.id, 0, 0, PARK_MAGIC, PARK_MAGIC);
  } catch {
    // not parked: the shell ends with the connection
  }
}

function errMessage(e: unknown): string {
  if (e instanceof Error) return oneLine(e.message);
  return oneLine(String(e));
}

function oneLine(s: string): string {
  return s.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' / ');
}
