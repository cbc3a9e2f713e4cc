// Becoming root with sudo. Without a password: `sudo -n` (never a prompt; a missing password
// fails at once, and the message says where to give one). With a password: sudo prompts on
// stderr with a prompt of ours, we answer once on stdin, and the command's own stdin is sent only
// after it printed our start marker, so the password is never written into the command (when
// NOPASSWD applies or credentials are cached). A second prompt means the password is wrong: the
// command ends there, "incorrect sudo password", and is not tried again.
import { randomBytes } from 'node:crypto';
import { sh } from './quote.js';
import type { ExecResult } from './types.js';

export const INCORRECT_PASSWORD = 'incorrect sudo password';
export const PASSWORD_REQUIRED_HINT = 'sudo needs a password: give it with -K (--ask-become-pass) or PROVISION_BECOME_PASS';

/** The command line that runs `text` (sh text) as root. */
export function sudoCommand(text: string, password: string | undefined): { command: string; answer?: PasswordAnswer } {
  if (password === undefined) return { command: sh`sudo -n -H -- sh -c ${text}`.text };
  const nonce = randomBytes(8).toString('hex');
  const prompt = `[provision-become-${nonce}] password: `;
  const marker = `provision-become-ok-${nonce}`;
  return { command: sh`sudo -S -p ${prompt} -H -- sh -c ${`echo ${marker}; ${text}`}`.text, answer: new PasswordAnswer(password, prompt, marker) };
}

/** A `sudo -n` that failed for want of a password: the result says how to give one. */
export function explainSudoFailure(r: ExecResult): ExecResult {
  if (r.code === 0 || !/sudo: (a password is required|a terminal is required)/.test(r.stderr)) return r;
  return { ...r, stderr: `${r.stderr.replace(/\n?$/, '\n')}provision: ${PASSWORD_REQUIRED_HINT}\n` };
}

/** The password side of one `sudo -S` command: fed the channel's output, says what to send. */
export class PasswordAnswer {
  /** The start marker arrived: what follows is the command's own output. */
  started = false;
  /** sudo asked a second time: the password is wrong. */
  refused = false;
  private preOut = Buffer.alloc(0);
  private preErr = Buffer.alloc(0);
  private prompts = 0;
  private readonly markerLine: Buffer;
  private readonly promptBuf: Buffer;

  constructor(
    private readonly password: string,
    prompt: string,
    marker: string,
  ) {
    this.markerLine = Buffer.from(marker + '\n');
    this.promptBuf = Buffer.from(prompt);
  }

  /** Stdout before the start: held until the marker; returns the command's output once started. */
  stdout(d: Buffer): Buffer | undefined {
    if (this.started) return d;
    this.preOut = Buffer.concat([this.preOut, d]);
    const i = this.preOut.indexOf(this.markerLine);
    if (i < 0) return undefined;
    this.started = true;
    const out = Buffer.concat([this.preOut.subarray(0, i), this.preOut.subarray(i + this.markerLine.length)]);
    this.preOut = Buffer.alloc(0);
    return out;
  }

  /** Stderr before the start: prompts removed; returns what to write to sudo ('' for nothing). */
  stderr(d: Buffer): string {
    if (this.started) return '';
    this.preErr = Buffer.concat([this.preErr, d]);
    let reply = '';
    let i: number;
    while ((i = this.preErr.indexOf(this.promptBuf)) >= 0) {
      this.preErr = Buffer.concat([this.preErr.subarray(0, i), this.preErr.subarray(i + this.promptBuf.length)]);
      if (++this.prompts === 1) reply = this.password + '\n';
      else this.refused = true;
    }
    return reply;
  }

  /** Output held back before the start (sudo's own messages), once the command ended. */
  held(): { out: Buffer; err: Buffer } {
    const held = { out: this.preOut, err: this.preErr };
    this.preOut = this.preErr = Buffer.alloc(0);
    return held;
  }
}
