// What the browser tests of the HTML report assert, shared by the fixture test
// (test/unit/html-report.test.ts) and the lab e2e: the page, rendered by chromium from a JSON
// report, shows every VIP at the node holding it, every gap the report measured with the
// same number, fetches nothing, and fits a laptop's width and an A4 page's without sideways
// scrolling. A full-page screenshot is kept in `outDir`.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderHtmlReport } from '../../src/verify/html.ts';
import type { VerifyJsonReport } from '../../src/verify/html-data.ts';
import { launchChromium } from './chromium.ts';

interface DomFacts {
  vipsAt: { vip: string; host: string | null }[];
  cards: { vip: string; lb: string; probe: string }[];
  tableGaps: { lb: string; vip: string; probe: string; phase: string; ms: string | null; text: string }[];
  timelineGaps: { vip: string; lb: string; probe: string; phase: string; ms: string | null; text: string }[];
  planVips: string[];
  checks: number;
  scrollWidth: number;
  innerWidth: number;
  result: string;
}

const COLLECT = `(() => {
  const q = (s, r = document) => [...r.querySelectorAll(s)];
  return {
    vipsAt: q('[data-vip-at]').map((e) => ({ vip: e.getAttribute('data-vip-at'), host: e.closest('[data-host]')?.getAttribute('data-host') ?? null })),
    cards: q('section.vipcard').map((e) => ({ vip: e.dataset.vip, lb: e.dataset.lb, probe: e.dataset.probe })),
    tableGaps: q('table.failover tbody tr').flatMap((tr) => ['failover', 'preempt'].map((p) => {
      const td = tr.querySelector('td.gap-' + p);
      return { lb: tr.dataset.lb, vip: tr.dataset.vip, probe: tr.dataset.probe, phase: p, ms: td?.getAttribute('data-gap-ms') ?? null, text: td?.textContent ?? '' };
    })),
    timelineGaps: q('section.vipcard svg.timeline').map((svg) => {
      const t = svg.querySelector('[data-gap-ms]');
      return { vip: svg.dataset.vip, lb: svg.closest('section').dataset.lb, probe: svg.closest('section').dataset.probe, phase: svg.dataset.phase, ms: t?.getAttribute('data-gap-ms') ?? null, text: t?.textContent ?? '' };
    }),
    planVips: q('table.plan tbody tr').map((tr) => tr.dataset.vip),
    checks: q('table.checks tbody tr').length,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    result: document.getElementById('result')?.textContent ?? '',
  };
})()`;

/** Render `report` to `outDir`/report.html, open it in chromium and assert on its DOM. */
export async function assertReportInBrowser(report: VerifyJsonReport, outDir: string): Promise<{ html: string; screenshot: string; facts: DomFacts }> {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'report.json'), JSON.stringify(report));
  const html = join(outDir, 'report.html');
  writeFileSync(html, renderHtmlReport(report));
  const url = pathToFileURL(html).href;
  const browser = await launchChromium();
  try {
    const page = await browser.open(url, { width: 1366, height: 900 });
    const facts = await page.eval<DomFacts>(COLLECT);
    const screenshot = join(outDir, 'report.png');
    await page.screenshot(screenshot);
    assert.ok((await page.pdf(join(outDir, 'report.pdf'))) > 1000, 'the page prints');
    assert.deepEqual(page.requests, [url], 'the page fetches nothing but itself');
    assert.ok(facts.scrollWidth <= facts.innerWidth, `no sideways scrolling at 1366 px: ${facts.scrollWidth} > ${facts.innerWidth}`);
    // An A4 page is about 794 CSS pixels wide: the same must hold there (print, narrow windows).
    const narrow = await browser.open(url, { width: 794, height: 1123 });
    const n = await narrow.eval<DomFacts>(COLLECT);
    assert.ok(n.scrollWidth <= n.innerWidth, `no sideways scrolling at 794 px: ${n.scrollWidth} > ${n.innerWidth}`);
    assertFacts(report, facts);
    return { html, screenshot, facts };
  } finally {
    await browser.close();
  }
}

function assertFacts(report: VerifyJsonReport, f: DomFacts): void {
  assert.equal(f.result, report.ok ? 'PASS' : 'FAIL');
  const vips = report.topology.plan.networks.flatMap((n) => n.vips.map((v) => v.address));
  assert.deepEqual([...f.planVips].sort(), [...vips].sort(), 'every VIP in the plan table');
  // Each VIP drawn inside the box of the node holding it (the report's reading), nowhere else.
  const holders = report.holders ?? {};
  for (const vip of vips) {
    const at = f.vipsAt.filter((x) => x.vip === vip).map((x) => x.host);
    const want = report.holders ? holders[vip] : report.verify.vipsHeld.filter((h) => h.held.includes(vip)).map((h) => h.host);
    assert.deepEqual(at.sort(), [...want].sort(), `${vip} drawn at ${want.join('+') || 'nobody'}`);
  }
  assert.equal(f.checks, report.verify.checks.length, 'every check row');
  for (const l of report.failover?.lbs ?? []) {
    for (const r of l.results) {
      for (const phase of ['failover', 'preempt'] as const) {
        const g = r[phase];
        if (!g) continue;
        const cell = f.tableGaps.find((x) => x.lb === l.lb && x.vip === r.vip && x.probe === r.probe && x.phase === phase);
        assert.equal(cell?.ms, String(g.gapMs), `${l.lb} ${r.vip} ${phase}: table gap`);
        assert.match(cell!.text, new RegExp(`\\b${g.gapMs} ms`));
        const tl = f.timelineGaps.find((x) => x.lb === l.lb && x.vip === r.vip && x.probe === r.probe && x.phase === phase);
        assert.ok(tl, `${l.lb} ${r.vip} ${phase}: a timeline`);
        assert.equal(tl.ms, String(g.gapMs), `${l.lb} ${r.vip} ${phase}: timeline gap`);
        assert.match(tl.text, new RegExp(`\\b${g.gapMs} ms`));
      }
      assert.ok(f.cards.some((c) => c.lb === l.lb && c.vip === r.vip && c.probe === r.probe), `${l.lb} ${r.vip}: a card`);
    }
  }
}
