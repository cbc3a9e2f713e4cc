// The topology picture of the HTML report (inline SVG, scaled to the page's width): the first
// network's bus on top, the others below; the load balancers between them with each VIP drawn
// at the node holding it now and each VRID they advertise as captured on the wire; probes and
// backends on their networks, every link labelled with its interface and address.
import type { VerifyJsonReport } from './html-data.js';
import { esc, netColour, svgText } from './html-util.js';

const W = 1000;
const M = 20;
const ROW_H = 58;
const LINE = 17;

interface Box { x: number; y: number; w: number; h: number }
interface Line { text: string; cls: string; colour?: string; vip?: string }
type Topo = VerifyJsonReport['topology'];

/** VIP address -> hosts holding it: the report's final reading, else verify's vips-held check. */
export function currentHolders(r: VerifyJsonReport): Record<string, string[]> {
  if (r.holders) return r.holders;
  const out: Record<string, string[]> = {};
  for (const v of r.topology.plan.networks.flatMap((n) => n.vips)) out[v.address] = r.verify.vipsHeld.filter((h) => h.held.includes(v.address)).map((h) => h.host);
  return out;
}

/** Per LB, the VRIDs it was seen advertising (network, VRID, priorities), from every capture. */
export function advertisers(r: VerifyJsonReport): Map<string, { network: string; vrid: number; priorities: number[]; rivals: number }[]> {
  const byAddr = new Map<string, string>();
  for (const lb of r.topology.lbs) for (const a of Object.values(lb.addresses)) byAddr.set(a, lb.host);
  const seen = new Map<string, { network: string; vrid: number; sources: Map<string, Set<number>> }>();
  for (const cap of r.verify.adverts) {
    for (const net of cap.networks) {
      for (const v of net.vrids) {
        const key = `${net.network}/${v.vrid}`;
        const e = seen.get(key) ?? { network: net.network, vrid: v.vrid, sources: new Map<string, Set<number>>() };
        seen.set(key, e);
        for (const s of v.sources) {
          const prios = e.sources.get(s.source) ?? new Set<number>();
          s.priorities.forEach((p) => prios.add(p));
          e.sources.set(s.source, prios);
        }
      }
    }
  }
  const out = new Map<string, { network: string; vrid: number; priorities: number[]; rivals: number }[]>();
  for (const e of seen.values()) {
    for (const [src, prios] of e.sources) {
      const host = byAddr.get(src) ?? src;
      out.set(host, [...(out.get(host) ?? []), { network: e.network, vrid: e.vrid, priorities: [...prios].sort((a, b) => b - a), rivals: e.sources.size - 1 }]);
    }
  }
  return out;
}

function place(n: number, w: number, y: number, h: number): Box[] {
  const slot = (W - 2 * M) / Math.max(1, n);
  const bw = Math.min(w, slot - 16);
  return Array.from({ length: n }, (_, i) => ({ x: M + i * slot + (slot - bw) / 2, y, w: bw, h }));
}

function stub(x: number, y1: number, y2: number, colour: string, label: string): string {
  const ly = (y1 + y2) / 2 + 4;
  return `<line x1="${x}" y1="${y1}" x2="${x}" y2="${y2}" stroke="${colour}" stroke-width="2"/>` + svgText(x + 5, ly, label, 'class="addr"');
}

function lbLines(t: Topo, lb: Topo['lbs'][number], holders: Record<string, string[]>, adv: ReturnType<typeof advertisers>): Line[] {
  const lines: Line[] = [];
  const vips = t.plan.networks.flatMap((n) => n.vips);
  for (const v of vips.filter((x) => holders[x.address]?.includes(lb.host))) {
    const ni = t.networks.findIndex((n) => n.name === v.network);
    const role = v.master?.host === lb.host ? 'master' : `backup (master ${v.master?.host ?? '-'})`;
    lines.push({ text: `● VIP ${v.address}  VRID ${v.vrid}, ${role}`, cls: v.master?.host === lb.host ? 'vip' : 'vip warn', colour: netColour(ni), vip: v.address });
  }
  if (!lines.length) lines.push({ text: 'holds no VIP', cls: 'muted' });
  for (const a of adv.get(lb.host) ?? []) {
    lines.push({ text: `on the wire: adverts for VRID ${a.vrid}, prio ${a.priorities.join('/')} (${a.network})${a.rivals ? `, and ${a.rivals} other source!` : ''}`, cls: a.rivals ? 'wire warn' : 'wire' });
  }
  return lines;
}

/** The topology as an inline SVG element. */
export function topologySvg(r: VerifyJsonReport): string {
  const t = r.topology;
  const holders = currentHolders(r);
  const adv = advertisers(r);
  const netIdx = (addrs: Record<string, string>) => t.networks.map((n, i) => (addrs[n.name] !== undefined ? i : -1)).filter((i) => i >= 0);
  const others = [...t.probes.filter((p) => !p.isLb).map((p) => ({ ...p, role: 'probe', port: 0 })), ...t.backends.map((b) => ({ host: b.host, addresses: { [b.network]: b.address }, role: 'backend', port: b.port }))];
  const top = others.filter((o) => netIdx(o.addresses)[0] === 0);
  const bottom = others.filter((o) => netIdx(o.addresses)[0] !== 0);
  const lbText = t.lbs.map((lb) => lbLines(t, lb, holders, adv));
  const lbH = 34 + LINE * Math.max(2, ...lbText.map((l) => l.length));
  const bus0 = top.length ? M + ROW_H + 36 : M + 10;
  const midY = bus0 + 40;
  const busY = t.networks.map((_, i) => (i === 0 ? bus0 : midY + lbH + 40 * i));
  const lastBus = busY[busY.length - 1] ?? bus0;
  const botY = lastBus + 36;
  const H = (bottom.length ? botY + ROW_H : lastBus) + M;
  const parts: string[] = [];
  t.networks.forEach((n, i) => {
    parts.push(`<line x1="${M}" y1="${busY[i]}" x2="${W - M}" y2="${busY[i]}" stroke="${netColour(i)}" stroke-width="4"/>`);
    parts.push(svgText(W - M, busY[i] - 6, `${n.name} ${n.subnet}`, `class="net" text-anchor="end" fill="${netColour(i)}"`));
  });
  const small = (o: (typeof others)[number], b: Box, below: boolean) => {
    const i = netIdx(o.addresses)[0] ?? 0;
    const addr = o.addresses[t.networks[i]?.name] ?? '';
    const cx = b.x + b.w / 2;
    parts.push(stub(cx, below ? busY[i] : b.y + b.h, below ? b.y : busY[i], netColour(i), `${addr}${o.port && o.port !== 80 ? `:${o.port}` : ''}`));
    parts.push(`<g class="host ${o.role}" data-host="${esc(o.host)}"><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6"/>`);
    parts.push(svgText(b.x + 8, b.y + 22, o.host, 'class="name"') + svgText(b.x + 8, b.y + 42, o.role === 'probe' ? 'probe: requests the VIPs' : `backend, nginx :${o.port}`, 'class="muted"') + '</g>');
  };
  place(top.length, 230, M, ROW_H).forEach((b, i) => small(top[i], b, false));
  place(bottom.length, 230, botY, ROW_H).forEach((b, i) => small(bottom[i], b, true));
  place(t.lbs.length, 440, midY, lbH).forEach((b, k) => {
    const lb = t.lbs[k];
    t.networks.forEach((n, i) => {
      if (lb.addresses[n.name] === undefined) return;
      const x = b.x + 24 + i * 150;
      parts.push(stub(x, i === 0 ? busY[0] : b.y + b.h, i === 0 ? b.y : busY[i], netColour(i), `${lb.interfaces[n.name] ?? ''} ${lb.addresses[n.name]}`));
    });
    parts.push(`<g class="host lb" data-host="${esc(lb.host)}"><rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="8"/>`);
    parts.push(svgText(b.x + 10, b.y + 24, lb.host, 'class="name"') + svgText(b.x + b.w - 10, b.y + 24, 'load balancer: keepalived + nginx', 'class="muted" text-anchor="end"'));
    lbText[k].forEach((l, j) => parts.push(svgText(b.x + 12, b.y + 46 + j * LINE, l.text, `class="${l.cls}"${l.colour ? ` fill="${l.colour}"` : ''}${l.vip ? ` data-vip-at="${esc(l.vip)}"` : ''}`)));
    parts.push('</g>');
  });
  const nobody = Object.entries(holders).filter(([, h]) => h.length === 0).map(([v]) => v);
  if (nobody.length) parts.push(svgText(M, H - 4, `held by nobody: ${nobody.join(', ')}`, 'class="warn"'));
  return `<svg class="topology" viewBox="0 0 ${W} ${H + (nobody.length ? 12 : 0)}" role="img" aria-label="topology">${parts.join('')}</svg>`;
}
