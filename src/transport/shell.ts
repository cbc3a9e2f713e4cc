// A persistent remote shell: one session channel per host running `sh -s` (through sudo when
// becoming root), fed one command at a time, so that a command costs one `sh -c` on the host
// instead of a new SSH session channel (sshd forks a session, starts the login shell) plus a
// sudo (reads sudoers, logs, PAM) every time. On a no-op run almost every remote call is a
// short read-only check, and those costs dominated.
//
// Protocol: the controller writes one line per command into the shell's stdin:
//
//   setsid sh -c '<command>' </dev/null & __pv=$!; wait $__pv; <status> ; <markers>
//
// (with stdin: `base64 -d <<'<B>_in' | setsid sh -c '<command>' & ...` followed by the base64
// lines and the terminator). <B> is 128 random bits drawn per shell, so no output can forge it.
// The command's stdout and stderr flow on the channel's own two streams; each ends at its marker
// line `<B>:<exit code>:<left>` (the leading newline of the marker is ours and removed). `sh -c`
// per command keeps the semantics of a plain exec: its own $$, exit, cd, set, umask, traps and
// environment stay in it.
//
// A command runs in a process group of its own (setsid), so the shell can tell whether it left
// anything running (`kill -0 -<group>`): such a job still holds the shell's stdout and stderr
// and could write into a later command's output. Then <left> is 1 and the shell is closed after
// this command (the next one starts a new shell), as an exec channel's end would cut it off.
//
// Differences from an exec channel, and why they are acceptable:
// - A command killed by a signal reports the shell's 128+N as its code, not a signal name.
// - Commands run one at a time: a caller that finds the shell busy gets an exec channel instead
//   (SshTransport does that), so concurrent commands on a host still run concurrently.
// - A command's timeout ends the shell (its channel is killed and closed, as an exec channel's
//   would be): the result is code null, signal 'TIMEOUT', with the output so far; the next
//   command starts a new shell.
// - A job that leaves its process group (a daemon calling setsid itself) and keeps the shell's
//   stdout open is not seen; daemons detach their output, and an exec channel would hang on it.
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { killChannel } from './channel.js';
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
  /** The rest of the marker line (`<exit code>:<left>` on stdout), once done. */
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

  /** `ch` runs `sh -s` (or `sudo ... sh -s`); `ready()` must resolve before the first run(). */
  constructor(private readonly ch: ClientChannel) {
    this.out = new Collector(Buffer.from(`\n${this.boundary}:`));
    this.err = new Collector(Buffer.from(`\n${this.boundary}:`));
    // Output while no command runs belongs to none: dropped.
    ch.on('data', (d: Buffer) => {
      if (!this.current) return;
      this.out.push(d);
      this.settle();
    });
    ch.stderr.on('data', (d: Buffer) => {
      if (!this.current) return;
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
      // setsid (util-linux, busybox) when the host has it; without it nothing is detected.
      const setsid = `if command -v setsid >/dev/null 2>&1; then __pvs=setsid; else __pvs=; fi`;
      this.ch.write(`${setsid}; printf '\\n%s:e\\n' ${this.boundary} >&2; printf '\\n%s:%s\\n' ${this.boundary} 0:0\n`);
    });
  }

  /** Run one command (shell text) as `sh -c`, with optional stdin. Only when !busy. */
  run(text: string, stdin?: string | Buffer, timeoutMs?: number): Promise<ExecResult> {
    if (this.current) return Promise.reject(new Error('remote shell busy'));
    if (this.closedReason) return Promise.reject(new Error(this.closedReason));
    this.commands++;
    const end =
      `__pv=$!; wait $__pv; __pr=$?; __pl=0; kill -0 -$__pv 2>/dev/null && __pl=1; ` +
      `printf '\\n%s:e\\n' ${this.boundary} >&2; printf '\\n%s:%s:%s\\n' ${this.boundary} "$__pr" "$__pl"\n`;
    let line: string;
    if (stdin === undefined || stdin.length === 0) {
      line = `$__pvs sh -c ${q(text)} </dev/null & ${end}`;
    } else {
      const b64 = (Buffer.isBuffer(stdin) ? stdin : Buffer.from(stdin, 'utf8')).toString('base64');
      const lines: string[] = [];
      for (let i = 0; i < b64.length; i += 65536) lines.push(b64.slice(i, i + 65536));
      line = `base64 -d <<'${this.boundary}_in' | $__pvs sh -c ${q(text)} & ${end}${lines.join('\n')}\n${this.boundary}_in\n`;
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
            killChannel(this.ch);
          } catch {
            /* already gone */
          }
        }, timeoutMs);
      }
    });
  }

  close(why = 'the remote shell was closed'): void {
    this.closedReason ??= why;
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
    const m = /^(\d+):([01])$/.exec(this.out.rest);
    const stdout = this.out.body.toString('utf8');
    const stderr = this.err.body.toString('utf8');
    this.out.reset();
    this.err.reset();
    // A job left running could write into the next command: this shell takes no more.
    // Closed, not ended: sshd would keep the channel open while the job holds its output.
    if (m?.[2] === '1') {
      this.closedReason ??= 'a command left a job running';
      this.ch.close();
    }
    p.resolve(m ? { stdout, stderr, code: Number(m[1]) } : { stdout, stderr, code: null, signal: 'UNKNOWN' });
  }

  private fail(reason: string): void {
    this.closedReason ??= reason;
    const p = this.current;
    this.current = undefined;
    p?.reject(new Error(reason));
  }
}
