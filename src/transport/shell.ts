// A persistent remote shell: one session channel per host running `sh -s` (through sudo when
// becoming root), fed one command at a time, so that a command costs one `sh -c` on the host
// instead of a new SSH session channel (sshd forks a session, starts the login shell) plus a
// sudo (reads sudoers, logs, PAM) every time. On a no-op run almost every remote call is a
// short read-only check, and those costs dominated (see bench/README or the commit log).
//
// Protocol: the controller writes one line per command into the shell's stdin:
//
//   sh -c '<command>' </dev/null; __pv=$?; printf '\n%s:e\n' <B> >&2; printf '\n%s:%s\n' <B> "$__pv"
//
// (with stdin: `base64 -d <<'<B>_in' | sh -c '<command>'; ...` followed by the base64 lines and
// the terminator). <B> is 128 random bits drawn per shell, so no output can forge it. The
// command's stdout and stderr flow on the channel's own two streams; each ends at its marker
// line (the leading newline of the marker is ours and removed). `sh -c` per command keeps the
// semantics of a plain exec: its own $$, exit, cd, set, umask, traps and environment stay in it.
//
// Differences from an exec channel, and why they are acceptable:
// - A command killed by a signal reports the shell's 128+N as its code, not a signal name.
// - Commands run one at a time: a caller that finds the shell busy gets an exec channel instead
//   (SshTransport does that), so concurrent commands on a host still run concurrently.
// - A command's timeout ends the shell (its channel is killed and closed, as an exec channel's
//   would be): the result is code null, signal 'TIMEOUT', with the output so far; the next
//   command starts a new shell.
// - Anything a command leaves running with the shell's stdout/stderr open could write after the
//   marker; such a command would also hold an exec channel open forever, so none does.
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { q } from './quote.js';
import type { ExecResult } from './types.js';

/** Find `marker` in a growing byte stream without re-scanning or re-concatenating everything. */
class Collector {
  private chunks: Buffer[] = [];
  private size = 0;
  /** The last bytes seen, kept so a marker split across chunks is still found. */
  private tail = Buffer.alloc(0);
  done = false;
  /** Everything before the marker (set once done). */
  body = Buffer.alloc(0);
  /** The rest of the marker line (the exit code on stdout), once done. */
  rest = '';

  constructor(private readonly marker: Buffer) {}

  reset(): void {
    this.chunks = [];
    this.size = 0;
    this.tail = Buffer.alloc(0);
    this.done = false;
    this.body = Buffer.alloc(0);
    this.rest = '';
  }

  /** Everything received so far (for a command cut short). */
  partial(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Feed data; `done` turns true once the marker line is complete. */
  push(d: Buffer): void {
    if (this.done) return; // nothing may follow a marker until the next command
    this.chunks.push(d);
    this.size += d.length;
    const window = Buffer.concat([this.tail, d]);
    const i = window.indexOf(this.marker);
    if (i >= 0) {
      const all = Buffer.concat(this.chunks);
      const at = this.size - window.length + i;
      const after = all.subarray(at + this.marker.length);
      const nl = after.indexOf(0x0a);
      if (nl < 0) {
        // The marker's own line is not complete yet: wait for its newline.
        this.tail = window.subarray(Math.max(0, window.length - this.marker.length - 32));
        return;
      }
      this.body = all.subarray(0, at);
      this.rest = after.subarray(0, nl).toString('utf8');
      this.done = true;
      return;
    }
    this.tail = window.subarray(Math.max(0, window.length - this.marker.length - 32));
  }
}

interface Pending {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
}

export class RemoteShell {
  private readonly boundary = randomBytes(16).toString('hex');
  private readonly out: Collector;
  private readonly err: Collector;
  private current?: Pending;
  private closedReason?: string;
  /** Commands run through this shell (instrumentation). */
  commands = 0;

  /**
   * `ch` runs `sh -s` (or `sudo ... sh -s`); `ready()` must resolve before the first run().
   * `kill` ends the channel's process when a command times out (a KILL signal request).
   */
  constructor(
    private readonly ch: ClientChannel,
    private readonly kill: (ch: ClientChannel) => void = () => {},
  ) {
    this.out = new Collector(Buffer.from(`\n${this.boundary}:`));
    this.err = new Collector(Buffer.from(`\n${this.boundary}:`));
    ch.on('data', (d: Buffer) => {
      this.out.push(d);
      this.settle();
    });
    ch.stderr.on('data', (d: Buffer) => {
      this.err.push(d);
      this.settle();
    });
    ch.on('close', () => this.fail('the remote shell exited'));
    ch.on('error', (e: Error) => this.fail(e.message));
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  get alive(): boolean {
    return this.closedReason === undefined;
  }

  /** Wait for the shell to answer (sudo accepted, sh started). Rejects when it exited instead. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.current = undefined;
        reject(new Error(`the remote shell did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      this.current = {
        resolve: (r) => {
          clearTimeout(timer);
          if (r.code === 0) resolve();
          else reject(new Error(`the remote shell did not start: ${r.stderr.trim() || `exit ${r.code}`}`));
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.out.reset();
      this.err.reset();
      this.ch.write(`printf '\\n%s:e\\n' ${this.boundary} >&2; printf '\\n%s:%s\\n' ${this.boundary} 0\n`);
    });
  }

  /** Run one command (shell text) as `sh -c`, with optional stdin. Only when !busy. */
  run(text: string, stdin?: string | Buffer, timeoutMs?: number): Promise<ExecResult> {
    if (this.current) return Promise.reject(new Error('remote shell busy'));
    if (this.closedReason) return Promise.reject(new Error(this.closedReason));
    this.commands++;
    const end = `__pv=$?; printf '\\n%s:e\\n' ${this.boundary} >&2; printf '\\n%s:%s\\n' ${this.boundary} "$__pv"\n`;
    let line: string;
    if (stdin === undefined || stdin.length === 0) {
      line = `sh -c ${q(text)} </dev/null; ${end}`;
    } else {
      const b64 = (Buffer.isBuffer(stdin) ? stdin : Buffer.from(stdin, 'utf8')).toString('base64');
      const lines: string[] = [];
      for (let i = 0; i < b64.length; i += 65536) lines.push(b64.slice(i, i + 65536));
      line = `base64 -d <<'${this.boundary}_in' | sh -c ${q(text)}; ${end}${lines.join('\n')}\n${this.boundary}_in\n`;
    }
    return new Promise<ExecResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const current: Pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.current = current;
      this.out.reset();
      this.err.reset();
      this.ch.write(line);
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => {
          if (this.current !== current) return;
          this.current = undefined;
          this.closedReason ??= 'a command timed out';
          resolve({ stdout: this.out.partial().toString('utf8'), stderr: this.err.partial().toString('utf8'), code: null, signal: 'TIMEOUT' });
          try {
            this.kill(this.ch);
            this.ch.close();
          } catch {
            /* already gone */
          }
        }, timeoutMs);
      }
    });
  }

  /**
   * Hand the idle shell back to the connection keeper (./persist.ts) instead of ending it: the
   * next run's root shell is this one, without a new channel and sudo. `request` sends the
   * keeper's park request on the channel. Only when idle; afterwards the shell is closed here.
   */
  park(request: (ch: ClientChannel) => void): boolean {
    if (this.current || this.closedReason) return false;
    this.closedReason = 'the remote shell was parked';
    request(this.ch);
    return true;
  }

  close(): void {
    if (this.closedReason === 'the remote shell was parked') return;
    this.closedReason ??= 'the remote shell was closed';
    try {
      this.ch.end();
    } catch {
      /* already gone */
    }
  }

  private settle(): void {
    if (!this.current || !this.out.done || !this.err.done) return;
    const p = this.current;
    this.current = undefined;
    const code = /^\d+$/.test(this.out.rest) ? Number(this.out.rest) : null;
    const stdout = this.out.body.toString('utf8');
    const stderr = this.err.body.toString('utf8');
    this.out.reset();
    this.err.reset();
    p.resolve(code === null ? { stdout, stderr, code: null, signal: 'UNKNOWN' } : { stdout, stderr, code });
  }

  private fail(reason: string): void {
    this.closedReason ??= reason;
    const p = this.current;
    this.current = undefined;
    p?.reject(new Error(reason));
  }
}
