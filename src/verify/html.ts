// `provision verify --html FILE`: one self-contained HTML page (inline CSS and SVG, no script,
// nothing fetched) drawn from the JSON report: the topology as it is now, the HA plan, per VIP
// the failover and preemption timelines, and verify's checks. Laid out for a laptop screen
// without sideways scrolling (SVGs scale to the page width) and for print.
import type { VerifyJsonReport } from './html-data.js';
import type { FailoverLbResult, FailoverMode } from './failover.js';
import type { GapResult } from './parse.js';
import type { PlanVip } from '../topology/show.js';
import { fmtRange, type ExpectedFailover } from '../topology/show-timing.js';
import { sampleKind } from './timeline.js';
import { topologySvg } from './html-topology.js';
import { timelineSvg, phaseMarkers, phaseZero, type Phase } from './html-timeline.js';
import { esc, fmtMs } from './html-util.js';
import { HTML_STYLE } from './html-style.js';

const FAULT: Record<FailoverMode, string> = { nginx: 'nginx killed', keepalived: 'keepalived stopped', poweroff: 'powered off' };
const EXPECT_KEY: Record<FailoverMode, keyof Pick<ExpectedFailover, 'nginx' | 'keepalivedStop' | 'powerOff'>> = { nginx: 'nginx', keepalived: 'keepalivedStop', poweroff: 'powerOff' };

const gapText = (g?: GapResult) => (!g ? '–' : !g.recovered ? `> ${g.gapMs} ms (no recovery)` : `${g.gapMs} ms`);
/** Dropped SYNs of a loop (older reports did not count them: '–'). */
const dropped = (g?: GapResult) => (g?.failureKinds ? String(g.failureKinds.syn ?? 0) : '–');
const gapCell = (g: GapResult | undefined, cls: string) => `<td class="num ${cls}"${g ? ` data-gap-ms="${g.gapMs}"` : ''}>${esc(gapText(g))}</td>`;

function table(head: string[], rows: string[], cls: string): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function planTable(r: VerifyJsonReport): string {
  const rows = r.topology.plan.networks.flatMap((n) =>
    n.vips.map((v) => {
      const e = v.expected[0];
      const track = v.tracking.map((t) => `${t.block.split(' ')[0]} (weight ${t.weight})`).join(' or ');
      return `<tr data-vip="${esc(v.address)}"><td>${esc(v.address)}</td><td>${esc(n.name)}</td><td class="num">${v.vrid}</td><td>${esc(v.master ? `${v.master.host} (${v.master.priority})` : '–')}</td><td>${esc(v.backups.map((b) => `${b.host} (${b.priority})`).join(', ') || '–')}</td><td>${esc(track || '–')}</td><td class="num">${esc(`${v.advertInt} s`)}</td><td class="num">${esc(e ? fmtRange(e.nginx) : '–')}</td><td class="num">${esc(e ? fmtRange(e.keepalivedStop) : '–')}</td><td class="num">${esc(e ? fmtRange(e.powerOff) : '–')}</td></tr>`;
    }),
  );
  return table(['VIP', 'network', 'VRID', 'master', 'backups', 'tracking', 'advert', 'nginx dies', 'keepalived stops', 'power off'], rows, 'plan');
}

function planVip(r: VerifyJsonReport, vip: string): PlanVip | undefined {
  return r.topology.plan.networks.flatMap((n) => n.vips).find((v) => v.address === vip);
}

function expectedFor(r: VerifyJsonReport, vip: string, mode: FailoverMode): string {
  const e = planVip(r, vip)?.expected[0];
  return e ? fmtRange(e[EXPECT_KEY[mode]]) : '–';
}

function failoverTable(r: VerifyJsonReport): string {
  const rows = (r.failover?.lbs ?? []).flatMap((l) =>
    l.results.map(
      (x) =>
        `<tr class="${l.ok ? 'ok' : 'bad'}" data-vip="${esc(x.vip)}" data-lb="${esc(l.lb)}" data-probe="${esc(x.probe)}"><td>${esc(l.lb)}</td><td>${esc(FAULT[l.mode])}</td><td>${esc(x.vip)}</td><td>${esc(x.probe)}</td><td>${esc((l.takeoverBy[x.vip] ?? []).join('+') || '–')}</td>${gapCell(x.failover, 'gap-failover')}<td class="num">${dropped(x.failover)}</td>${gapCell(x.preempt, 'gap-preempt')}<td class="num">${esc(expectedFor(r, x.vip, l.mode))}</td><td>${l.ok ? 'ok' : 'FAIL'}</td></tr>`,
    ),
  );
  return table(['failed LB', 'fault', 'VIP', 'probe', 'taken over by', 'failover gap', 'dropped SYNs', 'preempt gap', 'expected (VRRP timers)', 'result'], rows, 'failover');
}

/** One sentence per phase: the gap, the counts, and when each view saw the VIP move. */
function phaseCaption(l: FailoverLbResult, x: FailoverLbResult['results'][number], phase: Phase): string {
  const g = x[phase];
  const tr = x.trace?.[phase];
  if (!g || !tr) return '';
  const kinds = tr.samples.map(sampleKind);
  const count = (k: string) => kinds.filter((y) => y === k).length;
  const zero = phaseZero(l, phase);
  const base = tr.origin ?? tr.launchedAt;
  const rel = (at: number) => (zero === undefined ? '' : `${fmtMs(at - zero)} after the ${phase === 'failover' ? 'fault' : 'repair began'}`);
  const bits = [`${g.requests} requests: ${count('ok')} ok, ${count('reset')} reset, ${count('syn')} dropped SYNs, ${count('failed')} failed otherwise`, `gap ${gapText(g)}`];
  const range: [number, number] = [base, base + Math.max(...tr.samples.map((s) => s.t))];
  const views = phaseMarkers(l, x.vip, phase, range).filter((m) => m.cls.startsWith('lbv') || m.cls.includes('taken-over') || m.cls.includes('ev-back'));
  for (const m of views) bits.push(`${m.label.replace(' (its log)', ' (its log)')} ${rel(m.at)}`);
  const first = g.outages.length ? g.outages[g.outages.length - 1].nextOk : undefined;
  if (first !== undefined) bits.push(`first answer after the outage ${rel(base + first)}`);
  if (tr.origin === undefined) bits.push('probe clock unknown: requests placed by the loop\'s launch');
  return `<p class="caption">${esc(bits.join('; '))}.</p>`;
}

function failoverSection(r: VerifyJsonReport): string {
  const f = r.failover;
  if (!f) return '';
  const cards = f.lbs.flatMap((l) =>
    l.results.map((x) => {
      const title = `${x.vip} — ${l.lb} ${FAULT[l.mode]}, requests from ${x.probe}`;
      const phases = (['failover', 'preempt'] as const).map((p) => `<h4>${p === 'failover' ? `failover to ${(l.takeoverBy[x.vip] ?? []).join('+') || '?'}` : `preemption back to ${l.lb}`}</h4>${phaseCaption(l, x, p)}${timelineSvg(l, x, p)}`);
      return `<section class="card vipcard" data-vip="${esc(x.vip)}" data-lb="${esc(l.lb)}" data-probe="${esc(x.probe)}"><h3>${esc(title)}</h3><p class="caption">expected from VRRP's timers: ${esc(expectedFor(r, x.vip, l.mode))} without a holder</p>${phases.join('')}</section>`;
    }),
  );
  const problems = f.lbs.flatMap((l) => l.problems.map((p) => `<li>${esc(`${l.lb}: ${p}`)}</li>`));
  return `<h2>Failover (${esc(FAULT[f.mode])} on each load balancer in turn)</h2>${failoverTable(r)}${problems.length ? `<ul class="problems">${problems.join('')}</ul>` : ''}
<p class="legend"><span class="sw ok"></span> ok <span class="sw reset"></span> reset (in flight when the VIP moved) <span class="sw syn"></span> dropped SYN (sent while no node held the VIP) <span class="sw failed"></span> failed (refused, no response in time) — each mark spans a request from sending to its end. Vertical lines: the fault or repair (controller), state changes from each LB's keepalived log, the controller seeing the VIP on its new holder. Times on each machine's clock (one clock in the lab).</p>${cards.join('')}`;
}

function checksTable(r: VerifyJsonReport): string {
  const rows = r.verify.checks.map((c) => `<tr class="${c.ok ? 'ok' : 'bad'}"><td>${esc(c.check)}</td><td>${esc(c.host)}</td><td>${esc(c.target)}</td><td>${c.ok ? 'ok' : 'FAIL'}</td><td class="detail">${esc(c.detail)}</td></tr>`);
  return table(['check', 'host', 'target', 'result', 'detail'], rows, 'checks');
}

export function renderHtmlReport(r: VerifyJsonReport): string {
  const when = new Date(r.generatedAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const failed = r.verify.checks.filter((c) => !c.ok).length;
  const vips = r.topology.plan.networks.flatMap((n) => n.vips).length;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`provision verify: ${r.inventory}`)}</title><style>${HTML_STYLE}</style></head>
<body><main>
<header><h1>provision verify <span class="inv">${esc(r.inventory)}</span> <span class="badge ${r.ok ? 'ok' : 'bad'}" id="result">${r.ok ? 'PASS' : 'FAIL'}</span></h1>
<p class="meta">${esc(`${when} · ${r.topology.lbs.length} load balancers, ${vips} VIPs, profile ${r.topology.plan.profile} · ${r.verify.checks.length} checks, ${failed} failed · ${r.seconds.toFixed(1)} s`)}</p></header>
<h2>Topology now</h2>${topologySvg(r)}
<h2>HA plan</h2>${planTable(r)}
${failoverSection(r)}
<h2>Checks</h2>${checksTable(r)}
</main></body></html>
`;
}
