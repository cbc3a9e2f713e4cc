// verifyFailover's fault modes against a simulated two-LB cluster (RecordingTransports that
// answer from a shared state): which commands each mode runs on the LB, that a powered-off LB
// is never asked for its addresses, that it is reached through a fresh connection after power
// on, and that the cluster is left as found.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecordingTransport } from '../../src/transport/recording.js';
import type { Transport } from '../../src/transport/types.js';
import { deriveTopology } from '../../src/topology/index.js';
import type { Host } from '../../src/inventory/types.js';
import { verifyFailover, formatFailoverTable, type FailoverMode } from '../../src/verify/failover.js';

const ha = {
  lb_group: 'lb',
  backend_group: 'web',
  probe_group: 'probes',
  mcast_group: '224.0.0.111',
  password: 'lab8pass',
  networks: [
    { name: 'external', interface: 'eth0', subnet: '172.16.8.0/24', vips: [{ address: '172.16.8.100', vrid: 191 }, { address: '172.16.8.101', vrid: 192 }] },
    { name: 'internal', interface: 'eth1', subnet: '10.16.8.0/24', vips: [{ address: '10.16.8.100', vrid: 171 }, { address: '10.16.8.101', vrid: 172 }] },
  ],
};
const host = (name: string, group: string, addresses: Record<string, string>): Host => ({ name, groups: ['all', group], vars: { ha, addresses } });
const hosts = [
  host('ka67', 'lb', { external: '172.16.8.10', internal: '10.16.8.10' }),
  host('ka68', 'lb', { external: '172.16.8.11', internal: '10.16.8.11' }),
  host('web1', 'web', { internal: '10.16.8.8' }),
  host('client-int', 'probes', { internal: '10.16.8.50' }),
  host('client-ext', 'probes', { external: '172.16.8.50' }),
];
const model = deriveTopology(hosts);
const IFACE: Record<string, string> = { '172': 'eth0', '10.': 'eth1' };

/** Two LBs: each VIP held by its master unless that master lost nginx, keepalived or power. */
class Cluster {
  nginx: Record<string, boolean> = { ka67: true, ka68: true };
  keepalived: Record<string, boolean> = { ka67: true, ka68: true };
  power: Record<string, boolean> = { ka67: true, ka68: true };
  addrAsked: Array<{ host: string; powered: boolean }> = [];
  made: RecordingTransport[] = [];
  healthy = (lb: string) => this.nginx[lb] && this.keepalived[lb] && this.power[lb];
  holder(vip: string): string {
    const master = model.vips.find((v) => v.address === vip)!.master!;
    const peer = master === 'ka67' ? 'ka68' : 'ka67';
    return this.healthy(master) ? master : peer;
  }
  transport(name: string): RecordingTransport {
    const t = new RecordingTransport(name, {
      fallback: (cmd) => {
        if (name.startsWith('ka') && !this.power[name]) throw new Error(`${name}: connection lost`);
        if (cmd.startsWith('ip -j -4 addr')) {
          this.addrAsked.push({ host: name, powered: this.power[name] });
          const mine = model.vips.map((v) => v.address).filter((a) => this.holder(a) === name);
          return { stdout: JSON.stringify(['eth0', 'eth1'].map((ifname) => ({ ifname, addr_info: mine.filter((a) => IFACE[a.slice(0, 3)] === ifname).map((a) => ({ family: 'inet', local: a, prefixlen: 32 })) }))) };
        }
        const active = cmd.match(/^systemctl is-active --quiet (\S+)$/);
        if (active) return { code: (active[1] === 'nginx' ? this.nginx[name] : this.keepalived[name]) ? 0 : 3 };
        if (cmd.includes('kill -KILL')) return (this.nginx[name] = false), {};
        if (cmd === 'systemctl start nginx') return (this.nginx[name] = true), {};
        if (cmd === 'systemctl stop keepalived') return (this.keepalived[name] = false), {};
        if (cmd === 'systemctl start keepalived') return (this.keepalived[name] = true), {};
        if (cmd.startsWith('python3 - ')) {
          // Requests answered, then two failures (the gap), then answered again.
          const vips = (JSON.parse(cmd.slice(cmd.indexOf("'") + 1, cmd.lastIndexOf("'"))) as { vips: string[] }).vips;
          const lines = vips.flatMap((vip) => [0, 40, 80, 120, 160].map((t, i) => JSON.stringify({ t, s: t, vip, ok: i !== 2 && i !== 3, status: i === 2 || i === 3 ? 0 : 200, backend: 'web1' })));
          return { stdout: [...lines, JSON.stringify({ end: 200, reason: 'stop' })].join('\n') + '\n' };
        }
        return {};
      },
    });
    this.made.push(t);
    return t;
  }
}

async function run(mode: FailoverMode, withPower = true) {
  const c = new Cluster();
  const first = new Map<string, RecordingTransport>();
  for (const h of hosts) first.set(h.name, c.transport(h.name));
  const reconnected: RecordingTransport[] = [];
  const report = await verifyFailover(model, async (h) => first.get(h)!, {
    mode,
    sleep: async () => {},
    baselineMs: 0,
    settleMs: 0,
    pollMs: 0,
    power: withPower
      ? {
          off: async (h) => void (c.power[h] = false),
          on: async (h) => void (c.power[h] = true),
        }
      : undefined,
    reconnect: async (h): Promise<Transport> => {
      const t = c.transport(h);
      reconnected.push(t);
      return t;
    },
  });
  return { c, first, reconnected, report };
}

test('mode keepalived: stops and starts keepalived on each LB in turn; the peer takes over; restored', async () => {
  const { c, first, report } = await run('keepalived');
  assert.equal(report.mode, 'keepalived');
  assert.equal(report.ok, true, formatFailoverTable(report));
  assert.deepEqual(report.lbs.map((l) => [l.lb, l.mode, l.restored]), [['ka67', 'keepalived', true], ['ka68', 'keepalived', true]]);
  for (const lb of ['ka67', 'ka68']) {
    const cmds = first.get(lb)!.commands;
    assert.ok(cmds.indexOf('systemctl stop keepalived') >= 0 && cmds.indexOf('systemctl stop keepalived') < cmds.indexOf('systemctl start keepalived'), cmds.join('\n'));
    assert.equal(cmds.filter((x) => x.includes('kill -KILL')).length, 0, 'nginx was not touched');
  }
  assert.deepEqual(report.lbs[0].takeoverBy, { '172.16.8.100': ['ka68'], '10.16.8.100': ['ka68'] });
  assert.deepEqual(c.keepalived, { ka67: true, ka68: true });
  assert.equal(report.lbs[0].results[0].failover?.gapMs, 120, 'last answer at 40 ms, next at 160 ms');
});

test('mode poweroff: the powered-off LB is never asked, is reached over a new connection after power on', async () => {
  const { c, reconnected, report } = await run('poweroff');
  assert.equal(report.ok, true, formatFailoverTable(report));
  assert.ok(c.addrAsked.length > 0);
  assert.deepEqual(c.addrAsked.filter((a) => !a.powered), [], 'no address query reached a powered-off LB');
  assert.deepEqual(reconnected.map((t) => t.host), ['ka67', 'ka68']);
  assert.ok(reconnected.every((t) => t.closed), 'transports made by reconnect are closed at the end');
  for (const l of report.lbs) {
    assert.equal(typeof l.bootMs, 'number');
    assert.equal(typeof l.preemptMs, 'number');
    assert.ok(l.restored);
  }
  assert.deepEqual(c.power, { ka67: true, ka68: true });
  assert.match(formatFailoverTable(report), /after the power was cut/);
});

test('mode poweroff without a power control: reported, nothing touched', async () => {
  const { c, report } = await run('poweroff', false);
  assert.equal(report.ok, false);
  assert.match(report.lbs[0].problems.join('\n'), /needs a power control/);
  assert.deepEqual(c.power, { ka67: true, ka68: true });
  assert.deepEqual(c.nginx, { ka67: true, ka68: true });
});

test('mode nginx (the default) still kills nginx and starts it again', async () => {
  const { first, report } = await run('nginx');
  assert.equal(report.ok, true, formatFailoverTable(report));
  const cmds = first.get('ka67')!.commands;
  assert.ok(cmds.some((x) => x.includes('kill -KILL')));
  assert.ok(cmds.includes('systemctl start nginx'));
  assert.ok(!cmds.includes('systemctl stop keepalived'));
});
