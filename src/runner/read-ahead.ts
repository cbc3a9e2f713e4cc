// Read-ahead: the read-only commands a host's tasks ran in the last run of this playbook and
// inventory are run again at the start of this one, in one round trip per host (beside the
// fact gathering), and a task's read is answered from that batch instead of a round trip of
// its own. On a run that changes nothing, every task then plans without a remote call.
//
// Why the answers stay true: the batch runs before anything in this run has changed anything.
// An answer is served only while the run has still written nothing on any host: every exec
// and upload that is not a declared read (ctx.read) counts as a write, on whichever host, and
// from the first one on every read goes to its host live, exactly as without read-ahead. So
// a batch answer differs from a live one only by what changed on the host from outside in
// the meantime, as with facts (gathered once, at the start).
//
// The record (which reads, never their answers) lives in the user's cache directory
// (PROVISION_CACHE_DIR, else $XDG_CACHE_HOME/provision or ~/.cache/provision), one file per
// inventory, playbook and tag selection; it is used only when that directory and file belong to the user and
// nobody else can write them: its commands run as root on the hosts.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { batchOf } from '../transport/batch.js';
import { statMany, statPathOf } from '../ops/files.js';
import type { Shell } from '../transport/quote.js';
import type { ExecResult, Transport } from '../transport/types.js';

/** At most this many reads are recorded per host; longer command texts are not recorded. */
export const MAX_READS_PER_HOST = 256;
const MAX_READ_TEXT = 8192;
const VERSION = 2;

/**
 * One recorded read: a command's text, or a file's stat (src/ops/files.ts statCommand), which
 * the batch asks together with the host's other stats (one `stat`, one `sha256sum`).
 */
export type ReadEntry = string | { stat: string };
const keyOf = (e: ReadEntry) => (typeof e === 'string' ? e : `stat:${e.stat}`);

export interface ReadAheadStats {
  /** Reads answered from the batch. */
  served: number;
  /** Reads that went to their host (no answer in the batch, or after the first write). */
  live: number;
  /** Hosts whose batch ran. */
  batches: number;
}

interface HostState {
  batch?: Promise<Map<string, ExecResult> | undefined>;
  /** The reads this run asked for, in first-asked order (by keyOf). */
  seen: Map<string, ReadEntry>;
}

export class ReadAhead {
  private writes = 0;
  private readonly hosts = new Map<string, HostState>();
  readonly stats: ReadAheadStats = { served: 0, live: 0, batches: 0 };

  /** `recorded`: per host name, the reads of the last run (see ReadAheadStore). */
  constructor(readonly recorded: ReadonlyMap<string, readonly ReadEntry[]> = new Map()) {}

  private state(host: string): HostState {
    let s = this.hosts.get(host);
    if (!s) this.hosts.set(host, (s = { seen: new Map() }));
    return s;
  }

  /** Run the host's recorded reads in one command (once per run; not after a write). */
  start(host: string, t: Transport): void {
    const s = this.state(host);
    const entries = this.recorded.get(host);
    if (s.batch || this.writes > 0 || !entries?.length) return;
    const cmds = entries.filter((e): e is string => typeof e === 'string');
    const paths = entries.flatMap((e) => (typeof e === 'string' ? [] : [e.stat]));
    const stats = paths.length ? statMany(paths) : undefined;
    const batch = batchOf(cmds, stats ? [stats.script.text] : []);
    this.stats.batches++;
    s.batch = t.exec(batch.script).then(
      (r) => {
        const out = new Map<string, ExecResult>();
        const results = batch.parse(r.stdout, r.stderr);
        cmds.forEach((c, i) => results[i] && out.set(c, results[i]!));
        const st = stats && results[cmds.length];
        if (stats && st?.code === 0) for (const [text, res] of stats.parse(st.stdout)) out.set(text, res);
        return out;
      },
      () => undefined, // the host's own commands report a lost connection
    );
  }

  /** A read-only command: answered from the batch while nothing has been written, else live. */
  async read(host: string, t: Transport, cmd: Shell): Promise<ExecResult> {
    const s = this.state(host);
    const path = statPathOf(cmd.text);
    const entry: ReadEntry = path !== undefined ? { stat: path } : cmd.text;
    if (cmd.text.length <= MAX_READ_TEXT) s.seen.set(keyOf(entry), entry);
    if (this.writes === 0 && s.batch) {
      const answers = await s.batch;
      // Checked again after waiting: a write elsewhere in the meantime ends read-ahead.
      const hit = this.writes === 0 ? answers?.get(cmd.text) : undefined;
      if (hit) {
        this.stats.served++;
        return { ...hit };
      }
    }
    this.stats.live++;
    return t.exec(cmd);
  }

  /** The host's transport for roles and ops: every exec and upload through it counts as a write. */
  writer(t: Transport): Transport {
    const self = this;
    return {
      get host() {
        return t.host;
      },
      connect: () => t.connect(),
      close: () => t.close(),
      exec(cmd, opts) {
        self.writes++;
        return t.exec(cmd, opts);
      },
      put(p, content, opts) {
        self.writes++;
        return t.put(p, content, opts);
      },
      warm: t.warm ? () => t.warm!() : undefined,
      lostWithin: t.lostWithin ? (ms) => t.lostWithin!(ms) : undefined,
    };
  }

  /** The reads a host's tasks asked for in this run, in order. */
  reads(host: string): ReadEntry[] {
    return [...(this.hosts.get(host)?.seen.values() ?? [])];
  }
}

/** Where the reads of one inventory, playbook and tag selection are recorded between runs. */
export class ReadAheadStore {
  readonly file: string;

  /**
   * One record per inventory, playbook and tag selection (--tags/--skip-tags choose which tasks,
   * so which reads, a run makes: each selection keeps its own list, replaced by each whole run).
   */
  constructor(
    readonly key: { inventory: string; playbook: string; tags?: readonly string[]; skipTags?: readonly string[] },
    readonly dir = defaultCacheDir(),
  ) {
    const sel = `${[...(key.tags ?? [])].sort().join(',')}\0${[...(key.skipTags ?? [])].sort().join(',')}`;
    const id = createHash('sha256').update(`${key.inventory}\0${key.playbook}\0${sel}`).digest('hex').slice(0, 16);
    this.file = path.join(dir, 'read-ahead', `${id}.json`);
  }

  /** The recorded reads per host; empty when there is no record or it cannot be trusted (`warn` says why). */
  async load(warn: (m: string) => void = () => {}): Promise<Map<string, ReadEntry[]>> {
    const why = await untrusted([this.dir, path.dirname(this.file), this.file]);
    if (why === 'missing') return new Map();
    if (why) {
      warn(`read-ahead record not used: ${why}`);
      return new Map();
    }
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as { version?: number; hosts?: Record<string, unknown> };
      if (data.version !== VERSION || typeof data.hosts !== 'object' || !data.hosts) return new Map();
      const out = new Map<string, ReadEntry[]>();
      const valid = (r: unknown): r is ReadEntry =>
        typeof r === 'string' || (typeof r === 'object' && r !== null && typeof (r as { stat?: unknown }).stat === 'string');
      for (const [h, reads] of Object.entries(data.hosts)) {
        if (Array.isArray(reads)) out.set(h, reads.filter(valid).slice(0, MAX_READS_PER_HOST));
      }
      return out;
    } catch {
      return new Map(); // unreadable or not JSON: the run records a new one
    }
  }

  /**
   * Record this run's reads. A host whose run was whole (it finished) gets exactly its reads;
   * otherwise (it failed, or the run was interrupted) they are added in front of the old ones,
   * so a partial run does not forget what a whole one needs.
   */
  async save(old: ReadonlyMap<string, readonly ReadEntry[]>, runs: { host: string; reads: ReadEntry[]; whole: boolean }[]): Promise<void> {
    const hosts: Record<string, readonly ReadEntry[]> = Object.fromEntries(old);
    for (const r of runs) {
      const merged = r.whole ? r.reads : [...new Map([...r.reads, ...(old.get(r.host) ?? [])].map((e) => [keyOf(e), e])).values()];
      hosts[r.host] = merged.slice(0, MAX_READS_PER_HOST);
    }
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: VERSION, ...this.key, hosts }) + '\n', { mode: 0o600 });
    await rename(tmp, this.file);
  }
}

export function defaultCacheDir(): string {
  if (process.env.PROVISION_CACHE_DIR) return path.resolve(process.env.PROVISION_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'provision');
}

/** 'missing' when a path does not exist; a reason when one is not the user's own or others may write it. */
async function untrusted(paths: string[]): Promise<string | undefined> {
  const uid = process.getuid?.();
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (!st) return 'missing';
    if (uid !== undefined && st.uid !== uid) return `${p} belongs to uid ${st.uid}, not to you (uid ${uid})`;
    if (st.mode & 0o022) return `${p} is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
  }
  return undefined;
}
