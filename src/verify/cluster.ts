// The three checks over the whole cluster, their summary table, and retrying a check while a
// fresh deploy converges.
import type { Transport } from '../transport/types.js';
import type { HaModel } from '../topology/types.js';
import { textTable } from '../report/text-table.js';
import type { CheckKind, CheckResult, CheckRow } from './check-result.js';
import { checkVipsHeld, type VipsHeldResult } from './vips-held.js';
import { captureAdverts, type AdvertsResult } from './adverts.js';
import { curlVips, oneAtATime, type HttpResult } from './http-check.js';
import { probeAssignments } from './probes.js';
import { errMsg } from './why.js';

export type Connect = (host: string) => Promise<Transport>;

export interface VerifyOptions {
  /** Seconds of tcpdump per LB interface (default 4). */
  captureSeconds?: number;
  /** Requests per VIP per probe (default 20). */
  curlCount?: number;
  /** curl -m per request (default 2). */
  curlTimeoutS?: number;
  /** Which checks to run (default all three). */
  checks?: CheckKind[];
}

export interface VerifyReport {
  checks: CheckRow[];
  ok: boolean;
  /** Structured results per host, for the JSON report. */
  vipsHeld: VipsHeldResult[];
  adverts: AdvertsResult[];
  http: HttpResult[];
}

/** Memoise connections per host within one run (the caller owns and closes them). */
export function memoConnect(connect: Connect): Connect {
  const cache = new Map<string, Promise<Transport>>();
  return (host) => {
    let p = cache.get(host);
    if (!p) cache.set(host, (p = connect(host)));
    return p;
  };
}

/**
 * (a) on every LB, (b) on every LB (concurrently), (c) from every probe in turn (peer LBs for
 * networks without one). A host that cannot be reached or a check that throws becomes a failed row.
 */
export async function verifyCluster(model: HaModel, connect: Connect, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const kinds = opts.checks ?? ['vips-held', 'vrrp-adverts', 'http'];
  const conn = memoConnect(connect);
  const errorRow = (check: CheckKind, host: string, e: unknown): CheckRow => ({ check, host, target: '-', ok: false, detail: `${host}: ${errMsg(e)}` });
  const guard = async <R extends CheckResult>(check: CheckKind, host: string, run: (t: Transport) => Promise<R>): Promise<R | CheckRow> => {
    try {
      return await run(await conn(host));
    } catch (e) {
      return errorRow(check, host, e);
    }
  };
  const lbs = model.nodes.map((n) => n.host);
  const assignments = probeAssignments(model);
  const inTurn = oneAtATime();
  const curlFromProbesInTurn = () =>
    Promise.all(assignments.map((a) => inTurn(() => guard('http', a.host, (t) => curlVips(t, model, a.host, opts.curlCount ?? 20, { vips: a.vips, timeoutS: opts.curlTimeoutS })))));
  const [held, adverts, http] = await Promise.all([
    kinds.includes('vips-held') ? Promise.all(lbs.map((h) => guard('vips-held', h, (t) => checkVipsHeld(t, model, h)))) : [],
    kinds.includes('vrrp-adverts') ? Promise.all(lbs.map((h) => guard('vrrp-adverts', h, (t) => captureAdverts(t, model, h, opts.captureSeconds ?? 4)))) : [],
    kinds.includes('http') ? curlFromProbesInTurn() : [],
  ]);
  const rowsOf = (xs: Array<CheckResult | CheckRow>) => xs.flatMap((x) => ('rows' in x ? x.rows : [x]));
  const results = <R>(xs: Array<R | CheckRow>) => xs.filter((x): x is R => typeof x === 'object' && x !== null && 'rows' in x);
  const checks = [...rowsOf(held), ...rowsOf(adverts), ...rowsOf(http)];
  if (kinds.includes('http') && assignments.length === 0 && model.vips.length > 0) {
    checks.push({ check: 'http', host: '-', target: '-', ok: false, detail: 'no host can request the VIPs (no probe and no peer load balancer)' });
  }
  return {
    checks,
    ok: checks.every((c) => c.ok),
    vipsHeld: results<VipsHeldResult>(held),
    adverts: results<AdvertsResult>(adverts),
    http: results<HttpResult>(http),
  };
}

/** The verify summary: one line per check row, then the totals. */
export function formatVerifyTable(report: Pick<VerifyReport, 'checks' | 'ok'>): string {
  const rows = report.checks.map((c) => [c.check, c.host, c.target, c.ok ? 'ok' : 'FAIL', c.detail]);
  const failed = report.checks.filter((c) => !c.ok).length;
  const total = `${report.checks.length} check${report.checks.length === 1 ? '' : 's'}, ${failed} failed: ${report.ok ? 'the cluster works' : 'the cluster does NOT work as designed'}`;
  return `${textTable(['CHECK', 'HOST', 'TARGET', 'RESULT', 'DETAIL'], rows)}\n${total}\n`;
}

export interface UntilOkOptions {
  /** Keep retrying a failing check until this many ms have passed since the first try. */
  withinMs: number;
  /** Pause between tries (default 1000 ms). */
  pauseMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Run a check until it passes or `withinMs` is over; the last result counts. Right after a
 * deploy the VIPs may still be moving (a restarted keepalived waits its master-down timer
 * before it preempts), so a first failure is not yet a verdict.
 */
export async function untilOk<R extends { ok: boolean }>(run: () => Promise<R>, o: UntilOkOptions): Promise<R & { tries: number }> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((res) => setTimeout(res, ms)));
  const now = o.now ?? (() => Date.now());
  const t0 = now();
  for (let tries = 1; ; tries++) {
    const r = await run();
    if (r.ok || now() - t0 >= o.withinMs || tries >= 1000) return { ...r, tries };
    await sleep(o.pauseMs ?? 1000);
  }
}
