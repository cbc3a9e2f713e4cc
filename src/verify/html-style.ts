// The HTML report's stylesheet, inlined into the page: fluid up to a laptop's width (tables
// wrap instead of scrolling, SVGs scale), and a print layout that keeps each VIP's card on
// one page and prints the colours.
export const HTML_STYLE = `
:root { --fg: #1d232a; --muted: #5d6873; --line: #d7dde3; --ok: #2e9d4f; --bad: #d12f2f; --warn: #e08a00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 16px 20px 40px; }
h1 { font-size: 22px; margin: 4px 0; } h2 { font-size: 18px; margin: 26px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 4px; } h4 { font-size: 13px; margin: 10px 0 2px; color: var(--muted); font-weight: 600; }
.inv { font-weight: 400; color: var(--muted); }
.badge { display: inline-block; font-size: 13px; padding: 2px 10px; border-radius: 10px; color: #fff; vertical-align: middle; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
.meta, .caption, .legend { color: var(--muted); margin: 2px 0; font-size: 13px; }
svg { display: block; width: 100%; height: auto; }
svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: var(--fg); }
svg .name { font-weight: 700; font-size: 14px; } svg .muted { fill: var(--muted); }
svg .net { font-weight: 600; } svg .addr { font-size: 11px; fill: var(--muted); }
svg .host rect { fill: #f6f8fa; stroke: #9aa5b1; } svg .lb rect { fill: #eef4fb; stroke: #1f6fb2; stroke-width: 1.5; }
svg .vip { font-weight: 600; } svg .warn, svg text.warn { fill: var(--bad); font-weight: 600; } svg .wire { fill: #444; }
svg .lane, svg .ticklabel { fill: var(--muted); font-size: 11px; } svg .axis, svg .tick { stroke: #9aa5b1; }
svg .gapband { fill: rgba(209, 47, 47, 0.12); stroke: rgba(209, 47, 47, 0.5); stroke-dasharray: 3 2; }
svg .gaplabel { font-weight: 700; fill: var(--bad); font-size: 13px; } svg .gaplabel.ok { fill: #1c6b34; }
svg line.ev { stroke: #222; stroke-width: 1.5; } svg line.lbv { stroke-width: 1.2; stroke-dasharray: 4 2; }
svg .lbv-master { stroke: var(--ok); } svg .lbv-fault { stroke: var(--bad); } svg .lbv-backup { stroke: var(--warn); }
svg line.pv { stroke: #1f6fb2; stroke-width: 1.2; stroke-dasharray: 1 2; } svg text.pv { fill: #1f6fb2; }
svg text.mlabel { font-size: 11px; } svg text.lbv-master { fill: #1c6b34; } svg text.lbv-fault { fill: var(--bad); } svg text.lbv-backup { fill: #9a5c00; }
table { width: 100%; border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f5f7; font-weight: 600; } td.num { white-space: nowrap; text-align: right; }
tr.bad td { background: #fdecec; } table.checks td.detail { color: #333; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin: 12px 0; }
.problems { color: var(--bad); }
.sw { display: inline-block; width: 12px; height: 10px; vertical-align: middle; margin-left: 8px; }
.sw.ok { background: var(--ok); } .sw.reset { background: var(--warn); } .sw.syn { background: #7a3db8; } .sw.failed { background: var(--bad); }
@media print {
  @page { margin: 12mm; }
  body { font-size: 11px; } main { max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .card, svg, tr { break-inside: avoid; } h2 { break-after: avoid; }
}
`;
