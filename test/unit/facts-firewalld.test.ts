// firewalld's facts parse the output captured on the lab's ka67 (test/fixtures/firewalld):
// each fact is its command plus a pure parser, so its answer is checked here without a host.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { firewalldBus, firewalldZones, firewalldZone, firewalldInterfaceZones, zonesOfInterfaces, type FirewalldBus } from '../../src/facts/firewalld.js';
import type { ExecResult } from '../../src/transport/types.js';

const fixture = (f: string) => readFileSync(new URL(`../fixtures/firewalld/${f}`, import.meta.url), 'utf8');
const ok = (stdout: string, code = 0): ExecResult => ({ code, stdout, stderr: '' });
const up = (b: FirewalldBus) => {
  assert.equal(b.state, 'up');
  return b as Extract<FirewalldBus, { state: 'up' }>;
};

test('firewalldBus: busctl and dbus-send answers give the same default zone and bindings', () => {
  for (const [file, via] of [['bus-first.txt', 'busctl'], ['dbus-first.txt', 'send']] as const) {
    const b = up(firewalldBus.parse(ok(fixture(file))));
    assert.equal(b.via, via, file);
    assert.equal(b.defaultZone, 'public', file);
    assert.deepEqual(b.bound, {}, `${file}: no interface bound to a zone`);
    assert.deepEqual(zonesOfInterfaces(b, ['eth0', 'eth1']), ['public']);
  }
  for (const file of ['bus-first-eth1-trusted.txt', 'dbus-first-eth1-trusted.txt']) {
    const b = up(firewalldBus.parse(ok(fixture(file))));
    assert.equal(b.bound.eth1, 'trusted', file);
    assert.deepEqual(zonesOfInterfaces(b, ['eth0', 'eth1']), ['public', 'trusted'], file);
  }
});

test('firewalldBus: firewalld off the bus is down with its message; a missing or old client is unknown', () => {
  assert.deepEqual(firewalldBus.parse(ok('down\tCall failed: The name org.fedoraproject.FirewallD1 was not provided by any .service files\n')), {
    state: 'down',
    message: 'Call failed: The name org.fedoraproject.FirewallD1 was not provided by any .service files',
  });
  assert.deepEqual(firewalldBus.parse(ok("down\tbusctl: unrecognized option '--json=short'\n")), { state: 'unknown' });
  assert.deepEqual(firewalldBus.parse(ok('', 3)), { state: 'unknown' });
  assert.deepEqual(firewalldBus.parse(ok('@@default\nmethod return x\n   unix fd 3\n@@active\n')), { state: 'unknown' }, 'a reply line it does not know');
});

test('firewalldZones: runtime and permanent settings of zone public, the same through both clients', () => {
  const viaBus = firewalldZones.parse(ok(fixture('bus-second.txt')), 'busctl', 'public');
  const viaSend = firewalldZones.parse(ok(fixture('dbus-second.txt')), 'send', 'public');
  assert.ok(viaBus && viaSend);
  const sorted = (z: { rich: string[]; ports: string[]; services: string[] }) => ({ rich: [...z.rich].sort(), ports: [...z.ports].sort(), services: [...z.services].sort() });
  for (const kind of ['runtime', 'permanent'] as const) assert.deepEqual(sorted(viaSend.get('public')![kind]), sorted(viaBus.get('public')![kind]), kind);
  const perm = viaBus.get('public')!.permanent;
  assert.deepEqual(perm.ports, ['2201/tcp']);
  assert.deepEqual(perm.services, ['ssh', 'dhcpv6-client']);
  assert.equal(perm.rich.length, 6);
  const cut = fixture('dbus-second.txt').split('\n').slice(0, 30).join('\n');
  assert.equal(firewalldZones.parse(ok(cut), 'send', 'public'), undefined, 'a reply cut short is no answer');
  assert.equal(firewalldZones.parse(ok('', 3), 'busctl', 'public'), undefined);
});

test('firewalldZones refuses a zone name that is not one before building a command', () => {
  assert.throws(() => firewalldZones.command('send', 'public; reboot'), /not a firewalld zone name/);
});

test('firewall-cmd facts: the zones of interfaces, and a zone listing split into rules, ports and services', () => {
  assert.deepEqual(firewalldInterfaceZones.parse(ok('eth0 public\neth1 trusted\neth2 public\n'), 'eth0', 'eth1', 'eth2'), ['public', 'trusted']);
  assert.throws(() => firewalldInterfaceZones.parse(ok('', 252), 'eth0'), /zones failed/);
  const listing = 'rule family="ipv4" source address="10.16.8.11" protocol value="vrrp" accept\nrule family="ipv4" port port="80" protocol="tcp" accept\n@@provision-open@@\n2201/tcp 8080/tcp\nssh dhcpv6-client\n';
  assert.deepEqual(firewalldZone.parse(ok(listing), 'public', 'permanent'), {
    rich: ['rule family="ipv4" source address="10.16.8.11" protocol value="vrrp" accept', 'rule family="ipv4" port port="80" protocol="tcp" accept'],
    ports: ['2201/tcp', '8080/tcp'],
    services: ['ssh', 'dhcpv6-client'],
  });
  assert.match(firewalldZone.command('public', 'permanent').text, /^firewall-cmd --permanent --zone=public --list-rich-rules && /);
  assert.doesNotMatch(firewalldZone.command('public', 'runtime').text, /--permanent/);
});
