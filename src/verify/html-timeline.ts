// One failover (or preemption) of one VIP as seen by one probe, drawn in time (inline SVG):
// every request as a mark from its sending to its end, in a lane by outcome (ok / reset /
// failed); the fault (or repair) instant; the LBs' own state changes from keepalived's journal;
// the instant the controller saw the VIP on its new holder; the probe's first answer after the
// outage; and the gap, shaded and annotated with the number the JSON report gives.
import type { FailoverLbResult, FailoverVipResult } from './failover.js';
import type { GapResult } from './parse.js';
import { sampleKind, type ProbeTrace, type SampleKind } from './timeline.js';
import { esc, fmtMs, KIND_COLOUR, svgText } from './html-util.js';

const W = 1000;
const L = 90;
const R = 20;
const LANES: SampleKind[] = ['ok', 'reset', 'syn', 'failed'];
const LANE_NAME: Record<SampleKind, string> = { ok: 'ok', reset: 'reset', syn: 'dropped SYN', failed: 'failed' };

export type Phase = 'failover' | 'preempt';

interface Marker { at: number; label: string; cls: string }

/** Instants (epoch ms) worth a vertical line in this phase, for this VIP. */
export function phaseMarkers(lb: FailoverLbResult, vip: string, phase: Phase, range: [number, number]): Marker[] {
  const kinds = phase === 'failover' ? ['fault', 'taken-over'] : ['repair', 'back'];
  const inRange = (at: number) => at >= range[0] - 2000 && at <= range[1] + 2000;
  const out: Marker[] = (lb.events ?? [])
    .filter((e) => kinds.includes(e.kind) && inRange(e.at))
    .map((e) => ({ at: e.at, label: e.kind === 'fault' || e.kind === 'repair' ? e.label : e.kind === 'taken-over' ? 'controller: VIP seen on the peer' : `controller: VIP seen on ${lb.lb}`, cls: `ev ev-${e.kind}` }));
  for (const t of lb.transitions ?? []) {
    if (t.vips.includes(vip) && t.at >= range[0] && t.at <= range[1]) out.push({ at: t.at, label: `${t.host} ${t.state} (its log)`, cls: `lbv lbv-${t.state.toLowerCase()}` });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The instant the phase is measured from: the fault, or the start of the repair. */
export function phaseZero(lb: FailoverLbResult, phase: Phase): number | undefined {
  return lb.events?.find((e) => e.kind === (phase === 'failover' ? 'fault' : 'repair'))?.at;
}

/** Greedy label rows, so that labels of nearby markers do not overlap. */
function labelRows(xs: { x: number; w: number }[]): number[] {
  const ends: number[] = [];
  return xs.map(({ x, w }) => {
    let row = ends.findIndex((e) => e < x);
    if (row < 0) row = ends.push(0) - 1;
    ends[row] = x + w + 8;
    return row;
  });
}

/** Timeline of one phase of one (VIP, probe), or '' when there is no trace. */
export function timelineSvg(lb: FailoverLbResult, r: FailoverVipResult, phase: Phase): string {
  const trace: ProbeTrace | undefined = r.trace?.[phase];
  const gap: GapResult | undefined = r[phase];
  if (!trace || !gap || trace.samples.length === 0) return '';
  const base = trace.origin ?? trace.launchedAt;
  const xs = trace.samples.map((s) => ({ send: base + s.s, done: base + s.t, kind: sampleKind(s) }));
  const range: [number, number] = [Math.min(...xs.map((x) => x.send)), Math.max(...xs.map((x) => x.done))];
  const worst = gap.outages.reduce<GapResult['outages'][number] | undefined>((m, o) => (!m || o.ms > m.ms ? o : m), undefined);
  // The probe's view: its first answer after the outage (from the new holder, or L again).
  const answer = worst?.nextOk !== undefined ? [{ at: base + worst.nextOk, label: `${r.probe}: first answer`, cls: 'pv' }] : [];
  const markers = [...phaseMarkers(lb, r.vip, phase, range), ...answer].sort((a, b) => a.at - b.at);
  const keys = [...markers.map((m) => m.at), ...(worst ? [worst.lastOk ?? trace.samples[0].s, worst.nextOk ?? worst.firstFailure].map((t) => base + t) : [])];
  const zero = phaseZero(lb, phase) ?? keys[0] ?? range[0];
  const lo0 = Math.min(zero, ...keys);
  const hi0 = Math.max(zero, ...keys);
  const pad = Math.max(150, (hi0 - lo0) * 0.12);
  const lo = Math.max(range[0], lo0 - pad);
  const hi = Math.min(range[1], Math.max(hi0 + pad, lo + 300));
  const x = (t: number) => L + ((t - lo) / Math.max(1, hi - lo)) * (W - L - R);
  // A label near the right edge is drawn to the left of its line.
  const labels = markers.map((m) => {
    const w = m.label.length * 6.2;
    return { x: x(m.at) + w + 3 > W ? x(m.at) - w - 3 : x(m.at), w };
  });
  const rows = labelRows(labels);
  const top = 16 + 14 * Math.max(1, ...rows.map((n) => n + 1));
  const laneY = (k: SampleKind) => top + 10 + LANES.indexOf(k) * 18;
  const axisY = top + 10 + LANES.length * 18 + 6;
  const parts: string[] = [];
  LANES.forEach((k) => parts.push(svgText(L - 8, laneY(k) + 9, LANE_NAME[k], 'class="lane" text-anchor="end"')));
  if (worst && worst.failures > 0) {
    const a = x(base + (worst.lastOk ?? trace.samples[0].s));
    const b = x(base + (worst.nextOk ?? range[1] - base));
    parts.push(`<rect class="gapband" x="${a.toFixed(1)}" y="${top}" width="${Math.max(1, b - a).toFixed(1)}" height="${axisY - top}"/>`);
    parts.push(svgText((a + b) / 2, axisY + 30, `gap ${gap.gapMs} ms${gap.recovered ? '' : ' (no answer again)'}`, `class="gaplabel" text-anchor="middle" data-gap-ms="${gap.gapMs}"`));
  }
  if (gap.failures === 0) parts.push(svgText((L + W - R) / 2, axisY + 30, 'no request failed: gap 0 ms', 'class="gaplabel ok" text-anchor="middle" data-gap-ms="0"'));
  for (const s of xs) {
    if (s.done < lo || s.send > hi) continue;
    const a = x(Math.max(lo, s.send));
    const b = x(Math.min(hi, s.done));
    parts.push(`<rect class="req req-${s.kind}" x="${a.toFixed(1)}" y="${laneY(s.kind)}" width="${Math.max(1.5, b - a).toFixed(1)}" height="10" fill="${KIND_COLOUR[s.kind]}"/>`);
  }
  markers.forEach((m, i) => {
    const mx = x(m.at);
    if (mx < L || mx > W - R) return;
    const ly = 14 + rows[i] * 14;
    const left = labels[i].x < mx;
    parts.push(`<line class="${m.cls}" x1="${mx.toFixed(1)}" y1="${ly + 3}" x2="${mx.toFixed(1)}" y2="${axisY}"/>` + svgText(left ? mx - 3 : mx + 3, ly, m.label, `class="mlabel ${m.cls}"${left ? ' text-anchor="end"' : ''}`));
  });
  parts.push(axis(x, lo, hi, zero, axisY));
  const h = axisY + 40;
  return `<svg class="timeline" viewBox="0 0 ${W} ${h}" role="img" aria-label="${esc(`${phase} of ${r.vip} seen from ${r.probe}`)}" data-vip="${esc(r.vip)}" data-phase="${phase}">${parts.join('')}</svg>`;
}

/** The time axis, in ms from the fault (or the repair). */
function axis(x: (t: number) => number, lo: number, hi: number, zero: number, y: number): string {
  const span = hi - lo;
  const step = [10, 20, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000].find((s) => span / s <= 10) ?? 20_000;
  const out = [`<line class="axis" x1="${L}" y1="${y}" x2="${W - R}" y2="${y}"/>`];
  for (let t = Math.ceil((lo - zero) / step) * step; zero + t <= hi; t += step) {
    const px = x(zero + t);
    out.push(`<line class="tick" x1="${px.toFixed(1)}" y1="${y}" x2="${px.toFixed(1)}" y2="${y + 4}"/>` + svgText(px, y + 15, t === 0 ? '0' : `${t > 0 ? '+' : ''}${fmtMs(t)}`, 'class="ticklabel" text-anchor="middle"'));
  }
  return out.join('');
}
