// The persistent shells of one connection (./shell.ts): one as root through `sudo -n sh -s`,
// one as the login user (`sh -s`, root's own for a root login), each started on first use and
// started again (a few times at most) when a timeout or a stray background job ended it. They
// live as long as the connection of this run, never longer: sudo is asked anew every run.
import type { ClientChannel } from 'ssh2';
import { errMessage } from './channel.js';
import { LinkLost, openChannel, type Link } from './exec.js';
import type { Semaphore } from './semaphore.js';
import { RemoteShell } from './shell.js';

export type ShellKind = 'sudo' | 'plain';

interface Slot {
  p?: Promise<RemoteShell | undefined>;
  /** Starts so far (a shell that dies is reopened, a few times at most). */
  starts: number;
  off: boolean;
  live?: RemoteShell;
}

export interface ShellPoolOptions {
  link(): Promise<Link>;
  channels: Semaphore;
  /** How long a shell may take to answer its first line (sudo, PAM). */
  startTimeoutMs: number;
  debug?: (message: string) => void;
}

const COMMAND: Record<ShellKind, string> = { sudo: 'sudo -n -H -- sh -s', plain: 'sh -s' };
const MAX_STARTS = 3;

export class ShellPool {
  private readonly slots: Record<ShellKind, Slot> = { sudo: { starts: 0, off: false }, plain: { starts: 0, off: false } };
  /** Commands run by shells that have exited. */
  private ended = 0;

  constructor(private readonly o: ShellPoolOptions) {}

  /**
   * The shell of `kind`, free to run a command now; undefined when it cannot be used (sudo
   * refused, busy, too few channel slots: each shell keeps one and at least two stay free for
   * other channels). Then the caller uses an exec channel. Rejects only with LinkLost.
   */
  async free(kind: ShellKind): Promise<RemoteShell | undefined> {
    const shell = await this.get(kind);
    return shell && shell.alive && !shell.busy ? shell : undefined;
  }

  get(kind: ShellKind): Promise<RemoteShell | undefined> {
    const slot = this.slots[kind];
    if (slot.live && !slot.live.alive) {
      slot.live = undefined;
      slot.p = undefined;
    }
    const others = Object.values(this.slots).filter((o) => o !== slot && o.p).length;
    if (slot.off || (!slot.p && this.o.channels.capacity - others < 3)) return Promise.resolve(undefined);
    if (!slot.p) {
      const mine = this.start(kind, slot);
      slot.p = mine.catch((e: unknown) => {
        if (e instanceof LinkLost) throw e;
        slot.off = true;
        return undefined;
      });
      mine.catch(() => undefined);
    }
    return slot.p;
  }

  get stats(): { starts: number; commands: number } {
    const slots = Object.values(this.slots);
    return { starts: slots.reduce((n, s) => n + s.starts, 0), commands: slots.reduce((n, s) => n + (s.live?.commands ?? 0), this.ended) };
  }

  async closeAll(): Promise<void> {
    for (const slot of Object.values(this.slots)) (await slot.p?.catch(() => undefined))?.close();
  }

  /** A new connection (the transport reconnected): close the shells and let each start again. */
  async reset(): Promise<void> {
    await this.closeAll();
    for (const slot of Object.values(this.slots)) Object.assign(slot, { p: undefined, live: undefined, starts: 0, off: false });
  }

  private async start(kind: ShellKind, slot: Slot): Promise<RemoteShell | undefined> {
    if (slot.starts >= MAX_STARTS) {
      slot.off = true;
      return undefined;
    }
    slot.starts++;
    const link = await this.o.link();
    const release = await this.o.channels.acquire();
    let ch: ClientChannel;
    try {
      ch = await openChannel<ClientChannel>(link, (cb) => link.client.exec(COMMAND[kind], cb));
    } catch (e) {
      release();
      throw e;
    }
    const shell = new RemoteShell(ch);
    slot.live = shell;
    const p = slot.p;
    ch.on('close', () => {
      release();
      this.ended += shell.commands;
      if (slot.live === shell) slot.live = undefined;
      // Dead (killed, timed out, or left a background job): the next command starts a new one.
      if (slot.p === p) slot.p = undefined;
    });
    try {
      await shell.ready(this.o.startTimeoutMs);
    } catch (e) {
      // e.g. sudo wants a password: every command goes through its own channel, which reports it.
      slot.off = true;
      this.o.debug?.(`persistent ${kind} shell unavailable: ${errMessage(e)}`);
      shell.close();
      return undefined;
    }
    return shell;
  }
}
