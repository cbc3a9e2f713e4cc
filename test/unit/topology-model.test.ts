// deriveTopology: the reference table of DESIGN.md, the round-robin rules for N LBs and
// M VIPs per network, VRID derivation, the explicit form, secrets and failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { loadFixture, loadInventoryText } from './topology-helpers.js';
import { deriveTopology, buildTopology, TopologyError, priorityAt } from '../../src/topology/model.js';
import { checkTopology } from '../../src/topology/check.js';
import { chooseTrackMethod, keepalivedConfData, nginxLbConfData, webIndexData } from '../../src/topology/render.js';
import type { HaModel } from '../../src/topology/types.js';
import type { Host } from '../../src/inventory/types.js';

const ENV = { PROVISION_VRRP_PASS: 'k33pal1v' };

function reference(): { model: HaModel; hosts: Host[] } {
  const f = loadFixture('reference.yaml');
  return { model: deriveTopology(f.hosts, { baseDir: f.dir, env: ENV }), hosts: f.hosts };
}

/** Flatten the model to the DESIGN.md table: VIP, network, VRID, master (prio), backups (prio). */
function table(model: HaModel): string[] {
  return model.vips.map((v) => {
    const members = model.nodes.flatMap((n) => n.instances.filter((i) => i.vips.includes(v.address)).map((i) => ({ host: n.host, state: i.state, prio: i.priority })));
    const master = members.filter((m) => m.state === 'MASTER').map((m) => `${m.host}(${m.prio})`).join(',');
    const backups = members.filter((m) => m.state === 'BACKUP').sort((a, b) => b.prio - a.prio).map((m) => `${m.host}(${m.prio})`).join(',');
    return `${v.address} ${v.network} ${v.vrid} ${master} ${backups}`;
  });
}

test('the reference topology derives exactly the intended table of DESIGN.md', () => {
  const { model } = reference();
  // | VIP | network | VRID | master | backup |  (DESIGN.md, "The reference topology"), with the
  // default profile's priorities near 255 (250/249: skew time 27 ms instead of 629 ms).
  const design = [
    '10.16.8.100 internal 171 ka67(250) ka68(249)',
    '10.16.8.101 internal 172 ka68(250) ka67(249)',
    '172.16.8.100 external 191 ka67(250) ka68(249)',
    '172.16.8.101 external 192 ka68(250) ka67(249)',
  ];
  assert.deepEqual(table(model).sort(), design.sort());
  assert.equal(model.mode, 'derived');
  assert.equal(model.mcastGroup, '224.0.0.111');
  assert.deepEqual(model.networks.map((n) => [n.name, n.interface, n.network, n.prefix]), [
    ['external', 'eth0', '172.16.8.0', 24],
    ['internal', 'eth1', '10.16.8.0', 24],
  ]);
  // Each instance on the interface of its network, carrying one VIP, VRRPv2 at 1 s, multicast.
  const ka67 = model.nodes.find((n) => n.host === 'ka67')!;
  assert.deepEqual(ka67.instances.map((i) => [i.name, i.interface, i.vrid, i.state, i.priority, i.vips.join(), i.advertInt, i.version, i.mcastGroup]), [
    ['EXTERNAL_1', 'eth0', 191, 'MASTER', 250, '172.16.8.100', 1, 2, '224.0.0.111'],
    ['EXTERNAL_2', 'eth0', 192, 'BACKUP', 249, '172.16.8.101', 1, 2, '224.0.0.111'],
    ['INTERNAL_1', 'eth1', 171, 'MASTER', 250, '10.16.8.100', 1, 2, '224.0.0.111'],
    ['INTERNAL_2', 'eth1', 172, 'BACKUP', 249, '10.16.8.101', 1, 2, '224.0.0.111'],
  ]);
  assert.deepEqual(model.backends, [
    { host: 'web1', address: '10.16.8.8', port: 80, network: 'internal' },
    { host: 'web2', address: '10.16.8.9', port: 80, network: 'internal' },
  ]);
  assert.deepEqual(model.probes.map((p) => [p.host, p.isLb]), [['client-int', false], ['client-ext', false]]);
  assert.equal(model.profile.name, 'default');
  assert.equal(model.profile.weight, 0);
  assert.deepEqual(model.syncGroups, []);
});

test('the derived reference topology has no check errors or warnings', () => {
  const f = loadFixture('reference.yaml');
  assert.deepEqual(checkTopology(f.hosts, { baseDir: f.dir, env: ENV }), []);
});

/** An inventory with `n` LBs and `m` VIPs per network on two networks, no VRIDs written. */
function generated(n: number, m: number, extra = ''): string {
  const vips = (net: number) => Array.from({ length: m }, (_, i) => `            - 10.${net}.0.${100 + i}`).join('\n');
  const lbs = Array.from({ length: n }, (_, i) => `        lb${i + 1}: { addresses: { a: 10.1.0.${10 + i}, b: 10.2.0.${10 + i} } }`).join('\n');
  return `all:
  vars:
    ha:
      password: secret1
${extra}      networks:
        - name: a
          interface: eth0
          subnet: 10.1.0.0/24
          vips:
${vips(1)}
        - name: b
          interface: eth1
          subnet: 10.2.0.0/24
          vips:
${vips(2)}
  children:
    lb:
      hosts:
${lbs}
    web:
      hosts:
        w1: { addresses: { b: 10.2.0.8 } }
`;
}

test('N LBs and M VIPs: the i-th VIP is mastered by LB i mod N, backups round-robin at 249, 248, ... (howto: 95, 90, ...)', () => {
  for (const [n, m, prof] of [[2, 2, ''], [3, 4, ''], [4, 3, ''], [3, 7, ''], [1, 2, ''], [3, 4, 'howto'], [2, 2, 'fast']] as const) {
    const f = loadInventoryText(generated(n, m, prof ? `      profile: ${prof}\n` : ''));
    const model = deriveTopology(f.hosts, {});
    assert.equal(model.vips.length, 2 * m);
    for (const net of ['a', 'b']) {
      model.vips.filter((v) => v.network === net).forEach((v, i) => {
        assert.deepEqual(v.masters, [`lb${(i % n) + 1}`], `${v.address} master`);
        for (let k = 0; k < n; k++) {
          const host = `lb${((i + k) % n) + 1}`;
          const inst = model.nodes.find((x) => x.host === host)!.instances.find((x) => x.vips.includes(v.address))!;
          assert.equal(inst.priority, prof === 'howto' ? 100 - 5 * k : 250 - k, `${v.address} on ${host}`);
          assert.equal(inst.state, k === 0 ? 'MASTER' : 'BACKUP');
        }
      });
    }
    // Every node runs every instance; masters spread evenly (differ by at most one per network).
    for (const node of model.nodes) assert.equal(node.instances.length, 2 * m);
    const perNode = model.nodes.map((x) => x.instances.filter((i) => i.state === 'MASTER').length);
    assert.ok(Math.max(...perNode) - Math.min(...perNode) <= 2, `spread ${perNode}`);
    const errors = checkTopology(f.hosts, {}).filter((x) => x.severity === 'error');
    assert.deepEqual(errors, [], `${n} LBs x ${m} VIPs`);
  }
});

test('priorities stay within 1..254 for many nodes', () => {
  const howto = { master: 100, step: 5 };
  assert.equal(priorityAt(0, 2), 250);
  assert.equal(priorityAt(1, 2), 249);
  assert.equal(priorityAt(249, 250), 1);
  assert.equal(priorityAt(5, 300), 250, 'more nodes than priorities: all tie (check reports it)');
  assert.equal(priorityAt(0, 2, howto), 100);
  assert.equal(priorityAt(19, 20, howto), 5);
  assert.equal(priorityAt(29, 30, howto), 71);
  for (const p of [undefined, howto]) {
    for (let n = 1; n <= 300; n++) for (let k = 0; k < n; k++) assert.ok(priorityAt(k, n, p) >= 1 && priorityAt(k, n, p) <= 254);
  }
});

test('VRIDs not written are derived unique across the topology, never colliding with written ones', () => {
  const f = loadInventoryText(generated(2, 3));
  const m = deriveTopology(f.hosts, {});
  assert.deepEqual(m.vips.map((v) => v.vrid), [51, 52, 53, 54, 55, 56]);
  assert.ok(m.vips.every((v) => !v.vridGiven));
  // Given VRIDs (one on each network) are kept and skipped by the derivation.
  const text = generated(2, 3).replace('            - 10.1.0.101', '            - { address: 10.1.0.101, vrid: 53 }').replace('            - 10.2.0.100', '            - { address: 10.2.0.100, vrid: 51 }');
  const g = deriveTopology(loadInventoryText(text).hosts, {});
  const vrids = g.vips.map((v) => v.vrid);
  assert.deepEqual(vrids, [52, 53, 54, 51, 55, 56]);
  assert.equal(new Set(vrids).size, vrids.length);
  assert.deepEqual(g.vips.map((v) => v.vridGiven), [false, true, false, true, false, false]);
});

test('instance names are <NETWORK>_<n>, upper-cased and 1-based', () => {
  const { model } = reference();
  assert.deepEqual(model.vips.map((v) => v.instance), ['EXTERNAL_1', 'EXTERNAL_2', 'INTERNAL_1', 'INTERNAL_2']);
});

test('sync: one sync group per master node holding the instances it masters on both networks', () => {
  const f = loadFixture('reference.yaml');
  (f.hosts[0].vars.ha as Record<string, unknown>).sync = true;
  const m = deriveTopology(f.hosts, { env: ENV });
  assert.deepEqual(m.syncGroups, [
    { name: 'VG_KA67', master: 'ka67', instances: ['EXTERNAL_1', 'INTERNAL_1'] },
    { name: 'VG_KA68', master: 'ka68', instances: ['EXTERNAL_2', 'INTERNAL_2'] },
  ]);
});

test('the explicit vrrp_instances form is read as written (migrations)', () => {
  const f = loadFixture('howto-explicit.yaml');
  const m = deriveTopology(f.hosts, { baseDir: f.dir });
  assert.equal(m.mode, 'explicit');
  assert.equal(m.profile.name, 'howto');
  const ka68 = m.nodes.find((n) => n.host === 'ka68')!;
  const e1 = ka68.instances.find((i) => i.name === 'External_1')!;
  assert.deepEqual([e1.network, e1.interface, e1.vrid, e1.state, e1.priority, e1.vips], ['internal', 'eth1', 171, 'BACKUP', 100, ['10.16.8.100']]);
  assert.equal(e1.authPass?.reveal(), 'renwole0');
  assert.deepEqual(m.vips.map((v) => `${v.address}:${v.masters.join('+')}`), ['10.16.8.100:ka67', '10.16.8.101:ka68', '172.16.8.100:ka67', '172.16.8.101:ka68']);
});

test('passwords: per-VIP over ha.password; VRRPv3 (profile fast) carries none', () => {
  const f = loadFixture('reference.yaml');
  const ha = f.hosts[0].vars.ha as { networks: { vips: Record<string, unknown>[] }[]; profile?: string };
  ha.networks[0].vips[1].password = 's3cret';
  const m = deriveTopology(f.hosts, { env: ENV });
  const pw = (addr: string) => m.nodes[0].instances.find((i) => i.vips.includes(addr))!.authPass?.reveal();
  assert.equal(pw('172.16.8.100'), 'k33pal1v');
  assert.equal(pw('172.16.8.101'), 's3cret');
  ha.profile = 'fast';
  const fast = deriveTopology(f.hosts, { env: ENV });
  assert.ok(fast.nodes.every((n) => n.instances.every((i) => i.authPass === undefined && i.version === 3 && i.advertInt === 0.1)));
});

test('the model never shows a password in JSON, inspect or string form', () => {
  const { model } = reference();
  for (const text of [JSON.stringify(model), inspect(model, { depth: 10 }), `${model.vips[0].password}`, String(model.nodes[0].instances[0].authPass)]) {
    assert.ok(!text.includes('k33pal1v'), text.slice(0, 200));
  }
  assert.ok(JSON.stringify(model).includes('«redacted»'));
});

test('deriveTopology throws a TopologyError naming the missing variable, with all errors attached', () => {
  const f = loadFixture('reference.yaml');
  assert.throws(
    () => deriveTopology(f.hosts, { env: {} }),
    (e: unknown) => e instanceof TopologyError && /PROVISION_VRRP_PASS is not set/.test(e.message) && e.findings.every((x) => x.severity === 'error'),
  );
  (f.hosts[0].vars.ha as Record<string, unknown>).netwroks = [];
  assert.throws(() => deriveTopology(f.hosts, { env: ENV, resolvePos: f.resolvePos }), (e: unknown) => {
    assert.ok(e instanceof TopologyError);
    assert.match(e.message, /unknown key "netwroks".*did you mean "networks"/);
    return true;
  });
});

test('buildTopology still returns a model when only a secret is missing (check reports the rest)', () => {
  const f = loadFixture('reference.yaml');
  const r = buildTopology(f.hosts, { env: {} });
  assert.equal(r.fatal, true);
  assert.ok(r.model);
  assert.deepEqual(r.findings.map((x) => x.code), ['secret-unresolved']);
});

test('template data: the right node, tracker per method and version, backends, the index page', () => {
  const { model } = reference();
  const d = keepalivedConfData(model, 'ka68', { trackMethod: 'process', keepalivedVersion: '2.2.7' });
  assert.equal(d.routerId, 'ka68');
  assert.deepEqual(d.tracker, { kind: 'process', name: 'nginx_process', process: 'nginx', quorum: 1, weight: 0 });
  assert.deepEqual(d.instances.map((i) => [i.name, i.state, i.priority, i.notifyMaster]), [
    ['EXTERNAL_1', 'BACKUP', 249, '/etc/keepalived/notify.sh master EXTERNAL_1'],
    ['EXTERNAL_2', 'MASTER', 250, '/etc/keepalived/notify.sh master EXTERNAL_2'],
    ['INTERNAL_1', 'BACKUP', 249, '/etc/keepalived/notify.sh master INTERNAL_1'],
    ['INTERNAL_2', 'MASTER', 250, '/etc/keepalived/notify.sh master INTERNAL_2'],
  ]);
  assert.throws(() => keepalivedConfData(model, 'ka68', { trackMethod: 'process', keepalivedVersion: '2.0.10' }), /track_process needs keepalived >= 2.0.11/);
  assert.equal((keepalivedConfData(model, 'ka68', { trackMethod: 'file', keepalivedVersion: '2.0.20' }).tracker as { keyword: string }).keyword, 'vrrp_track_file');
  assert.equal((keepalivedConfData(model, 'ka68', { trackMethod: 'file', keepalivedVersion: '2.2.7' }).tracker as { keyword: string }).keyword, 'track_file');
  assert.throws(() => keepalivedConfData(model, 'web1', { trackMethod: 'file', keepalivedVersion: null }), /web1 is not a load balancer/);
  assert.equal(nginxLbConfData(model, 'ka67', { osFamily: 'redhat' }).user, 'nginx');
  assert.equal(nginxLbConfData(model, 'ka67', { osFamily: 'debian' }).user, 'www-data');
  assert.deepEqual(webIndexData(model, 'web2'), { name: 'web2', address: '10.16.8.9' });
});

test('chooseTrackMethod: track_process on VMs with keepalived >= 2.0.11, track_file in containers', () => {
  assert.equal(chooseTrackMethod({ container: false, keepalivedVersion: '2.2.7' }), 'process');
  assert.equal(chooseTrackMethod({ container: false, keepalivedVersion: '2.0.11' }), 'process');
  assert.equal(chooseTrackMethod({ container: false, keepalivedVersion: '2.0.10' }), 'file');
  assert.equal(chooseTrackMethod({ container: true, keepalivedVersion: '2.2.7' }), 'file');
  assert.equal(chooseTrackMethod({ container: false, keepalivedVersion: null }), 'file');
});
