// Small pieces the HTML report's parts share: escaping (every text and attribute from the report
// goes through esc), number formats and the colours of networks and request outcomes.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** "96 ms", "1.25 s". */
export function fmtMs(ms: number): string {
  return Math.abs(ms) >= 1000 ? `${+(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** Network colours, in ha.networks order (then repeating). */
const NET_COLOURS = ['#1f6fb2', '#2e8b57', '#8a4fbf', '#b5651d'];
export const netColour = (i: number) => NET_COLOURS[((i % NET_COLOURS.length) + NET_COLOURS.length) % NET_COLOURS.length];

/** Request outcomes. */
export const KIND_COLOUR = { ok: '#2e9d4f', reset: '#e08a00', syn: '#7a3db8', failed: '#d12f2f' } as const;

/** An SVG <text> element. */
export function svgText(x: number, y: number, text: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ` ${attrs}` : ''}>${esc(text)}</text>`;
}
