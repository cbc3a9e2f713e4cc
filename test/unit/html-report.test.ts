// The HTML report of `provision verify --html`, drawn from a JSON report captured on the lab
// (verify --failover: nginx killed on ka67, then on ka68). Without a browser: the page is
// self-contained (no script, no fetched resource) and escapes what it shows. In chromium
// (headless, Debian's package): every VIP at the node holding it, each gap equal to the
// report's, no sideways scrolling at laptop and A4 widths, a screenshot kept in
// test-output/html-report/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderHtmlReport } from '../../src/verify/html.ts';
import type { VerifyJsonReport } from '../../src/verify/html-data.ts';
import { CHROMIUM } from '../helpers/chromium.ts';
import { assertReportInBrowser } from '../helpers/html-report-dom.ts';
import { ROOT } from './topology-helpers.ts';

const FIXTURE = join(ROOT, 'test/fixtures/verify/report-failover.json');
const report = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as VerifyJsonReport;

test('the page is self-contained: no script, no external resource, nothing to fetch', () => {
  const html = renderHtmlReport(report());
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i);
  assert.doesNotMatch(html, /\b(src|href)=/i);
  assert.match(html, /<svg class="topology"/);
  assert.equal((html.match(/<svg class="timeline"/g) ?? []).length, report().failover!.lbs.flatMap((l) => l.results).length * 2, 'a failover and a preemption timeline per VIP');
});

test('without --failover: topology, plan and checks, no failover section', () => {
  const r = report();
  delete r.failover;
  const html = renderHtmlReport(r);
  assert.doesNotMatch(html, /<svg class="timeline"|<h2>Failover/);
  for (const v of r.topology.plan.networks.flatMap((n) => n.vips)) assert.ok(html.includes(`data-vip-at="${v.address}"`), v.address);
  assert.equal((html.match(/<tr class="(ok|bad)"><td>/g) ?? []).length, r.verify.checks.length);
});

test('text from the report is escaped', () => {
  const r = report();
  r.verify.checks[0].detail = '<b onmouseover="x()">&</b>';
  r.inventory = '<script>alert(1)</script>.yaml';
  const html = renderHtmlReport(r);
  assert.ok(html.includes('&lt;b onmouseover=&quot;x()&quot;&gt;&amp;&lt;/b&gt;'));
  assert.doesNotMatch(html, /<script>alert/);
});

test('chromium renders the lab failover report: VIPs at their holders, gaps equal to the JSON report', { skip: !CHROMIUM && 'chromium is not installed (apt-get install chromium)', timeout: 120_000 }, async () => {
  const out = join(ROOT, 'test-output/html-report');
  const { facts } = await assertReportInBrowser(report(), out);
  assert.ok(facts.timelineGaps.length >= 8, 'two LBs x two VIPs x two phases');
  assert.ok(facts.timelineGaps.some((g) => Number(g.ms) > 0), 'the fixture has real gaps');
});
