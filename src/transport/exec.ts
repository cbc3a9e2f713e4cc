// One command on its own exec channel: output collected, exit status or signal, a timeout that
// kills the command, and sudo's password prompt answered (./become.ts). The connection's loss
// fails the command as unreachable; a channel the server refuses is retried (./channel.ts).
import type { ClientChannel } from 'ssh2';
import type { PasswordAnswer } from './become.js';
import { INCORRECT_PASSWORD } from './become.js';
import { execTracked, killChannel, openWithRetry, type ExitInfo, type SshClient } from './channel.js';
import type { ExecOptions, ExecResult } from './types.js';

/** What a command needs from its connection. */
export interface Link {
  client: SshClient;
  /** Why the connection is gone, once it is. */
  lostReason(): string | undefined;
  /** Call `fail` if the connection is lost from now on; returns the unsubscribe. */
  watch(fail: (reason: string) => void): () => void;
  /** A channel open the server refused was retried (instrumentation). */
  retried(): void;
}

/** Thrown when the connection went away under a command. */
export class LinkLost extends Error {}

const exits = new WeakMap<ClientChannel, ExitInfo>();

/**
 * Run `command` (a whole command line for the login shell). A command with a timeout and no
 * stdin keeps our side of the channel open (its stdin is /dev/null instead), so that the KILL
 * signal request can still be sent: ssh2 sends none after our EOF.
 */
export async function runExec(link: Link, command: string, opts: ExecOptions, answer?: PasswordAnswer): Promise<ExecResult> {
  const timeout = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? opts.timeoutMs : undefined;
  const keepOpen = timeout !== undefined && opts.stdin === undefined && !answer;
  const text = keepOpen ? `{ ${command}\n} </dev/null` : command;
  const ch = await openChannel<ClientChannel>(link, (cb) => execTracked(link.client, text, exits, cb));
  return collect(link, ch, opts, { timeout, keepOpen, answer });
}

/** Open a channel, failing as lost when the connection goes meanwhile. */
export async function openChannel<T>(link: Link, open: (cb: (err: Error | undefined, ch: T) => void) => void): Promise<T> {
  const reason = link.lostReason();
  if (reason !== undefined) throw new LinkLost(reason);
  let unwatch = (): void => undefined;
  const lost = new Promise<never>((_, reject) => (unwatch = link.watch((why) => reject(new LinkLost(why)))));
  lost.catch(() => undefined);
  try {
    return await Promise.race([openWithRetry(open, link.lostReason, link.retried), lost]);
  } finally {
    unwatch();
  }
}

interface Collect {
  timeout?: number;
  keepOpen: boolean;
  answer?: PasswordAnswer;
}

function collect(link: Link, ch: ClientChannel, opts: ExecOptions, c: Collect): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const unwatch = link.watch((why) => {
      clearTimeout(timer);
      reject(new LinkLost(why));
    });
    const sendStdin = (): void => {
      if (opts.stdin !== undefined) ch.end(opts.stdin);
      else if (!c.keepOpen) ch.end();
    };
    const answer = c.answer;
    let begun = !answer;
    ch.on('data', (d: Buffer) => {
      const mine = answer ? answer.stdout(d) : d;
      if (!mine) return;
      if (!begun) {
        // sudo accepted: its messages so far go first, then the command gets its stdin.
        begun = true;
        err.push(answer!.held().err);
        sendStdin();
      }
      out.push(mine);
    });
    ch.stderr.on('data', (d: Buffer) => {
      if (!answer || answer.started) return void err.push(d);
      const reply = answer.stderr(d);
      if (reply) ch.write(reply);
      if (answer.refused) killChannel(ch); // tried once: sudo's further prompts are not answered
    });
    ch.on('close', () => {
      clearTimeout(timer);
      unwatch();
      if (answer && !answer.started) {
        const held = answer.held();
        out.push(held.out);
        err.push(held.err);
      }
      try {
        resolve(result(ch, out, err, timedOut, answer, link.lostReason()));
      } catch (e) {
        reject(e as Error);
      }
    });
    ch.on('error', () => undefined);
    if (c.timeout !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        killChannel(ch);
      }, c.timeout);
    }
    if (!answer) sendStdin();
  });
}

function result(ch: ClientChannel, out: Buffer[], err: Buffer[], timedOut: boolean, answer: PasswordAnswer | undefined, lost: string | undefined): ExecResult {
  const stdout = Buffer.concat(out).toString('utf8');
  if (answer?.refused) return { stdout: '', stderr: `${INCORRECT_PASSWORD}\n`, code: 1 };
  const r: ExecResult = { stdout, stderr: Buffer.concat(err).toString('utf8'), code: null };
  if (timedOut) return { ...r, signal: 'TIMEOUT' };
  const exit = exits.get(ch);
  if (!exit) {
    if (lost !== undefined) throw new LinkLost(lost);
    return { ...r, signal: 'UNKNOWN' };
  }
  const [code, sig] = exit;
  if (typeof code === 'number') return { ...r, code };
  return sig ? { ...r, signal: sig.startsWith('SIG') ? sig : `SIG${sig}` } : r;
}
