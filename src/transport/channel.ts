// Session channels on an ssh2 client, through its public API only: the one open-with-retry loop
// (the transport's and the keeper's), an exec whose exit status cannot be missed, the liveness
// probe and the signal a timeout sends. test/ssh2-api.test.ts fails if ssh2 changes under them.
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';

export type SshClient = InstanceType<typeof ssh2.Client>;

/** Attempts to open a channel the server refuses (sshd frees a session slot a little after a close). */
export const OPEN_ATTEMPTS = 30;

export type OpenCallback<T> = (err: Error | undefined, ch: T) => void;

/**
 * Open a session channel, retrying while the server refuses it ("channel open failure": with a
 * full cap a new open can race the old close). `stop()` returns a reason to give up early (the
 * connection is lost); `onRetry` counts retries. Rejects with the last error.
 */
export async function openWithRetry<T>(open: (cb: OpenCallback<T>) => void, stop: () => string | undefined = () => undefined, onRetry?: () => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await new Promise<T>((resolve, reject) => {
        try {
          open((err, ch) => (err ? reject(err) : resolve(ch)));
        } catch (e) {
          reject(e as Error);
        }
      });
    } catch (e) {
      const refused = /channel open failure/i.test(errMessage(e));
      if (!refused || attempt >= OPEN_ATTEMPTS || stop() !== undefined) throw e;
      onRetry?.();
      await new Promise((r) => setTimeout(r, Math.min(10 * attempt, 100)));
    }
  }
}

/** How a command ended: `[code, signal, coreDumped, description]` as ssh2's 'exit' event gives it. */
export type ExitInfo = [number | null, string?, boolean?, string?];

/**
 * `client.exec` with the exit status listened for inside ssh2's callback: a fast command's data,
 * exit-status and close can arrive in the same read as the open confirmation, and ssh2 emits
 * 'exit' while parsing it, before an awaiting caller resumes (data is buffered; 'exit' is not).
 */
export function execTracked(client: SshClient, command: string, exits: WeakMap<ClientChannel, ExitInfo>, cb: OpenCallback<ClientChannel>): void {
  client.exec(command, (err, ch) => {
    if (!err) ch.on('exit', (...info: ExitInfo) => exits.set(ch, info));
    cb(err, ch);
  });
}

/**
 * Does the server still answer? ssh2 has no public keepalive call, so this sends a global request
 * that needs no process on the server and always gets a reply: cancelling a TCP forward that was
 * never asked for (sshd answers "request failure"). Either answer proves the connection alive.
 */
export function pingServer(client: SshClient, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    try {
      client.unforwardIn('127.0.0.1', 0, () => {
        clearTimeout(timer);
        resolve(true);
      });
    } catch {
      clearTimeout(timer);
      resolve(false);
    }
  });
}

/**
 * Ask the server to kill the channel's command (OpenSSH >= 7.9 honours signal requests). ssh2
 * sends a signal only while our side of the channel is open: a command that may need it keeps
 * its stdin open (see exec.ts). Either way the channel is closed after.
 */
export function killChannel(ch: ClientChannel): void {
  try {
    ch.signal('KILL');
  } catch {
    // not supported: closing the channel is all we can do
  }
  ch.close();
}

export function errMessage(e: unknown): string {
  return oneLine(e instanceof Error ? e.message : String(e));
}

export function oneLine(s: string): string {
  return s.trim().split('\n').map((l) => l.trim()).filter(Boolean).join(' / ');
}
