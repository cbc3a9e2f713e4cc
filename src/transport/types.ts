// The contract between the runner/ops and a connection to one host.
import type { Shell } from './quote.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when the remote process died from a signal (see `signal`). */
  code: number | null;
  signal?: string;
}

export interface ExecOptions {
  /** Run through sudo (become). Defaults to the host's `become` setting. */
  sudo?: boolean;
  /** Bytes written to the command's stdin. */
  stdin?: string | Buffer;
  /** Kill the channel after this many ms (reported as code null, signal 'TIMEOUT'). */
  timeoutMs?: number;
  /**
   * Without root too, run in the host's persistent shell when it is free (a command as root
   * uses the root shell anyway): no new SSH session for it. For commands that need nothing an
   * exec channel gives: in the shell a signal shows as exit 128+N, and the shell is the parent.
   * The command is POSIX sh text: over an exec channel it is run by `sh -c`, not the login shell.
   */
  reuseShell?: boolean;
}

export interface PutOptions {
  /** Octal mode as a string ("0644"). Applied before the rename. */
  mode?: string;
  owner?: string;
  group?: string;
  /** Write as root via sudo. Defaults to the host's `become` setting. */
  sudo?: boolean;
}

/** One connection to one host, shared by every command and upload of a run. */
export interface Transport {
  readonly host: string;
  connect(): Promise<void>;
  /** Run a command built with `sh`/`raw` (never a pasted string). */
  exec(cmd: Shell, opts?: ExecOptions): Promise<ExecResult>;
  /** Atomically write a file: temp file in the target directory, mode/owner, then rename. */
  put(path: string, content: string | Buffer, opts?: PutOptions): Promise<void>;
  close(): Promise<void>;
  /**
   * Optional: get ready for root commands now (e.g. start the persistent root shell), so the
   * first one does not pay for it. Never rejects; a failure shows on the command that needs it.
   */
  warm?(): Promise<void>;
  /**
   * Optional: does the connection turn out lost within `ms`? Asked after a task failed: a
   * command killed as its host powers off can report "Killed" just before the connection
   * drops, and that host is unreachable, not failed.
   */
  lostWithin?(ms: number): Promise<boolean>;
  /**
   * Optional: drop the connection and connect again with the same settings (after a reboot).
   * Rejects while the host cannot be reached; the caller retries until its own deadline.
   */
  reconnect?(): Promise<void>;
}

/** How to reach a host, resolved from inventory vars and ~/.ssh/config. */
export interface ConnectionSpec {
  host: string; // inventory name
  address: string; // ansible_host or HostName
  port: number;
  user: string;
  privateKeyFiles: string[];
  become: boolean;
  becomePassword?: string;
  /**
   * SSH password (ansible_password, or the value `-k/--ask-pass` read): tried after the agent and
   * the key files, as `password` and as `keyboard-interactive` answers. Never printed or logged.
   */
  password?: string;
  /** "user@host:port" of a jump host (ProxyJump), resolved recursively. */
  proxyJump?: ConnectionSpec;
  hostKeyPolicy: 'strict' | 'accept-new' | 'off';
  /** known_hosts files read, in order; `accept-new` appends to the first. */
  knownHostsFiles: string[];
  connectTimeoutMs: number;
  /** ssh-agent socket (SSH_AUTH_SOCK or IdentityAgent); tried before the key files. */
  agent?: string;
  /** Name to look the host key up under instead of the address (ssh_config HostKeyAlias). */
  hostKeyAlias?: string;
  /** SSH-level keepalive interval (default 15000; 0 disables). */
  keepaliveIntervalMs?: number;
}
