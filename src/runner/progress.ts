// Progress: listr2 on a terminal (one line per host with its current task); a plain renderer,
// one line per event, when stdout is not a TTY or CI is set.
import type { Listr as ListrType } from 'listr2';
import type { RunEvent } from './events.js';
import { redact } from '../report/redact.js';

export interface Progress {
  onEvent(e: RunEvent): void;
  /** Stop rendering (flush the listr2 display). */
  finish(): Promise<void>;
}

type Write = (line: string) => void;

/**
 * A progress display that is still loading (listr2 takes ~50 ms to import): the run starts at
 * once, and the events before it is ready are shown, in order, when it is.
 */
export function lateProgress(loading: Promise<Progress>): Progress {
  let ready: Progress | undefined;
  const queue: RunEvent[] = [];
  const loaded = loading.then((p) => {
    for (const e of queue.splice(0)) p.onEvent(e);
    ready = p;
    return p;
  });
  return {
    onEvent: (e) => (ready ? ready.onEvent(e) : void queue.push(e)),
    finish: async () => (await loaded).finish(),
  };
}

export function plainProgress(write: Write, opts: { verbose?: boolean; diff?: boolean } = {}): Progress {
  return {
    onEvent(e) {
      switch (e.type) {
        case 'play':
          write(`PLAY [${e.play}] hosts: ${e.hosts.join(', ') || '(none)'}`);
          break;
        case 'batch':
          break;
        case 'task-start':
          if (opts.verbose) write(`  ${e.host}: ${e.role ? `${e.role} : ` : ''}${e.task} ...`);
          break;
        case 'task-end': {
          const r = e.result;
          if (r.status === 'ok' && !opts.verbose) break;
          const at = r.status === 'failed' && r.location ? ` at ${r.location}` : '';
          write(`  ${r.status.padEnd(7)} ${r.host}: ${r.role ? `${r.role} : ` : ''}${r.task}${at}${r.message ? ` (${redact(r.message).split('\n').join(' | ')})` : ''}`);
          if (opts.diff && r.diff) write(r.diff.split('\n').map((l) => `    ${l}`).join('\n'));
          break;
        }
        case 'host-end':
          if (e.status !== 'ok') write(`  ${e.status.toUpperCase()} ${e.host}${e.message ? `: ${redact(e.message)}` : ''}`);
          break;
        case 'warn':
          write(`  WARNING ${e.host ? `${e.host}: ` : ''}${redact(e.message)}`);
          break;
      }
    },
    async finish() {},
  };
}

interface Batch {
  /** Resolve or reject each host's listr2 row. */
  done: Map<string, () => void>;
  titles: Map<string, (t: string) => void>;
  failures: Map<string, string>;
  changed: Map<string, number>;
  /** Hosts whose run ended (their row may not have started rendering yet). */
  ended: Set<string>;
  hosts: string[];
  run: Promise<unknown>;
}

/** listr2: a group per play batch, one row per host whose title shows the current task. */
/** listr2 is loaded only for a terminal (CI and pipes use plainProgress). */
export async function listrProgress(write: Write, opts: { diff?: boolean } = {}): Promise<Progress> {
  const Listr: typeof ListrType = (await import('listr2')).Listr;
  let current: Batch | null = null;
  const pendingDiffs: string[] = [];
  const settle = async () => {
    const b = current;
    if (!b) return;
    current = null;
    for (const h of b.hosts) b.ended.add(h);
    for (const d of b.done.values()) d();
    await b.run.catch(() => {});
    for (const d of pendingDiffs.splice(0)) write(d);
  };
  const startBatch = (hosts: string[]) => {
    const b: Batch = { done: new Map(), titles: new Map(), failures: new Map(), changed: new Map(), ended: new Set(), hosts, run: Promise.resolve() };
    const list = new Listr(
      hosts.map((h) => ({
        title: h,
        task: (_: unknown, t: { title: string }) =>
          new Promise<void>((resolve, reject) => {
            b.titles.set(h, (s) => (t.title = `${h}: ${s}`));
            b.done.set(h, () => {
              const f = b.failures.get(h);
              if (f !== undefined) reject(new Error(`${h}: ${f}`));
              else {
                t.title = `${h}: done (${b.changed.get(h) ?? 0} changed)`;
                resolve();
              }
            });
            if (b.ended.has(h)) b.done.get(h)!();
          }),
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
    );
    b.run = list.run();
    return b;
  };
  return {
    onEvent(e) {
      if (e.type === 'play') write(`PLAY [${e.play}] hosts: ${e.hosts.join(', ') || '(none)'}`);
      if (e.type === 'batch') current = startBatch(e.hosts);
      const b = current;
      if (!b) return;
      if (e.type === 'task-start') b.titles.get(e.host)?.(`${e.role ? `${e.role} : ` : ''}${e.task}`);
      if (e.type === 'task-end') {
        if (e.result.changed) b.changed.set(e.result.host, (b.changed.get(e.result.host) ?? 0) + 1);
        if (opts.diff && e.result.diff) pendingDiffs.push(`--- ${e.result.host}: ${e.result.task}\n${e.result.diff}`);
      }
      if (e.type === 'host-end') {
        if (e.status !== 'ok') b.failures.set(e.host, redact(e.message ?? e.status));
        b.ended.add(e.host);
        b.done.get(e.host)?.();
        if (b.hosts.every((h) => b.ended.has(h))) void settle();
      }
    },
    async finish() {
      await settle();
    },
  };
}
