// The failover report as text: one line per (LB, VIP, probe) with both gaps, then each LB's
// takeover times and problems.
import { textTable } from '../report/text-table.js';
import type { GapResult } from './parse.js';
import type { FailoverReport } from './failover-types.js';

const fmtGap = (g?: GapResult) => (!g ? '-' : !g.recovered ? `>${g.gapMs} ms (no recovery)` : g.failures === 0 ? '0 ms' : `${g.gapMs} ms`);

/** One line per (LB, VIP, probe) with the failover and preemption gaps, then each LB's problems. */
export function formatFailoverTable(report: FailoverReport): string {
  const rows: string[][] = [];
  for (const l of report.lbs) {
    if (l.results.length === 0) rows.push([l.lb, '-', '-', '-', '-', '-', '-', l.ok ? 'ok' : 'FAIL']);
    for (const r of l.results) {
      rows.push([
        l.lb,
        r.vip,
        r.probe,
        (l.takeoverBy[r.vip] ?? []).join('+') || '-',
        fmtGap(r.failover),
        String(r.failover?.failureKinds.syn ?? 0),
        fmtGap(r.preempt),
        l.ok ? 'ok' : 'FAIL',
      ]);
    }
  }
  const lines = [textTable(['FAILED LB', 'VIP', 'PROBE', 'TAKEN OVER BY', 'FAILOVER GAP', 'DROPPED SYNS', 'PREEMPT GAP', 'RESULT'], rows)];
  for (const l of report.lbs) {
    const fault = { nginx: 'nginx was killed', keepalived: 'keepalived was stopped', poweroff: 'the power was cut' }[l.mode];
    const repair = { nginx: 'nginx started', keepalived: 'keepalived started', poweroff: 'power came back' }[l.mode];
    const times = [
      l.takeoverMs !== undefined ? `peer held the VIPs ${l.takeoverMs} ms after ${fault}` : '',
      l.preemptMs !== undefined ? `${l.lb} held them again ${l.preemptMs} ms after ${repair}${l.bootMs !== undefined ? ` (boot to SSH ${l.bootMs} ms)` : ''}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    if (times) lines.push(`${l.lb}: ${times}`);
    for (const p of l.problems) lines.push(`${l.lb}: FAIL: ${p}`);
  }
  lines.push(`failover (${report.mode}): ${report.lbs.length} load balancer${report.lbs.length === 1 ? '' : 's'} failed in turn, ${report.lbs.filter((l) => !l.ok).length} with problems`);
  return lines.join('\n') + '\n';
}
