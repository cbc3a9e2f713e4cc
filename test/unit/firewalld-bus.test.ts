// planFirewalld's reads over D-Bus (busctl --json), answered with real busctl output captured
// on the lab's ka67 (test/fixtures/firewalld). A recording transport stands in for the host
// here because firewalld cannot run in the root namespace of the test machine; the same code
// runs against the real firewalld of ka67 in test/e2e.test.ts (converge, then changed=0).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RecordingTransport } from '../../src/transport/recording.js';
import { planFirewalld, readFirewalldBus, type FirewallPolicy } from '../../src/ops/firewall.js';
import { zoneFromSettings2 } from '../../src/facts/firewalld.js';
import { dbusSendReply } from '../../src/facts/dbus-reply.js';
import type { OpContext } from '../../src/ops/types.js';

const fixture = (f: string) => readFileSync(new URL(`../fixtures/firewalld/${f}`, import.meta.url), 'utf8');
const FIRST = fixture('bus-first.txt');
const SECOND = fixture('bus-second.txt');

// ka67's policy in the lab: SSH on 22 and 2201, VRRP from ka68 on both networks, HTTP to the VIPs.
const POLICY: FirewallPolicy = {
  sshPorts: [22, 2201],
  vrrp: [
    { iface: 'eth0', peers: ['172.16.8.11'], group: '224.0.0.111' },
    { iface: 'eth1', peers: ['10.16.8.11'], group: '224.0.0.111' },
  ],
  tcp: [{ port: 80, daddr: ['10.16.8.100', '10.16.8.101', '172.16.8.100', '172.16.8.101'] }],
};

function ctx(t: RecordingTransport, check = false): OpContext {
  return { host: { name: t.host } as never, transport: t, read: (c) => t.exec(c), facts: async () => ({}) as never, factsChanged: () => {}, check, diff: false };
}

/** Answers the two reads; any other command fails unless `writes` (then it succeeds, as firewall-cmd would). */
function busHost(second = SECOND, writes = false): RecordingTransport {
  return new RecordingTransport('ka67', {
    answers: [
      ['getDefaultZone', { stdout: FIRST }],
      ['getZoneSettings2', { stdout: second }],
    ],
    fallback: writes ? { code: 0, stdout: 'success\n' } : { code: 127, stderr: 'unexpected command' },
  });
}

test('zoneFromSettings2 reads rich rules, ports and services from a real a{sv} reply', () => {
  const line = SECOND.split('\n').find((l) => l.startsWith('permanent'))!.split('\t')[2];
  const z = zoneFromSettings2(line);
  assert.deepEqual(z.ports, ['2201/tcp']);
  assert.deepEqual(z.services, ['ssh', 'dhcpv6-client']);
  assert.equal(z.rich.length, 6);
  assert.ok(z.rich.includes('rule family="ipv4" source address="10.16.8.11" destination address="224.0.0.111" protocol value="vrrp" accept'));
});

test('planFirewalld: every rule present at runtime and permanently -> no change, two round trips, no firewall-cmd', async () => {
  const t = busHost();
  const plan = await planFirewalld(ctx(t), POLICY, ['eth0', 'eth1']);
  assert.equal(plan.changed, false);
  const cmds = t.log.filter((e) => e.kind === 'exec').map((e) => (e as { cmd: string }).cmd);
  assert.equal(cmds.length, 2);
  assert.ok(cmds.every((c) => !c.includes('firewall-cmd')));
});

test('planFirewalld: an interface bound to another zone (getActiveZones) -> both zones read, the rules planned in each', async () => {
  // Captured with eth1 bound to zone trusted at runtime (firewall-cmd --zone=trusted --add-interface=eth1).
  const t = new RecordingTransport('ka67', {
    answers: [
      ['getDefaultZone', { stdout: fixture('bus-first-eth1-trusted.txt') }],
      ['getZoneSettings2', { stdout: SECOND }],
    ],
    fallback: { code: 127, stderr: 'unexpected command' },
  });
  const plan = await planFirewalld(ctx(t, true), POLICY, ['eth0', 'eth1']);
  const cmds = t.log.filter((e) => e.kind === 'exec').map((e) => (e as { cmd: string }).cmd);
  assert.equal(cmds.length, 2);
  assert.match(cmds[1], /^for z in public trusted; do/, 'eth0 in the default zone, eth1 in trusted');
  // Zone trusted has no settings in the answer: all its rules and SSH ports are to add.
  assert.equal(plan.changed, true);
  assert.match(plan.message ?? '', /in zone\(s\) public, trusted$/);
});

test('planFirewalld: a rule missing from the permanent config only -> one permanent rich rule to add', async () => {
  const missing = 'rule family=\\"ipv4\\" destination address=\\"10.16.8.101\\" port port=\\"80\\" protocol=\\"tcp\\" accept';
  const lines = SECOND.split('\n').map((l) => (l.startsWith('permanent') ? l.replace(`"${missing}",`, '').replace(`,"${missing}"`, '') : l));
  assert.notEqual(lines.join('\n'), SECOND, 'the fixture holds the rule this test removes');
  const t = busHost(lines.join('\n'), true);
  const plan = await planFirewalld(ctx(t), POLICY, ['eth0', 'eth1']);
  assert.equal(plan.changed, true);
  assert.match(plan.message ?? '', /^1 rich rule\(s\) in zone\(s\) public$/);
  await plan.apply!();
  const adds = t.log.filter((e) => e.kind === 'exec' && (e as { cmd: string }).cmd.includes('--add-rich-rule')).map((e) => (e as { cmd: string }).cmd);
  assert.equal(adds.length, 1);
  assert.match(adds[0], /firewall-cmd --permanent --zone=public --add-rich-rule=/);
  assert.match(adds[0], /10\.16\.8\.101/);
});

test('planFirewalld: firewalld not on the bus -> not running (check mode reports the rules it would add)', async () => {
  const t = new RecordingTransport('ka67', {
    answers: [['getDefaultZone', { stdout: 'down\tCall failed: The name org.fedoraproject.FirewallD1 was not provided by any .service files\n' }]],
  });
  const plan = await planFirewalld(ctx(t, true), POLICY, ['eth0', 'eth1']);
  assert.equal(plan.changed, true);
  assert.match(plan.message ?? '', /firewalld not running yet: 6 rich rule\(s\)/);
  await assert.rejects(planFirewalld(ctx(t), POLICY, ['eth0', 'eth1']), /firewalld is not running: Call failed/);
});

test('planFirewalld: busctl without --json -> falls back to firewall-cmd', async () => {
  const t = new RecordingTransport('ka67', {
    answers: [
      ['getDefaultZone', { stdout: "down\tbusctl: unrecognized option '--json=short'\n" }],
      ['firewall-cmd --state', { stdout: 'running\n' }],
      ['--get-zone-of-interface', { stdout: 'eth0 public\neth1 public\n' }],
    ],
  });
  const plan = await planFirewalld(ctx(t), POLICY, ['eth0', 'eth1']);
  assert.equal(plan.changed, true); // the fallback's list commands answer empty: everything to add
  const cmds = t.log.filter((e) => e.kind === 'exec').map((e) => (e as { cmd: string }).cmd);
  assert.ok(cmds.some((c) => c.includes('firewall-cmd --state')));
  assert.ok(cmds.some((c) => c.includes('--permanent --zone=public --list-rich-rules')));
});

// dbus-send (preferred when the host has it: 12-13 ms a call against busctl's 21-25 ms), answered
// with its real output captured on ka67 in the same converged state.
function sendHost(first = fixture('dbus-first.txt')): RecordingTransport {
  return new RecordingTransport('ka67', {
    answers: [
      ['getDefaultZone', { stdout: first }],
      ['getZoneSettings2', { stdout: fixture('dbus-second.txt') }],
    ],
    fallback: { code: 127, stderr: 'unexpected command' },
  });
}

const sorted = (z: { rich: string[]; ports: string[]; services: string[] }) => ({ rich: [...z.rich].sort(), ports: [...z.ports].sort(), services: [...z.services].sort() });

test('dbus-send: the same state as busctl reads, in two round trips, no busctl and no firewall-cmd; no change planned', async () => {
  const viaSend = await readFirewalldBus(ctx(sendHost()), ['eth0', 'eth1']);
  const viaBus = await readFirewalldBus(ctx(busHost()), ['eth0', 'eth1']);
  assert.ok(viaSend && viaBus);
  assert.equal(viaSend.running, true);
  assert.deepEqual([...viaSend.zones.keys()], ['public']);
  for (const kind of ['runtime', 'permanent'] as const) assert.deepEqual(sorted(viaSend.zones.get('public')![kind]), sorted(viaBus.zones.get('public')![kind]), kind);
  assert.equal(viaSend.zones.get('public')!.permanent.rich.length, 6);
  const t = sendHost();
  const plan = await planFirewalld(ctx(t), POLICY, ['eth0', 'eth1']);
  assert.equal(plan.changed, false);
  assert.equal(t.commands.length, 2);
  assert.match(t.commands[1], /dbus-send --system --print-reply .*getZoneSettings2 string:"\$z"/);
  assert.ok(t.commands.every((c) => !c.includes('firewall-cmd')) && !t.commands[1].includes('busctl'));
});

test('dbus-send: an interface bound to another zone -> both zones read; firewalld off the bus -> not running', async () => {
  const t = sendHost(fixture('dbus-first-eth1-trusted.txt'));
  await planFirewalld(ctx(t, true), POLICY, ['eth0', 'eth1']);
  assert.match(t.commands[1], /^for z in public trusted; do/);
  const down = new RecordingTransport('ka67', {
    answers: [['getDefaultZone', { stdout: 'down\tError org.freedesktop.DBus.Error.ServiceUnknown: The name org.fedoraproject.FirewallD1 was not provided by any .service files\n' }]],
  });
  await assert.rejects(planFirewalld(ctx(down), POLICY, ['eth0', 'eth1']), /firewalld is not running: Error org\.freedesktop\.DBus\.Error\.ServiceUnknown/);
});

test('dbus-send: a reply it cannot read sends the plan to firewall-cmd, not to a wrong answer', async () => {
  const cut = fixture('dbus-second.txt').split('\n').slice(0, 30).join('\n'); // cut short inside the runtime settings
  const t = new RecordingTransport('ka67', {
    answers: [
      ['getDefaultZone', { stdout: fixture('dbus-first.txt') }],
      ['getZoneSettings2', { stdout: cut }],
    ],
  });
  assert.equal(await readFirewalldBus(ctx(t), ['eth0']), undefined);
});

test('dbusSendReply reads every value dbus-send prints, and refuses what it does not know', () => {
  const head = 'method return time=1 sender=:1.1 -> destination=:1.2 serial=3 reply_serial=2\n';
  assert.equal(dbusSendReply(`${head}   string "public"\n`), 'public');
  assert.equal(dbusSendReply(`${head}   object path "/org/fedoraproject/FirewallD1/config/zone/6"\n`), '/org/fedoraproject/FirewallD1/config/zone/6');
  assert.deepEqual(dbusSendReply(`${head}   array [\n   ]\n`), []);
  assert.deepEqual(
    dbusSendReply(`${head}   array [\n      dict entry(\n         string "a"\n         variant             int32 -5\n      )\n      dict entry(\n         string "b"\n         variant             boolean false\n      )\n      dict entry(\n         string "c"\n         variant             array [\n               struct {\n                  string "2201"\n                  string "tcp"\n               }\n            ]\n      )\n      dict entry(\n         string "q"\n         variant             string "say "hi" here"\n      )\n   ]\n`),
    { a: { type: 'v', data: -5 }, b: { type: 'v', data: false }, c: { type: 'v', data: [['2201', 'tcp']] }, q: { type: 'v', data: 'say "hi" here' } },
  );
  assert.throws(() => dbusSendReply(`${head}   unix fd 3\n`), /unknown reply line/);
  assert.throws(() => dbusSendReply(`${head}   array [\n      string "x"\n`), /cut short/);
  assert.throws(() => dbusSendReply('Error org.freedesktop.DBus.Error.ServiceUnknown: gone\n'), /not a method return/);
});
