// What happened during a failover, in time, for the HTML report (html.ts): every probe request
// (sent and completed, ok or not, with the probe loop's start on the probe's clock), the
// controller's steps (fault injected, VIPs seen on the peer, repair, VIPs back) and each LB's
// own VRRP state changes, read from keepalived's journal. Times are Unix epoch ms on each
// machine's clock: the same clock in the lab (containers share the kernel's), NTP-synced
// (the timesync role) elsewhere.
import { sh } from '../transport/quote.js';
import type { Transport } from '../transport/types.js';
import type { HaModel } from '../topology/types.js';
import type { ProbeSample } from './parse.js';

/** A controller step, at its wall-clock time. */
export interface TimelineEvent {
  at: number;
  kind: 'fault' | 'fault-done' | 'taken-over' | 'repair' | 'repair-done' | 'back';
  label: string;
}

/** A VRRP state change an LB logged (keepalived: "(INTERNAL_1) Entering MASTER STATE"). */
export interface LbTransition {
  at: number;
  host: string;
  instance: string;
  /** The VIPs of that instance on that host. */
  vips: string[];
  state: 'MASTER' | 'BACKUP' | 'FAULT';
}

/** One probe loop's requests for one VIP, with the loop's start in epoch ms (probe clock). */
export interface ProbeTrace {
  /** Epoch ms at which the loop's clock (samples' s and t) was 0; undefined when the probe did not say. */
  origin?: number;
  /** Epoch ms (controller clock) when the loop was started. */
  launchedAt: number;
  samples: ProbeSample[];
}

export type SampleKind = 'ok' | 'reset' | 'syn' | 'failed';

/**
 * ok; reset (a request in flight when the VIP moved); syn (its SYN got no answer within the
 * timeout: sent while no node held the VIP); failed (refused, no response in time, HTTP error).
 * Reports from before the probe named its failures are read from the error text.
 */
export function sampleKind(s: Pick<ProbeSample, 'ok' | 'err' | 'kind'>): SampleKind {
  if (s.ok) return 'ok';
  if (s.kind === 'reset' || s.kind === 'syn') return s.kind;
  if (s.kind) return 'failed';
  return /reset|RemoteDisconnected|BrokenPipe/i.test(s.err ?? '') ? 'reset' : 'failed';
}

/** keepalived's log since `sinceMs` (whole seconds back), one line per entry with its epoch time. */
export function journalCommand(sinceMs: number) {
  return sh`journalctl -u keepalived -o short-unix --no-pager -q --since ${`@${Math.floor(sinceMs / 1000) - 1}`}`;
}

const LINE = /^(\d+(?:\.\d+)?)\s.*?\((\S+)\) Entering (MASTER|BACKUP|FAULT) STATE/;

/** The state changes in `journalctl -o short-unix` output of one LB. */
export function parseJournal(text: string, host: string, model: HaModel): LbTransition[] {
  const node = model.nodes.find((n) => n.host === host);
  const out: LbTransition[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const vips = node?.instances.find((i) => i.name === m[2])?.vips ?? [];
    out.push({ at: Math.round(Number(m[1]) * 1000), host, instance: m[2], vips: [...vips], state: m[3] as LbTransition['state'] });
  }
  return out;
}

/**
 * Each reachable LB's state changes since `sinceMs`. Best effort: an LB whose journal cannot be
 * read (no journald, powered off) contributes nothing; the report then shows the controller's view only.
 */
export async function readTransitions(model: HaModel, conn: (host: string) => Promise<Transport>, off: ReadonlySet<string>, sinceMs: number): Promise<LbTransition[]> {
  const per = await Promise.all(
    model.nodes
      .filter((n) => !off.has(n.host))
      .map(async (n) => {
        try {
          const r = await (await conn(n.host)).exec(journalCommand(sinceMs), { sudo: true, timeoutMs: 15_000 });
          return r.code === 0 ? parseJournal(r.stdout, n.host, model).filter((x) => x.at >= sinceMs - 1000) : [];
        } catch {
          return [];
        }
      }),
  );
  return per.flat().sort((a, b) => a.at - b.at);
}

/** Add `more` to `list`, leaving out entries it already has (the journal windows of two loops overlap). */
export function mergeTransitions(list: LbTransition[], more: LbTransition[]): void {
  const key = (t: LbTransition) => `${t.at} ${t.host} ${t.instance} ${t.state}`;
  const have = new Set(list.map(key));
  for (const t of more) if (!have.has(key(t))) list.push(t);
}
