// The mission, end to end, on the lab (root on Linux; skipped elsewhere): six fresh hosts are
// turned into the dual-master keepalived + nginx layout and proven on the wire, then changed
// under client traffic, broken on purpose, and faulted mid-run. Every assertion is read from
// the JSON reports and from the hosts themselves.
//   converge -> verify (VIPs, adverts, curl) -> converge again: changed=0 -> --check: nothing to do
//   -> failover (nginx killed on each LB) -> rolling change under traffic: 0 failed requests
//   -> invalid nginx config: that LB fails, live config still serving, peer untouched
//   -> an LB container stopped mid-run: named unreachable, the rest proceed -> restored.
// PROVISION_KEEP_LAB=1 leaves the lab up afterwards (otherwise `lab down`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { labDown, labPaths, labSshExec, labUp } from '../src/lab/index.ts';
import { stopHost } from '../src/lab/host.ts';
import { openSession, type Session } from '../src/cli/session.ts';
import { deriveTopology } from '../src/topology/index.ts';
import type { HaModel } from '../src/topology/types.ts';
import { startTraffic, formatTrafficTable } from '../src/verify/traffic.ts';
import type { VerifyJsonReport } from '../src/verify/html-data.ts';
import { CHROMIUM } from './helpers/chromium.ts';
import { assertReportInBrowser } from './helpers/html-report-dom.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'the lab needs root on Linux' : false;
const keep = process.env.PROVISION_KEEP_LAB === '1';
const labLog: string[] = [];
const opts = { repoRoot, log: (l: string) => labLog.push(l) };
const inventory = join(repoRoot, 'inventory', 'lab.yaml');
const work = mkdtempSync(join(tmpdir(), 'provision-e2e-'));
const LBS = ['ka67', 'ka68'];

interface HostSummary { ok: number; changed: number; failed: number; skipped: number; unreachable: number; status: string; message?: string }
interface Report { hosts: Record<string, HostSummary>; tasks: Array<{ host: string; role?: string; task: string; status: string; changed: boolean; message?: string }> }

/** Run the CLI as a user would; `onLine` sees stdout lines as they come. */
function provision(args: string[], onLine?: (line: string) => void): Promise<{ code: number | null; out: string; err: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(repoRoot, 'bin/provision.js'), ...args], { cwd: repoRoot, env: { ...process.env, CI: 'true' } });
    let out = '';
    let err = '';
    let partial = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine?.(l);
    });
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('error', rej);
    p.on('close', (code) => res({ code, out, err, seconds: (Date.now() - t0) / 1000 }));
  });
}

function report(file: string): Report {
  return JSON.parse(readFileSync(file, 'utf8')) as Report;
}

async function root(host: string, cmd: string): Promise<string> {
  const r = await labSshExec(host, `sudo sh -c '${cmd.replace(/'/g, `'\\''`)}'`, opts);
  assert.equal(r.code, 0, `${host}: ${cmd}: ${r.stderr}`);
  return r.stdout;
}

/** The lab inventory with web2 out of the upstream set and a slower advert interval. */
function changedInventory(): string {
  const inv = parse(readFileSync(inventory, 'utf8')) as { all: { vars: { ha: Record<string, unknown> }; children: Record<string, { hosts: Record<string, unknown> }> } };
  const web2 = inv.all.children.web.hosts.web2;
  delete inv.all.children.web.hosts.web2;
  inv.all.children.spare = { hosts: { web2 } };
  inv.all.vars.ha.advert_int = 2;
  const file = join(work, 'lab-changed.yaml');
  writeFileSync(file, stringify(inv));
  return file;
}

let session: Session | undefined;
let model: HaModel;
const connect = (name: string) => session!.connect(session!.inventory.hosts.get(name)!);

before(async () => {
  if (skip) return;
  const t0 = Date.now();
  const r = await labUp(opts);
  process.stderr.write(`# lab up: ${((Date.now() - t0) / 1000).toFixed(1)} s (${r.changed ? 'built or resumed' : 'already up'})\n`);
});

after(async () => {
  await session?.close();
  rmSync(work, { recursive: true, force: true });
  if (!skip && !keep) await labDown(opts);
});

test('check: the lab inventory has no topology errors', { skip }, async () => {
  const r = await provision(['check', inventory]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^0 error\(s\)/m);
});

test('converge: every host ok, and the verify play proves VIPs, adverts and HTTP', { skip, timeout: 900_000 }, async () => {
  const json = join(work, 'converge.json');
  const r = await provision([inventory, '--json', json]);
  process.stderr.write(`# converge: ${r.seconds.toFixed(1)} s\n`);
  assert.equal(r.code, 0, r.out.slice(-3000) + r.err);
  const rep = report(json);
  assert.deepEqual(Object.keys(rep.hosts).sort(), ['client-ext', 'client-int', 'ka67', 'ka68', 'web1', 'web2']);
  for (const [h, s] of Object.entries(rep.hosts)) assert.deepEqual([h, s.status, s.failed, s.unreachable], [h, 'ok', 0, 0]);
  const verify = rep.tasks.filter((t) => t.role === 'verify');
  // two checks per LB, one curl check per probe
  assert.equal(verify.filter((t) => t.status === 'ok').length, 6, JSON.stringify(verify));
});

test('converge again: changed=0 on every host; --check agrees there is nothing to do', { skip, timeout: 300_000 }, async () => {
  const json = join(work, 'noop.json');
  const r = await provision([inventory, '--json', json]);
  process.stderr.write(`# no-op: ${r.seconds.toFixed(1)} s\n`);
  assert.equal(r.code, 0, r.out + r.err);
  for (const [h, s] of Object.entries(report(json).hosts)) assert.deepEqual([h, s.changed, s.failed], [h, 0, 0]);
  // Read-ahead: the converge recorded every check; this run answered them all from one batch per host.
  const ra = (report(json) as Report & { readAhead?: { served: number; live: number; batches: number } }).readAhead;
  assert.deepEqual([ra?.live, ra?.batches], [0, 6], JSON.stringify(ra));
  assert.ok(ra!.served >= 30, JSON.stringify(ra));
  const cjson = join(work, 'check.json');
  const c = await provision([inventory, '--check', '--json', cjson]);
  assert.equal(c.code, 0, c.out + c.err);
  for (const [h, s] of Object.entries(report(cjson).hosts)) assert.deepEqual([h, s.changed, s.failed], [h, 0, 0]);
  // A --check run ends with the HA plan, tracking as each LB's facts choose it (containers: track_file).
  assert.match(c.out, /^HA plan: profile /m, c.out);
  for (const vip of ['10.16.8.100', '10.16.8.101', '172.16.8.100', '172.16.8.101']) assert.match(c.out, new RegExp(`^${vip.replace(/\./g, '\\.')} .*track_file, weight 0`, 'm'), c.out);
  assert.match(c.out, /^track_file nginx_state: .*\(facts of ka6[78]\)/m);
});

test('facts: one gather of every section agrees with each section gathered alone (shared systemctl, versions from the package list)', { skip, timeout: 120_000 }, async () => {
  const { gatherFacts } = await import('../src/facts/index.ts');
  const services = ['nginx', 'keepalived', 'chrony', 'firewalld', 'nftables'];
  const s = await openSession(inventory, {}, { out: () => {}, err: () => {}, isTTY: false });
  try {
    for (const h of ['ka67', 'ka68', 'web1']) {
      const t = await s.connect(s.inventory.hosts.get(h)!);
      const all = await gatherFacts(t, { services });
      const fw = await gatherFacts(t, { services, sections: ['firewall'] });
      const ka = await gatherFacts(t, { services, sections: ['keepalived'] });
      assert.deepEqual([h, all.firewall, all.firewallTools], [h, fw.firewall, fw.firewallTools]);
      assert.equal(all.keepalivedVersion, ka.keepalivedVersion, h);
      assert.ok(!('iptables' in all.services), `${h}: a unit asked only for the firewall section is not a service fact`);
      if (h === 'ka67') {
        assert.equal(all.firewall, 'firewalld');
        assert.match(all.keepalivedVersion ?? '', /^\d+\.\d+/);
      }
    }
  } finally {
    await s.close();
  }
});

test('verify --failover: nginx killed on each LB, its VIPs move to the peer and come back', { skip, timeout: 300_000 }, async () => {
  const json = join(work, 'verify.json');
  const html = join(work, 'verify.html');
  const r = await provision(['verify', inventory, '--failover', '--json', json, '--html', html]);
  assert.equal(r.code, 0, r.out + r.err);
  process.stderr.write(r.out.split('\n').filter((l) => /^(ka6|FAILED|---)/.test(l)).map((l) => `# ${l}`).join('\n') + '\n');
  const v = JSON.parse(readFileSync(json, 'utf8')) as { ok: boolean; failover: { lbs: Array<{ lb: string; ok: boolean; restored: boolean; takeoverBy: Record<string, string[]>; expectedPeer: Record<string, string>; results: Array<{ failover?: { recovered: boolean } }> }> } };
  assert.equal(v.ok, true);
  assert.deepEqual(v.failover.lbs.map((l) => l.lb), LBS);
  for (const l of v.failover.lbs) {
    assert.ok(l.ok && l.restored, l.lb);
    for (const [vip, peer] of Object.entries(l.expectedPeer)) assert.deepEqual(l.takeoverBy[vip], [peer], `${vip} taken over by ${peer}`);
    assert.ok(l.results.length >= 2 && l.results.every((x) => x.failover?.recovered), l.lb);
  }
  // The HTML report of this run, in chromium: every VIP at its holder, each gap as in the JSON.
  if (CHROMIUM) {
    const out = join(repoRoot, 'test-output/e2e-failover');
    const full = JSON.parse(readFileSync(json, 'utf8')) as VerifyJsonReport;
    const { html: redrawn } = await assertReportInBrowser(full, out);
    assert.equal(readFileSync(html, 'utf8'), readFileSync(redrawn, 'utf8'), 'verify --html wrote the page its JSON report draws');
    process.stderr.write(`# failover report: ${out}/report.html, screenshot ${out}/report.png\n`);
  } else process.stderr.write('# chromium not installed: the failover HTML report was not checked in a browser\n');
});

test('rolling change under client traffic (upstreams, keepalived settings, a keepalived restart): zero failed requests', { skip, timeout: 300_000 }, async () => {
  session = await openSession(inventory, {}, { out: () => {}, err: () => {}, isTTY: false });
  model = deriveTopology([...session.inventory.hosts.values()], { baseDir: dirname(inventory) });
  const changed = changedInventory();
  const phases = [
    { label: 'change', inv: changed, extra: [] as string[], expect: [/nginx\.conf/, /keepalived\.conf/] },
    { label: 'change back', inv: inventory, extra: [], expect: [/nginx\.conf/, /keepalived\.conf/] },
    // a restart, not a reload: each LB hands its VIPs to the peer first, then takes them back
    { label: 'restart keepalived', inv: inventory, extra: ['-e', 'keepalived_restart=true'], expect: [/keepalived restarted, its VIPs handed to the peer first/] },
  ];
  for (const { label, inv, extra, expect } of phases) {
    // 4 VIPs x 6 Hz = 24 requests per second in total, each with a 2 s client timeout
    const traffic = await startTraffic(model, connect, { rateHz: 6, timeoutS: 2, maxSeconds: 240 });
    await new Promise((r) => setTimeout(r, 1500));
    const json = join(work, `roll-${label.replace(/ /g, '-')}.json`);
    const r = await provision([inv, '--limit', 'lb', '--skip-tags', 'verify', ...extra, '--json', json]);
    await new Promise((r) => setTimeout(r, 3000));
    const t = await traffic.stop();
    process.stderr.write(`# ${label}: ${r.seconds.toFixed(1)} s\n${formatTrafficTable(t).split('\n').map((l) => `# ${l}`).join('\n')}\n`);
    assert.equal(r.code, 0, r.out + r.err);
    const rep = report(json);
    for (const lb of LBS) {
      const names = rep.tasks.filter((x) => x.host === lb && x.changed).map((x) => x.task);
      for (const re of expect) assert.ok(names.some((n) => re.test(n)), `${label}: ${lb} changed ${names.join('; ')}`);
    }
    assert.deepEqual(t.problems, []);
    assert.ok(t.rate >= 20, `at least 20 requests/s in total (${t.rate.toFixed(1)})`);
    if (label !== 'restart keepalived') {
      assert.equal(t.failed, 0, formatTrafficTable(t)); // a reload moves nothing: not one request lost
    } else {
      // A restart moves each VIP to the peer and back (handover: no moment without a holder).
      // A request in flight at the instant its VIP moves is reset (TCP state does not move with
      // the address); 0 in 11 manual repeats of this phase, 1 of 556 in one test run. So: no
      // gap (no request times out, none waits 1 s), and at most one reset per VIP move.
      const moves = model.vips.length * 2;
      assert.ok(t.failed <= moves, formatTrafficTable(t));
      for (const v of t.vips.filter((x) => x.failed > 0)) {
        assert.ok(v.gapMs < 1000, `${v.vip}: gap ${v.gapMs} ms\n${formatTrafficTable(t)}`);
        assert.ok(v.errors.every((e) => /reset|RemoteDisconnected|BrokenPipe|aborted/i.test(e)), `${v.vip}: only connection resets at a move: ${v.errors.join('; ')}`);
      }
    }
  }
  const up = await root('ka67', 'grep -c "server .*:80;" /etc/nginx/nginx.conf');
  assert.equal(up.trim(), '2', 'both backends are upstreams again');
});

test('validate before activate: an invalid nginx config fails ka67, the live config keeps serving, ka68 is not touched', { skip, timeout: 300_000 }, async () => {
  const before67 = await root('ka67', 'sha256sum /etc/nginx/nginx.conf');
  const before68 = await root('ka68', 'sha256sum /etc/nginx/nginx.conf');
  // nginx.conf includes mime.types: without it any candidate fails `nginx -t`
  await root('ka67', 'mv /etc/nginx/mime.types /etc/nginx/mime.types.e2e');
  try {
    const json = join(work, 'invalid.json');
    const r = await provision([changedInventory(), '--limit', 'lb', '--skip-tags', 'verify', '--json', json]);
    assert.equal(r.code, 2, r.out + r.err);
    const rep = report(json);
    assert.equal(rep.hosts.ka67.status, 'failed');
    const failed = rep.tasks.find((t) => t.host === 'ka67' && t.status === 'failed');
    assert.match(failed?.message ?? '', /mime\.types/, 'the validator\'s own message');
    assert.match(rep.hosts.ka68.message ?? '', /rollout stopped before this host/);
    assert.equal(rep.tasks.filter((t) => t.host === 'ka68' && t.status !== 'skipped').length, 0);
    assert.equal(await root('ka67', 'sha256sum /etc/nginx/nginx.conf'), before67);
    assert.equal(await root('ka68', 'sha256sum /etc/nginx/nginx.conf'), before68);
    assert.equal((await root('ka67', 'ls -A /etc/nginx | grep -c "provision-tmp" || true')).trim(), '0', 'no candidate left behind');
    assert.equal((await root('ka67', 'systemctl is-active nginx')).trim(), 'active');
  } finally {
    await root('ka67', 'mv /etc/nginx/mime.types.e2e /etc/nginx/mime.types');
  }
  const v = await provision(['verify', inventory]);
  assert.equal(v.code, 0, v.out + v.err);
});

test('an LB container powered off mid-run is named unreachable; the rest proceed; a re-run restores', { skip, timeout: 600_000 }, async () => {
  await session?.close();
  session = undefined;
  const json = join(work, 'fault.json');
  let stopped: Promise<boolean> | undefined;
  // (verify is skipped here: with ka68 gone, ka67 rightly holds every VIP, which verify reports)
  const r = await provision([changedInventory(), '-v', '--skip-tags', 'verify', '--json', json], (line) => {
    // the first task of ka68 in the load balancer play (its backends and probe tasks are done)
    if (!stopped && /^\s+\S*\s*ka68: nginx_lb/.test(line)) stopped = stopHost(labPaths(repoRoot), 'ka68', { hard: true });
  });
  assert.ok(stopped, `ka68 was never reached:\n${r.out}`);
  await stopped;
  assert.equal(r.code, 2, r.out + r.err);
  const rep = report(json);
  assert.equal(rep.hosts.ka68.status, 'unreachable', JSON.stringify(rep.hosts.ka68));
  assert.ok((rep.hosts.ka68.message ?? '').length > 0);
  assert.match(r.out, /ka68.*UNREACHABLE/);
  for (const h of ['ka67', 'web1', 'client-int', 'client-ext']) assert.deepEqual([h, rep.hosts[h]?.status], [h, 'ok'], r.out.slice(-2000));
  // ka68 comes back; the original inventory converges and verifies
  await labUp(opts);
  const back = await provision([inventory, '--json', join(work, 'restored.json')]);
  assert.equal(back.code, 0, back.out.slice(-3000) + back.err);
  assert.ok(existsSync(join(work, 'restored.json')));
  const v = await provision(['verify', inventory]);
  assert.equal(v.code, 0, v.out + v.err);
});
