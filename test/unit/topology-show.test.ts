// `provision check --show`: the HA plan printed before anything is applied must say what the
// rendered keepalived.conf of each node says (state, priority, VRID, advert_int, tracker and
// weight), and its expected failover times must follow from those numbers by VRRP's timers.
// The oracle is the config text itself, parsed here, not the plan's own data.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { loadInventory } from '../../src/inventory/index.ts';
import { deriveTopology, keepalivedConfData, renderTemplate, templatePath, type TrackMethod } from '../../src/topology/index.ts';
import { fmtRange } from '../../src/topology/show-timing.ts';
import type { HaPlan } from '../../src/topology/show.ts';
import { ROOT } from './topology-helpers.ts';

const PROD = join(ROOT, 'inventory/prod.yaml');
const EXPLICIT = join(ROOT, 'test/fixtures/topology/howto-explicit.yaml');
const env = { PROVISION_VRRP_PASS: 'pw-show1' };
process.env.PROVISION_VRRP_PASS = env.PROVISION_VRRP_PASS;

/** The CLI as a user runs it (in this process): exit code, stdout, stderr. */
async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

interface ConfInstance { name: string; state: string; vrid: number; priority: number; advertInt: number; vips: string[]; track: string }

/** The vrrp_instance blocks of a rendered keepalived.conf, and its tracking block's kind and weight. */
function parseConf(text: string): { instances: ConfInstance[]; trackKind: string; weight: number } {
  const instances: ConfInstance[] = [];
  for (const m of text.matchAll(/^vrrp_instance (\S+) \{\n([\s\S]*?)^\}/gm)) {
    const body = m[2];
    const num = (k: string) => Number(new RegExp(`^\\s+${k} (\\S+)$`, 'm').exec(body)![1]);
    instances.push({
      name: m[1],
      state: /^\s+state (\S+)$/m.exec(body)![1],
      vrid: num('virtual_router_id'),
      priority: num('priority'),
      advertInt: num('advert_int'),
      vips: [...body.matchAll(/^\s+(\d+\.\d+\.\d+\.\d+)\/\d+ dev/gm)].map((x) => x[1]),
      track: /^\s+(track_\w+) \{/m.exec(body)![1],
    });
  }
  const tb = /^(vrrp_script|vrrp_track_process|track_file|vrrp_track_file) \S+ \{\n[\s\S]*?^\s+weight (-?\d+)$/m.exec(text)!;
  return { instances, trackKind: tb[1], weight: Number(tb[2]) };
}

const skew = (prio: number, advertS: number) => ((256 - prio) / 256) * advertS * 1000;

async function confs(file: string, method: TrackMethod) {
  const inv = await loadInventory(file);
  const model = deriveTopology([...inv.hosts.values()], { env });
  return model.nodes.map((n) => ({
    host: n.host,
    ...parseConf(renderTemplate(templatePath('keepalived', 'keepalived.conf.ejs'), { ...keepalivedConfData(model, n.host, { trackMethod: method, keepalivedVersion: '2.2.7' }) })),
  }));
}

/** Every VIP of the plan against the configs: master, backups in order, VRID, tracking, times. */
function assertPlanMatchesConfs(plan: HaPlan, nodes: Awaited<ReturnType<typeof confs>>, trackIndex: number) {
  for (const vip of plan.networks.flatMap((n) => n.vips)) {
    const holders = nodes.flatMap((n) => n.instances.filter((i) => i.vips.includes(vip.address)).map((i) => ({ host: n.host, ...i })));
    const master = holders.find((h) => h.state === 'MASTER')!;
    const backups = holders.filter((h) => h !== master).sort((a, b) => b.priority - a.priority);
    assert.deepEqual([vip.address, vip.master?.host, vip.master?.priority, vip.vrid], [vip.address, master.host, master.priority, master.vrid]);
    assert.deepEqual(vip.backups.map((b) => [b.host, b.priority]), backups.map((b) => [b.host, b.priority]), vip.address);
    assert.equal(vip.advertInt, master.advertInt);
    const conf = nodes.find((n) => n.host === master.host)!;
    const t = vip.tracking[trackIndex];
    assert.equal(t.weight, conf.weight, vip.address);
    assert.ok(t.block.startsWith(conf.trackKind.replace(/^vrrp_track_process$/, 'track_process')), `${t.block} vs ${conf.trackKind}`);
    // The times, from the config's numbers: skew of the first backup; 2-3 adverts more on power off.
    const e = vip.expected[trackIndex];
    const s = skew(backups[0].priority, master.advertInt);
    assert.ok(Math.abs(e.keepalivedStop.maxMs - s) < 0.1, `${vip.address}: ${e.keepalivedStop.maxMs} vs ${s}`);
    assert.ok(Math.abs(e.powerOff.maxMs - (3 * master.advertInt * 1000 + s)) < 0.1);
    assert.ok(Math.abs(e.powerOff.minMs - (2 * master.advertInt * 1000 + s)) < 0.1);
    if (conf.weight === 0 && conf.trackKind !== 'vrrp_script') assert.ok(Math.abs(e.nginx!.maxMs - s) < 0.1);
  }
}

test('check --show on the seed (prod.yaml): four VIPs, masters ka67/ka68, backups and times as the rendered keepalived.conf says', async () => {
  const text = await cli(['check', PROD, '--show']);
  assert.equal(text.code, 0, text.err);
  const json = await cli(['check', PROD, '--show', '--json']);
  assert.equal(json.code, 0, json.err);
  const { plan, findings } = JSON.parse(json.out) as { plan: HaPlan; findings: unknown[] };
  assert.deepEqual(findings, []);
  const vips = plan.networks.flatMap((n) => n.vips);
  assert.deepEqual(vips.map((v) => v.address).sort(), ['10.16.8.100', '10.16.8.101', '172.16.8.100', '172.16.8.101']);
  assert.deepEqual([...new Set(vips.map((v) => v.master?.host))].sort(), ['ka67', 'ka68']);
  // Without facts the master may track nginx either way: both methods are listed.
  for (const v of vips) assert.deepEqual(v.tracking.map((t) => t.method), ['process', 'file']);
  assertPlanMatchesConfs(plan, await confs(PROD, 'process'), 0);
  assertPlanMatchesConfs(plan, await confs(PROD, 'file'), 1);
  // The text table: one row per VIP with its master, backups and the three expected times.
  for (const v of vips) {
    const row = text.out.split('\n').find((l) => l.startsWith(`${v.address} `));
    assert.ok(row, `${v.address} has a row:\n${text.out}`);
    const cells = row.split(/\s{2,}/);
    assert.equal(cells[1], String(v.vrid));
    assert.equal(cells[2], `${v.master!.host} (${v.master!.priority})`);
    assert.equal(cells[3], v.backups.map((b) => `${b.host} (${b.priority})`).join(', '));
    const e = v.expected[0];
    assert.deepEqual(cells.slice(-3), [fmtRange(e.nginx), fmtRange(e.keepalivedStop), fmtRange(e.powerOff)], row);
  }
  assert.doesNotMatch(text.out + json.out, /pw-show1/);
});

test('check --show on the explicit vrrp_instances form (the how-to, tie included): plan = configs, the tie named', async () => {
  const json = await cli(['check', EXPLICIT, '--show', '--json']);
  assert.equal(json.code, 4, 'the tie is an error');
  const { plan } = JSON.parse(json.out) as { plan: HaPlan };
  assert.equal(plan.mode, 'explicit');
  const vips = plan.networks.flatMap((n) => n.vips);
  assert.equal(vips.length, 4);
  for (const v of vips) assert.deepEqual(v.tracking.map((t) => [t.method, t.weight]), [['script', -10]]);
  assertPlanMatchesConfs(plan, await confs(EXPLICIT, 'script'), 0);
  const tie = vips.find((v) => v.address === '10.16.8.100')!;
  assert.match(tie.notes.join(' '), /ka68 has priority 100, not below the master's 100/);
  // howto: the script needs fall x interval to notice, then the backup's master-down timer.
  const v = vips.find((x) => x.address === '10.16.8.101')!;
  const s = skew(v.backups[0].priority, v.advertInt);
  assert.ok(Math.abs(v.expected[0].nginx!.maxMs - (2 * 2000 + 3 * 1000 + s)) < 0.1, JSON.stringify(v.expected[0]));
  const text = await cli(['check', EXPLICIT, '--show']);
  assert.match(text.out, /^10\.16\.8\.100 .*ka67 \(100\) +ka68 \(100\)/m);
  assert.match(text.out, /NOTE: backup ka68 has priority 100/);
});
