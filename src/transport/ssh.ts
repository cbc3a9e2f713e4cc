// SshTransport: one SSH connection per host, shared by every command and upload of a run, with a
// cap on open session channels. The connection is made here (./connect.ts) or handed over by the
// connection keeper (./persist.ts); from then on both are the same ssh2 client and take the same
// path: commands on a persistent shell (./shell-pool.ts) or their own channel (./exec.ts), sudo
// (./become.ts), uploads (./upload.ts).
import type { Duplex } from 'node:stream';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { HostError } from '../errors.js';
import { INCORRECT_PASSWORD, explainSudoFailure, sudoCommand, type PasswordAnswer } from './become.js';
import { errMessage, oneLine, pingServer, type SshClient } from './channel.js';
import { connectSsh } from './connect.js';
import { LinkLost, openChannel, runExec, type Link } from './exec.js';
import type { PersistClient } from './persist.js';
import { Shell, sh } from './quote.js';
import { Semaphore } from './semaphore.js';
import { ShellPool, type ShellKind } from './shell-pool.js';
import type { ConnectionSpec, ExecOptions, ExecResult, PutOptions, Transport } from './types.js';
import { upload } from './upload.js';

/** OpenSSH's MaxSessions defaults to 10: stay below it. */
export const DEFAULT_MAX_CHANNELS = 8;
/** Larger stdin goes over its own exec channel: the persistent shell reads it as base64 text. */
const SHELL_STDIN_MAX = 256 * 1024;

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
   * Run commands through persistent remote shells (./shell.ts) instead of an exec channel (and
   * a sudo) each. Default true; commands with a timeout, a become password or a busy shell
   * still get their own channel.
   */
  persistentShell?: boolean;
  /**
   * Connect through the connection keeper (./persist.ts): reuse the connection a previous run
   * left open, and leave this one open for the next. Without it, a direct connection.
   */
  persist?: PersistClient;
  /** Called once when an established connection is lost (the keeper drops it then). */
  onLost?: (reason: string) => void;
  /** Called when the keeper itself cannot be used and the transport connects directly instead. */
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

export class SshTransport implements Transport {
  readonly host: string;
  readonly spec: ConnectionSpec;
  /** Milliseconds from the start of connect() to an authenticated session (jump hosts included). */
  connectMs?: number;
  /** Through the connection keeper: true when it reused a connection a previous run left open. */
  reused?: boolean;

  private readonly opts: SshTransportOptions;
  private readonly channels: Semaphore;
  private readonly shells: ShellPool;
  private client?: SshClient;
  private connecting?: Promise<void>;
  private closed = false;
  private lostReason?: string;
  private readonly watchers = new Set<(reason: string) => void>();
  /** Connections reconnect() dropped. */
  private readonly dropped = new WeakSet<SshClient>();
  private sftpP?: Promise<SFTPWrapper>;
  private ownJump?: SshTransport;
  private rootP?: Promise<boolean>;
  private openRetries = 0;
  /** sudo refused the become password once: it is not tried again on this connection. */
  private becomeRefused = false;

  constructor(spec: ConnectionSpec, opts: SshTransportOptions = {}) {
    this.spec = spec;
    this.host = spec.host;
    this.opts = opts;
    const max = opts.maxChannels ?? DEFAULT_MAX_CHANNELS;
    if (!Number.isInteger(max) || max < 2) throw new Error(`maxChannels must be an integer >= 2, got ${max}`);
    this.channels = new Semaphore(max, opts.onChannelCount);
    this.shells = new ShellPool({
      link: async () => this.link(await this.ready()),
      channels: this.channels,
      startTimeoutMs: Math.max(spec.connectTimeoutMs, 5000),
      debug: opts.debug && ((m) => opts.debug!(`${this.label}: ${m}`)),
    });
  }

  /** `user@address:port` */
  get label(): string {
    return `${this.spec.user}@${this.spec.address}:${this.spec.port}`;
  }

  get channelStats(): ChannelStats {
    const s = this.channels.stats;
    return { open: s.active, peak: s.peak, opened: s.total, waiting: s.waiting, openRetries: this.openRetries };
  }

  /** The persistent shells' use so far (instrumentation): how often they were started, commands run. */
  get shellStats(): { starts: number; commands: number } {
    return this.shells.stats;
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
    const shell = await this.freeShell(sudo, root, opts);
    // Checked again with no await before run(): two commands started together both saw the
    // shell free; the first to get here takes it, the other uses an exec channel.
    if (shell && shell.alive && !shell.busy) {
      const client = this.client;
      try {
        return await shell.run(cmd.text, opts.stdin, opts.timeoutMs);
      } catch (e) {
        if (this.lostReason) throw this.lostError(this.lostReason);
        if (client && this.dropped.has(client)) throw this.lostError('dropped to reconnect');
        throw new HostError(this.host, 'failed', `${errMessage(e)} while running a command on ${this.label}`);
      }
    }
    // A reuseShell command is sh text: through an exec channel too it runs in sh, not in
    // whatever the login shell is (sudo's `sh -c` does the same for root).
    if (!sudo) return this.run(opts.reuseShell ? sh`sh -c ${cmd.text}`.text : cmd.text, opts);
    if (this.becomeRefused) return { stdout: '', stderr: `${INCORRECT_PASSWORD}\n`, code: 1 };
    const { command, answer } = sudoCommand(cmd.text, this.spec.becomePassword);
    const r = await this.run(command, opts, answer);
    if (answer?.refused) this.becomeRefused = true;
    return explainSudoFailure(r);
  }

  async put(path: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    await this.ready();
    const sudo = (opts.sudo ?? this.spec.become) && !(await this.isRoot());
    const target = {
      host: this.host,
      sftp: () => this.sftp(),
      run: (cmd: Shell) => this.run(cmd.text, {}),
      runRoot: (cmd: Shell, stdin: Buffer) => this.exec(cmd, { sudo: true, stdin }),
      isRoot: () => this.isRoot(),
    };
    await upload(target, path, content, opts, sudo);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.connecting) await this.connecting.catch(() => undefined);
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
    await this.shells.closeAll();
    if (this.ownJump) await this.ownJump.close();
  }

  /**
   * Drop this connection and connect again with the same settings (the reboot operation: the
   * host went down and came back). Commands still running on the old connection fail; the
   * persistent shells start anew. Rejects as connect() does while the host is not back.
   */
  async reconnect(): Promise<void> {
    if (this.closed) throw new HostError(this.host, 'failed', 'transport already closed');
    await this.connecting?.catch(() => undefined);
    const old = this.client;
    if (old) this.dropped.add(old);
    this.client = undefined;
    this.connecting = undefined;
    this.sftpP = undefined;
    for (const fail of [...this.watchers]) fail('dropped to reconnect');
    old?.end();
    await this.shells.reset();
    this.lostReason = undefined;
    return this.connect();
  }

  /** Start the persistent root shell now, when root commands would use it (see exec). */
  async warm(): Promise<void> {
    try {
      await this.ready();
      if (!this.spec.become) return;
      const root = await this.isRoot();
      if (root || this.spec.becomePassword === undefined) await this.shells.get(root ? 'plain' : 'sudo');
    } catch {
      // the command that needs root reports it
    }
  }

  /** Does the server still answer within `timeoutMs`? (./channel.ts pingServer: no process on the host) */
  async ping(timeoutMs: number): Promise<boolean> {
    const client = await this.ready().catch(() => undefined);
    return client !== undefined && (await pingServer(client, timeoutMs)) && !this.lostReason;
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

  /** Open a direct-tcpip channel through this host (used when it is a jump host). */
  async forwardOut(dstHost: string, dstPort: number): Promise<ClientChannel> {
    const client = await this.ready();
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, dstHost, dstPort, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  /** The connected ssh2 client itself: the connection keeper relays channels to it. */
  sshClient(): Promise<SshClient> {
    return this.ready();
  }

  // -------------------------------------------------------------------------------------------

  private async doConnect(): Promise<void> {
    const t0 = performance.now();
    const client = (await this.attachKept()) ?? (await this.connectDirect());
    // A connection reconnect() dropped is replaced: its end is not this transport's loss.
    client.on('error', (err: Error) => !this.dropped.has(client) && this.lost(errMessage(err)));
    client.on('close', () => {
      if (this.dropped.has(client)) return;
      this.lost('connection closed');
      this.client = undefined;
    });
    this.client = client;
    if (this.closed) {
      client.end();
      throw new HostError(this.host, 'failed', 'transport closed while connecting');
    }
    this.connectMs = performance.now() - t0;
  }

  /** The keeper's connection, when there is a keeper: its failure to connect is this host's, once. */
  private async attachKept(): Promise<SshClient | undefined> {
    if (!this.opts.persist) return undefined;
    let attached;
    try {
      attached = await this.opts.persist.attach(this.spec);
    } catch (e) {
      if (e instanceof HostError) throw e;
      this.opts.onPersistUnavailable?.(errMessage(e));
      return undefined;
    }
    for (const w of attached.status.warnings) this.opts.warn?.(w);
    this.reused = attached.status.reused;
    const uid = attached.status.uid;
    if (typeof uid === 'number' && this.spec.user !== 'root') this.rootP = Promise.resolve(uid === 0);
    return attached.client;
  }

  private async connectDirect(): Promise<SshClient> {
    const sock = this.spec.proxyJump ? await this.viaJump(this.spec.proxyJump) : undefined;
    try {
      return await connectSsh(this.spec, { sock, debug: this.opts.debug, onCheckingOff: () => this.warnOffOnce() });
    } catch (e) {
      throw this.unreachable(errMessage(e));
    }
  }

  /** A stream to the target through its jump host (shared with other targets when given). */
  private async viaJump(spec: ConnectionSpec): Promise<Duplex> {
    const jump = this.opts.jump ?? (this.ownJump = new SshTransport(spec, { ...this.opts, jump: undefined, onChannelCount: undefined }));
    try {
      await jump.connect();
    } catch (e) {
      throw this.unreachable(`jump host ${jump.label}: ${errMessage(e)}`);
    }
    try {
      return await jump.forwardOut(this.spec.address, this.spec.port);
    } catch (e) {
      throw this.unreachable(`jump host ${jump.label} cannot reach ${this.spec.address}:${this.spec.port}: ${errMessage(e)}`);
    }
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
    for (const fail of [...this.watchers]) fail(this.lostReason);
  }

  private async ready(): Promise<SshClient> {
    if (this.closed) throw new HostError(this.host, 'failed', 'transport already closed');
    await this.connect();
    if (this.lostReason || !this.client) throw this.lostError(this.lostReason ?? 'closed');
    return this.client;
  }

  private link(client: SshClient): Link {
    return {
      client,
      lostReason: () => this.lostReason,
      watch: (fail) => {
        this.watchers.add(fail);
        return () => this.watchers.delete(fail);
      },
      retried: () => this.openRetries++,
    };
  }

  private unreachable(message: string): HostError {
    return new HostError(this.host, 'unreachable', message);
  }

  private lostError(reason: string): HostError {
    return this.unreachable(`connection to ${this.label} lost: ${reason}`);
  }

  /** A channel's failure as this host's error: lost connection (unreachable) or a refused channel. */
  private channelError(e: unknown, what: string): HostError {
    if (e instanceof HostError) return e;
    if (e instanceof LinkLost) return this.lostError(e.message);
    return new HostError(this.host, 'failed', `cannot open a channel for ${what} on ${this.label}: ${errMessage(e)}`);
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

  /**
   * A free persistent shell for this command, if it may use one: through sudo (without a
   * password) for root; as the login user for a root login's commands and for reuseShell ones.
   */
  private async freeShell(sudo: boolean, root: boolean, opts: ExecOptions) {
    if (this.opts.persistentShell === false || (opts.stdin?.length ?? 0) > SHELL_STDIN_MAX) return undefined;
    const kind: ShellKind | undefined = sudo ? (this.spec.becomePassword === undefined ? 'sudo' : undefined) : root || opts.reuseShell ? 'plain' : undefined;
    if (!kind) return undefined;
    try {
      return await this.shells.free(kind);
    } catch (e) {
      throw this.channelError(e, 'the remote shell');
    }
  }

  private async run(text: string, opts: ExecOptions, answer?: PasswordAnswer): Promise<ExecResult> {
    const client = await this.ready();
    const release = await this.channels.acquire();
    try {
      return await runExec(this.link(client), text, opts, answer);
    } catch (e) {
      throw this.channelError(e, 'a command');
    } finally {
      release();
    }
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpP ??= (async () => {
      const client = await this.ready();
      // The SFTP session is a session channel too: it holds one slot while open.
      const release = await this.channels.acquire();
      let s: SFTPWrapper;
      try {
        s = await openChannel<SFTPWrapper>(this.link(client), (cb) => client.sftp(cb));
      } catch (e) {
        release();
        this.sftpP = undefined;
        throw this.channelError(e, 'SFTP');
      }
      s.on('close', () => {
        release();
        this.sftpP = undefined;
      });
      return s;
    })();
    return this.sftpP;
  }
}
