// Parsers of src/verify/parse.ts on output captured from keepalived 2.2.7 + tcpdump 4.99.3
// (test/fixtures/verify/, made by capture.sh) and on documented samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backendInBody,
  computeGap,
  fmtInterval,
  hostOfUrl,
  parseCurlLoop,
  parseIpAddr,
  parseProbeLoop,
  parseTcpdumpVrrp,
  parseVrrpLine,
  summarizeAdverts,
  type ProbeSample,
} from '../../src/verify/parse.js';
import { fixture } from '../fixtures/verify/model.js';

test('tcpdump VRRPv2: the documented line of the how-to topology', () => {
  const a = parseVrrpLine('02:00:15.690389 IP 10.16.8.10 > 224.0.0.111: VRRPv2, Advertisement, vrid 171, prio 100, authtype simple, intvl 1s, length 20');
  assert.deepEqual(a, {
    time: '02:00:15.690389',
    seconds: 2 * 3600 + 15.690389,
    source: '10.16.8.10',
    dest: '224.0.0.111',
    version: 2,
    vrid: 171,
    priority: 100,
    intervalMs: 1000,
    authType: 'simple',
    length: 20,
  });
});

test('tcpdump VRRPv2: captured dual master (two VRIDs, one master each)', () => {
  const p = parseTcpdumpVrrp(fixture('tcpdump-v2-dual-master.txt'));
  assert.equal(p.adverts.length, 8);
  assert.deepEqual(p.odd, []);
  assert.ok(p.adverts.every((a) => a.version === 2 && a.intervalMs === 1000 && a.authType === 'simple' && a.length === 20 && a.dest === '224.0.0.111'));
  const s = summarizeAdverts(p.adverts);
  assert.deepEqual(
    s.map((v) => [v.vrid, v.sources.map((x) => [x.source, x.count, x.priorities, x.intervalsMs])]),
    [
      [171, [['192.0.2.10', 4, [100], [1000]]]],
      [172, [['192.0.2.11', 4, [100], [1000]]]],
    ],
  );
});

test('tcpdump VRRPv3: captured, interval printed in centiseconds (advert_int 0.1 = "intvl 10cs"), no authtype', () => {
  const p = parseTcpdumpVrrp(fixture('tcpdump-v3-dual-master.txt'));
  assert.equal(p.adverts.length, 10);
  const first = p.adverts[0];
  assert.equal(first.version, 3);
  assert.equal(first.intervalMs, 100);
  assert.equal(first.authType, undefined);
  assert.equal(first.length, 12);
  const s = summarizeAdverts(p.adverts);
  assert.deepEqual(s.map((v) => [v.vrid, v.sources.map((x) => x.source)]), [[171, ['192.0.2.10']], [172, ['192.0.2.11']]]);
  // 10 adverts per second per VRID: the timestamps of one source are ~100 ms apart.
  const a171 = p.adverts.filter((a) => a.vrid === 171);
  for (let i = 1; i < a171.length; i++) assert.ok(Math.abs(a171[i].seconds - a171[i - 1].seconds - 0.1) < 0.02);
});

test('tcpdump: captured failover shows the priority-0 advert, then the backup at its own priority', () => {
  const p = parseTcpdumpVrrp(fixture('tcpdump-v2-failover.txt'));
  const v171 = p.adverts.filter((a) => a.vrid === 171);
  assert.deepEqual(v171.map((a) => [a.source, a.priority]), [
    ['192.0.2.10', 100],
    ['192.0.2.10', 0],
    ['192.0.2.11', 95],
    ['192.0.2.11', 95],
    ['192.0.2.11', 95],
  ]);
  const s = summarizeAdverts(p.adverts).find((v) => v.vrid === 171)!;
  assert.deepEqual(s.sources.map((x) => [x.source, x.priorities]), [['192.0.2.10', [0, 100]], ['192.0.2.11', [95]]]);
});

test('tcpdump: captured split brain (PASS mismatch) has two sources for each VRID', () => {
  const s = summarizeAdverts(parseTcpdumpVrrp(fixture('tcpdump-v2-split-brain.txt')).adverts);
  assert.deepEqual(s.map((v) => [v.vrid, v.sources.map((x) => `${x.source}/${x.priorities.join(',')}`)]), [
    [171, ['192.0.2.10/100', '192.0.2.11/95']],
    [172, ['192.0.2.11/100', '192.0.2.10/95']],
  ]);
});

test("tcpdump: its stderr chatter is ignored; ttl, -i any prefixes, other types and truncation are handled", () => {
  assert.deepEqual(parseTcpdumpVrrp(fixture('tcpdump-v2-dual-master.stderr.txt')), { adverts: [], odd: [] });
  // print-vrrp.c prints ", (ttl N)" when the TTL is not 255.
  const ttl = parseVrrpLine('10:00:00.000001 IP 10.16.8.11 > 224.0.0.111: VRRPv2, Advertisement, (ttl 64), vrid 171, prio 95, authtype none, intvl 1s, length 20');
  assert.equal(ttl?.ttl, 64);
  assert.equal(ttl?.authType, 'none');
  // tcpdump 4.99 with -i any puts the interface and direction before "IP".
  const any = parseVrrpLine('10:00:00.000001 eth1  Out IP 10.16.8.10 > 224.0.0.111: VRRPv3, Advertisement, vrid 172, prio 100, intvl 100cs, length 12');
  assert.equal(any?.source, '10.16.8.10');
  assert.equal(any?.intervalMs, 1000);
  const p = parseTcpdumpVrrp(
    [
      '10:00:00.1 IP 10.16.8.10 > 224.0.0.111: VRRPv2, unknown type (5)',
      '10:00:00.2 IP 10.16.8.10 > 224.0.0.111: VRRPv2, Advertisement, vrid 171, prio 100[|vrrp]',
      '10:00:00.3 IP 10.16.8.10 > 10.16.8.8: ICMP echo request, id 1, seq 1, length 64',
      '',
    ].join('\n'),
  );
  assert.equal(p.adverts.length, 0);
  assert.equal(p.odd.length, 2);
  // A unit that does not belong to the version is not something tcpdump prints.
  assert.equal(parseVrrpLine('10:00:00.1 IP 1.2.3.4 > 224.0.0.18: VRRPv3, Advertisement, vrid 1, prio 1, intvl 1s, length 12'), undefined);
  assert.equal(fmtInterval(1000), '1s');
  assert.equal(fmtInterval(100), '100ms');
});

test('ip -j addr: captured namespaces, VIPs as secondary addresses with the network prefix', () => {
  const a = parseIpAddr(fixture('ip-addr-a-v2.json'));
  assert.deepEqual(
    a.filter((x) => x.ifname === 'pv-va').map((x) => [x.address, x.prefix, x.secondary]),
    [
      ['192.0.2.10', 24, false],
      ['192.0.2.100', 24, true],
    ],
  );
  assert.ok(a.some((x) => x.ifname === 'lo' && x.address === '127.0.0.1'));
  const b = parseIpAddr(fixture('ip-addr-b-v2.json'));
  assert.deepEqual(b.filter((x) => x.secondary).map((x) => x.address), ['192.0.2.101']);
  const after = parseIpAddr(fixture('ip-addr-b-after-failover.json'));
  assert.deepEqual(after.filter((x) => x.secondary).map((x) => x.address).sort(), ['192.0.2.100', '192.0.2.101']);
});

test('ip -o addr (iproute2 without -j): documented format', () => {
  const text = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '2: eth0    inet 172.16.8.10/24 brd 172.16.8.255 scope global eth0\\       valid_lft forever preferred_lft forever',
    '2: eth0    inet 172.16.8.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever',
    '3: eth1@if12    inet 10.16.8.10/24 brd 10.16.8.255 scope global eth1\\       valid_lft forever preferred_lft forever',
  ].join('\n');
  assert.deepEqual(parseIpAddr(text), [
    { ifname: 'lo', address: '127.0.0.1', prefix: 8, secondary: false, label: 'lo' },
    { ifname: 'eth0', address: '172.16.8.10', prefix: 24, secondary: false, label: 'eth0' },
    { ifname: 'eth0', address: '172.16.8.100', prefix: 24, secondary: true, label: 'eth0' },
    { ifname: 'eth1', address: '10.16.8.10', prefix: 24, secondary: false, label: 'eth1' },
  ]);
  assert.deepEqual(parseIpAddr(''), []);
  assert.throws(() => parseIpAddr('Object "addr" is unknown, try "ip help".'), /unrecognised/);
  assert.throws(() => parseIpAddr('[{"ifname": '), /not valid JSON/);
});

test('backendInBody: whole-word host names, the longest wins', () => {
  const names = ['web1', 'web10', 'web2'];
  assert.equal(backendInBody('Server web1 10.16.8.8\n', names), 'web1');
  assert.equal(backendInBody('<h1>Server web10 10.16.8.18</h1>', names), 'web10');
  assert.equal(backendInBody('Welcome to nginx!', names), undefined);
  assert.equal(backendInBody('Server web1.lab 10.16.8.8', names), 'web1');
  assert.equal(backendInBody('Server aweb1', names), undefined);
});

test('curl loop: bodies framed by the -w marker and the exit code line', () => {
  const out = [
    'Server web1 10.16.8.8',
    '',
    '@@PV 200 http://10.16.8.100:80/',
    '@@RC 0 http://10.16.8.100:80/',
    '<html><body>502 Bad Gateway</body></html>',
    '@@PV 502 http://10.16.8.101:80/',
    '@@RC 0 http://10.16.8.101:80/',
    '',
    '@@PV 000 http://10.16.8.100:80/',
    '@@RC 28 http://10.16.8.100:80/',
    'sh: 1: curl: not found',
    '@@RC 127 http://10.16.8.101:80/',
    'Server web2 10.16.8.9',
    '@@PV 200 http://10.16.8.101:80/',
  ].join('\n');
  assert.deepEqual(parseCurlLoop(out), [
    { url: 'http://10.16.8.100:80/', status: 200, exit: 0, body: 'Server web1 10.16.8.8' },
    { url: 'http://10.16.8.101:80/', status: 502, exit: 0, body: '<html><body>502 Bad Gateway</body></html>' },
    { url: 'http://10.16.8.100:80/', status: 0, exit: 28, body: '' },
    { url: 'http://10.16.8.101:80/', status: 0, exit: 127, body: 'sh: 1: curl: not found' },
    // Cut short (no exit line): counted, but not as a success.
    { url: 'http://10.16.8.101:80/', status: 200, exit: -1, body: 'Server web2 10.16.8.9' },
  ]);
  // A body without a trailing newline ends on the marker's line (curl -w starts with \n, so
  // this only happens when something else wrote to stdout).
  assert.equal(parseCurlLoop('abc@@PV 200 http://x/\n@@RC 0 http://x/\n')[0].body, 'abc');
  assert.equal(hostOfUrl('http://10.16.8.100:80/'), '10.16.8.100');
  assert.equal(hostOfUrl('http://10.16.8.100/'), '10.16.8.100');
});

// ---------------------------------------------------------------------------------------------
// Probe loop and gaps

/** A synthetic loop: one request every `stepMs` from 0 to `untilMs`; `down(t)` says it fails. */
function synth(vip: string, untilMs: number, stepMs: number, down: (t: number) => boolean, latency = 5): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (let s = 0; s <= untilMs; s += stepMs) {
    const failed = down(s);
    out.push({ s, t: s + (failed ? 300 : latency), vip, ok: !failed, status: failed ? 0 : 200, ...(failed ? { err: 'timeout' } : { backend: (s / stepMs) % 2 ? 'web1' : 'web2' }) });
  }
  return out;
}

test('probe loop: JSON lines, the end line, and garbage kept apart', () => {
  const text = [
    '{"s":0,"vip":"10.16.8.100","ok":true,"status":200,"backend":"web1","t":4}',
    '{"s":40,"vip":"10.16.8.100","ok":false,"status":0,"err":"ConnectionRefusedError: [Errno 111] Connection refused","t":41}',
    'Traceback (most recent call last):',
    '{"s":80,"vip":"10.16.8.100","ok":true,"status":200,"t":85}',
    '{"end":3000,"reason":"stop","sent":75,"skipped":0}',
  ].join('\n');
  const p = parseProbeLoop(text);
  assert.equal(p.samples.length, 3);
  assert.deepEqual(p.end, { t: 3000, reason: 'stop' });
  assert.deepEqual(p.bad, ['Traceback (most recent call last):']);
  assert.equal(p.samples[0].backend, 'web1');
  assert.equal(p.samples[1].err, 'ConnectionRefusedError: [Errno 111] Connection refused');
  assert.equal(p.samples[2].backend, undefined);
});

test('gap: longest interval from the last OK before the failures to the next OK', () => {
  // 40 ms steps; down from 1000 to 1800 (sends in [1000, 1800) fail after 300 ms).
  const xs = synth('v', 4000, 40, (s) => s >= 1000 && s < 1800);
  const g = computeGap(xs);
  // Last OK: sent 960, done 965. Next OK: sent 1800, done 1805. Gap 840 ms.
  assert.equal(g.gapMs, 840);
  assert.equal(g.recovered, true);
  assert.equal(g.failures, 20);
  assert.equal(g.outages.length, 1);
  assert.equal(g.outages[0].lastOk, 965);
  assert.equal(g.outages[0].nextOk, 1805);
  assert.equal(g.requests, 101);
  assert.ok(g.backends.web1 > 0 && g.backends.web2 > 0);
  assert.equal(g.maxOkIntervalMs, 840);
});

test('gap: no failure is 0 ms; unordered samples are sorted; flapping keeps the longest outage', () => {
  assert.equal(computeGap(synth('v', 1000, 50, () => false)).gapMs, 0);
  const flap = synth('v', 6000, 50, (s) => (s >= 1000 && s < 1200) || (s >= 3000 && s < 3600));
  const g = computeGap([...flap].reverse());
  assert.equal(g.outages.length, 2);
  assert.equal(g.outages[0].ms, 1205 - 955);
  assert.equal(g.outages[1].ms, 3605 - 2955);
  assert.equal(g.gapMs, 650);
});

test('gap: a VIP that never answers again is reported open-ended, measured to the last sample', () => {
  const g = computeGap(synth('v', 2000, 50, (s) => s >= 1000));
  assert.equal(g.recovered, false);
  // last OK done at 955, last sample (sent 2000) done at 2300
  assert.equal(g.gapMs, 2300 - 955);
  assert.equal(g.outages[0].nextOk, undefined);
  // Failing from the very first request: no lastOk; measured from the first send.
  const cold = computeGap(synth('v', 1000, 50, (s) => s < 500));
  assert.equal(cold.outages[0].lastOk, undefined);
  assert.equal(cold.gapMs, 505);
});
