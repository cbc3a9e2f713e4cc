// Restart with handover (src/ops/handover.ts): the VIPs go to the peer before keepalived
// restarts, and come back after. keepalived and the peer are simulated here (the commands
// `ip -o -4 addr show` and `systemctl reload|restart` are answered by a model that reads the
// config actually written to a temp dir); the file writes are real. In the lab, the rolling
// e2e test runs the same path against real keepalived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalTransport } from '../helpers/local-transport.js';
import type { OpContext } from '../../src/ops/types.js';
import type { Facts } from '../../src/facts/types.js';
import type { ExecOptions, ExecResult } from '../../src/transport/types.js';
import { sh, type Shell } from '../../src/transport/quote.js';
import { planHandoverRestart, drainKeepalivedConf } from '../../src/ops/handover.js';

const CONF = `vrrp_instance EXTERNAL_1 {
    state MASTER
    interface eth0
    priority 100
}
vrrp_instance EXTERNAL_2 {
    state BACKUP
    interface eth0
    priority 95
}
`;

/** This node's keepalived and a peer: reload/restart read the live config; VIPs follow priorities after a delay. */
class SimulatedNode extends LocalTransport {
  held = new Set(['172.16.8.100']);
  events: string[] = [];
  constructor(readonly conf: string, readonly peerAlive = true) {
    super('ka67');
  }
  override async exec(cmd: Shell, opts: ExecOptions = {}): Promise<ExecResult> {
    const ok = (stdout = ''): ExecResult => ({ stdout, stderr: '', code: 0 });
    if (cmd.text.startsWith('ip -o -4 addr show')) {
      return ok([...this.held].map((a, i) => `${i + 2}: eth0    inet ${a}/32 scope global eth0\\       valid_lft forever preferred_lft forever`).join('\n') + '\n');
    }
    const m = cmd.text.match(/^systemctl (reload|restart) keepalived$/);
    if (m) {
      const text = await readFile(this.conf, 'utf8');
      const drained = !/priority 100/.test(text);
      this.events.push(`${m[1]} ${drained ? 'drained' : 'normal'} holding ${[...this.held].join(',') || 'none'}`);
      if (m[1] === 'restart') this.held.clear();
      // the peer preempts a drained master a little later; a normal node preempts back
      setTimeout(() => {
        if (drained && this.peerAlive) this.held.clear();
        if (!drained) this.held.add('172.16.8.100');
      }, 150);
      return ok();
    }
    return super.exec(cmd, opts);
  }
}

function ctx(t: LocalTransport): OpContext {
  return { host: { name: 'ka67', groups: ['lb'], vars: {} }, transport: t, read: (c) => t.exec(c), facts: async () => ({}) as Facts, factsChanged: () => {}, check: false, diff: false };
}

const spec = (conf: string) => ({
  vips: ['172.16.8.100'],
  confPath: conf,
  finalConf: CONF,
  drainedConf: drainKeepalivedConf(CONF),
  validate: (c: string) => sh`grep -q vrrp_instance ${c}`,
  timeoutMs: 3000,
  pollMs: 20,
});

test('drained config: every priority 1, no MASTER state, nothing else changed', () => {
  const d = drainKeepalivedConf(CONF);
  assert.deepEqual([...d.matchAll(/priority (\d+)/g)].map((m) => m[1]), ['1', '1']);
  assert.doesNotMatch(d, /MASTER/);
  assert.equal(d.replace(/priority 1\n/g, '').replace(/state BACKUP/g, ''), CONF.replace(/priority \d+\n/g, '').replace(/state (MASTER|BACKUP)/g, ''));
});

test('restart with handover: drain + reload, VIPs gone, real config + restart, VIPs back', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'provision-handover-'));
  const conf = path.join(dir, 'keepalived.conf');
  const t = new SimulatedNode(conf);
  const plan = await planHandoverRestart(ctx(t), spec(conf));
  assert.equal(plan.changed, true);
  assert.match(plan.message!, /172\.16\.8\.100 handed to the peer first/);
  const msg = await plan.apply!();
  assert.deepEqual(t.events, ['reload drained holding 172.16.8.100', 'restart normal holding none']);
  assert.match(String(msg), /^peer took 172\.16\.8\.100 in \d+ ms; took 172\.16\.8\.100 back in \d+ ms$/);
  assert.equal(await readFile(conf, 'utf8'), CONF);
  await rm(dir, { recursive: true });
});

test('a peer that never takes over: no restart, the real config back and reloaded, the node keeps its VIPs', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'provision-handover-'));
  const conf = path.join(dir, 'keepalived.conf');
  const t = new SimulatedNode(conf, false);
  const plan = await planHandoverRestart(ctx(t), { ...spec(conf), timeoutMs: 500 });
  await assert.rejects(plan.apply!(), /the peer did not take over 172\.16\.8\.100 within 500 ms; keepalived was not restarted/);
  assert.deepEqual(t.events, ['reload drained holding 172.16.8.100', 'reload normal holding 172.16.8.100']);
  assert.equal(await readFile(conf, 'utf8'), CONF);
  assert.deepEqual([...t.held], ['172.16.8.100']);
  await rm(dir, { recursive: true });
});

test('a node holding no VIP restarts directly; check mode plans without touching anything', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'provision-handover-'));
  const conf = path.join(dir, 'keepalived.conf');
  const t = new SimulatedNode(conf);
  t.held.clear();
  const plan = await planHandoverRestart(ctx(t), { ...spec(conf), vips: [] });
  assert.equal(plan.message, 'restart (holds no VIP)');
  await plan.apply!();
  assert.deepEqual(t.events, ['restart normal holding none']);
  const c = { ...ctx(new SimulatedNode(conf)), check: true };
  const checkPlan = await planHandoverRestart(c, spec(conf));
  assert.equal(checkPlan.changed, true);
  assert.deepEqual((c.transport as LocalTransport).commands, []);
  await rm(dir, { recursive: true });
});
