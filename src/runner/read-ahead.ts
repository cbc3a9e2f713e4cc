// Read-ahead: the facts a host's tasks asked in the last run of this playbook and inventory
// (each a fact name and its arguments, src/facts/fact.ts) are asked again at the start of this
// one, in one round trip per host (beside the fact gathering), and a task's fact is answered
// from that batch instead of a round trip of its own. On a run that changes nothing, every task
// then plans without a remote call.
//
// Why the answers stay true: the batch runs before anything in this run has changed anything.
// An answer is served only while the run has still written nothing on any host: every exec
// and upload that is not a fact counts as a write, on whichever host, and from the first one on
// every fact is read live, exactly as without read-ahead. So a batch answer differs from a live
// one only by what changed on the host from outside in the meantime, as with facts (gathered
// once, at the start).
//
// The record holds fact names and arguments, never command text: replaying it runs only the
// read-only commands the registered facts build (with `sh`) from those arguments, and an entry
// naming no known fact is dropped. It lives in the user's cache directory (PROVISION_CACHE_DIR,
// else $XDG_CACHE_HOME/provision or ~/.cache/provision), one file per inventory, playbook and
// tag selection, and is used only when that directory and file belong to the user and nobody
// else can write them; it is written through a fresh private temp file (src/private-file.ts).
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { batchOf } from '../transport/batch.js';
import { factKey, factNamed, type Fact, type FactArgs, type FactCall } from '../facts/catalog.js';
import type { Transport } from '../transport/types.js';
import { readInputText } from '../input-file.js';
import { untrustedPath, writePrivateFile } from '../private-file.js';

/** At most this many facts are recorded per host; longer arguments are not recorded. */
export const MAX_READS_PER_HOST = 256;
const MAX_ARG_TEXT = 4096;
const VERSION = 3;

export interface ReadAheadStats {
  /** Facts answered from the batch. */
  served: number;
  /** Facts and reads that went to their host (no answer in the batch, or after the first write). */
  live: number;
  /** Hosts whose batch ran. */
  batches: number;
}

interface HostState {
  batch?: Promise<Map<string, unknown> | undefined>;
  /** The facts this run asked for, in first-asked order (by factKey). */
  seen: Map<string, FactCall>;
}

/** Run the facts of `calls` in one command; their parsed answers by factKey. */
function askMany(t: Transport, calls: readonly FactCall[]): Promise<Map<string, unknown>> {
  const one: { call: FactCall; fact: Fact }[] = [];
  const grouped = new Map<Fact, FactArgs[]>();
  for (const call of calls) {
    const fact = factNamed(call.fact, call.args)!;
    if (fact.many) grouped.set(fact, [...(grouped.get(fact) ?? []), call.args]);
    else one.push({ call, fact });
  }
  const many = [...grouped].map(([fact, lists]) => fact.many!(lists));
  const batch = batchOf(one.map((o) => o.fact.command(...o.call.args).text), many.map((m) => m.script.text));
  return t.exec(batch.script).then((r) => {
    const out = new Map<string, unknown>();
    const results = batch.parse(r.stdout, r.stderr);
    one.forEach((o, i) => {
      const res = results[i];
      if (!res) return;
      try {
        out.set(factKey(o.call.fact, o.call.args), o.fact.parse(res, ...o.call.args));
      } catch {
        // no answer: the task asks on its own and reports why
      }
    });
    many.forEach((m, j) => {
      const res = results[one.length + j];
      if (res?.code === 0) for (const [k, v] of m.parse(res.stdout)) out.set(k, v);
    });
    return out;
  });
}

export class ReadAhead {
  private writes = 0;
  private readonly hosts = new Map<string, HostState>();
  readonly stats: ReadAheadStats = { served: 0, live: 0, batches: 0 };

  /** `recorded`: per host name, the facts of the last run (see ReadAheadStore). */
  constructor(readonly recorded: ReadonlyMap<string, readonly FactCall[]> = new Map()) {}

  private state(host: string): HostState {
    let s = this.hosts.get(host);
    if (!s) this.hosts.set(host, (s = { seen: new Map() }));
    return s;
  }

  /** Ask the host's recorded facts in one command (once per run; not after a write). */
  start(host: string, t: Transport): void {
    const s = this.state(host);
    const calls = (this.recorded.get(host) ?? []).filter((c) => factNamed(c.fact, c.args));
    if (s.batch || this.writes > 0 || !calls.length) return;
    this.stats.batches++;
    s.batch = askMany(t, calls).catch(() => undefined); // the host's own commands report a lost connection
  }

  /** A fact: answered from the batch while nothing has been written, else read live. */
  async fact<A extends FactArgs, T>(host: string, t: Transport, f: Fact<A, T>, ...args: A): Promise<T> {
    const s = this.state(host);
    const key = factKey(f.name, args);
    if (args.every((a) => a.length <= MAX_ARG_TEXT)) s.seen.set(key, { fact: f.name, args: [...args] });
    if (this.writes === 0 && s.batch) {
      const answers = await s.batch;
      // Checked again after waiting: a write elsewhere in the meantime ends read-ahead.
      if (this.writes === 0 && answers?.has(key)) {
        this.stats.served++;
        return structuredClone(answers.get(key)) as T;
      }
    }
    this.stats.live++;
    return f.parse(await t.exec(f.command(...args)), ...args);
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
      reconnect: t.reconnect ? () => t.reconnect!() : undefined,
    };
  }

  /** The facts a host's tasks asked for in this run, in order. */
  reads(host: string): FactCall[] {
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
  async load(warn: (m: string) => void = () => {}): Promise<Map<string, FactCall[]>> {
    const why = await untrustedPath([this.dir, path.dirname(this.file), this.file]);
    if (why === 'missing') return new Map();
    if (why) {
      warn(`read-ahead record not used: ${why}`);
      return new Map();
    }
    try {
      const data = JSON.parse(await readInputText(this.file, { what: 'read-ahead record' })) as { version?: number; hosts?: Record<string, unknown> };
      if (data.version !== VERSION || typeof data.hosts !== 'object' || !data.hosts) return new Map();
      const out = new Map<string, FactCall[]>();
      const valid = (r: unknown): r is FactCall => typeof r === 'object' && r !== null && !!factNamed((r as FactCall).fact, (r as FactCall).args);
      for (const [h, reads] of Object.entries(data.hosts)) {
        if (Array.isArray(reads)) out.set(h, reads.filter(valid).slice(0, MAX_READS_PER_HOST).map((r) => ({ fact: r.fact, args: r.args })));
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
  async save(old: ReadonlyMap<string, readonly FactCall[]>, runs: { host: string; reads: FactCall[]; whole: boolean }[]): Promise<void> {
    const hosts: Record<string, readonly FactCall[]> = Object.fromEntries(old);
    for (const r of runs) {
      const merged = r.whole ? r.reads : [...new Map([...r.reads, ...(old.get(r.host) ?? [])].map((e) => [factKey(e.fact, e.args), e])).values()];
      hosts[r.host] = merged.slice(0, MAX_READS_PER_HOST);
    }
    await writePrivateFile(this.file, JSON.stringify({ version: VERSION, ...this.key, hosts }) + '\n', { privateRoot: this.dir });
  }
}

export function defaultCacheDir(): string {
  if (process.env.PROVISION_CACHE_DIR) return path.resolve(process.env.PROVISION_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'provision');
}
