// The failover timeline's parsers: keepalived's journal (short-unix), the probe loop's start
// line, and how a request's outcome is named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJournal, sampleKind, mergeTransitions } from '../../src/verify/timeline.ts';
import { parseProbeLoop } from '../../src/verify/parse.ts';
import type { VerifyJsonReport } from '../../src/verify/html-data.ts';
import { deriveTopology } from '../../src/topology/index.ts';
import type { Host } from '../../src/inventory/types.ts';
import { ROOT } from './topology-helpers.ts';

const ha = { password: 'x', networks: [{ name: 'internal', interface: 'eth1', subnet: '10.16.8.0/24', vips: [{ address: '10.16.8.100', vrid: 171 }, { address: '10.16.8.101', vrid: 172 }] }] };
const lb = (name: string, a: string): Host => ({ name, groups: ['all', 'lb'], vars: { ha, addresses: { internal: a } } });
const model = deriveTopology([lb('ka67', '10.16.8.10'), lb('ka68', '10.16.8.11')]);

test('keepalived journal: state changes with their instants and VIPs; other lines ignored', () => {
  const text = [
    '1796321054.067123 ka68 Keepalived_vrrp[301]: (INTERNAL_1) Entering FAULT STATE',
    '1796321054.070001 ka68 Keepalived_vrrp[301]: (INTERNAL_1) sent 0 priority',
    '1796321054.699900 ka68 Keepalived_vrrp[301]: (INTERNAL_2) Entering MASTER STATE',
    '1796321058.0885 ka68 Keepalived_vrrp[301]: (INTERNAL_1) Entering BACKUP STATE',
    '-- No entries --',
  ].join('\n');
  assert.deepEqual(parseJournal(text, 'ka68', model), [
    { at: 1796321054067, host: 'ka68', instance: 'INTERNAL_1', vips: ['10.16.8.100'], state: 'FAULT' },
    { at: 1796321054700, host: 'ka68', instance: 'INTERNAL_2', vips: ['10.16.8.101'], state: 'MASTER' },
    { at: 1796321058089, host: 'ka68', instance: 'INTERNAL_1', vips: ['10.16.8.100'], state: 'BACKUP' },
  ]);
});

test('overlapping journal windows do not repeat a state change', () => {
  const a = { at: 1, host: 'ka67', instance: 'I', vips: [], state: 'FAULT' as const };
  const list = [a];
  mergeTransitions(list, [{ ...a }, { ...a, state: 'BACKUP' }]);
  assert.deepEqual(list.map((t) => t.state), ['FAULT', 'BACKUP']);
});

test('the probe loop says when its clock started; requests are ok, reset or failed', () => {
  const p = parseProbeLoop('{"start":1796321053182}\n{"s":0,"t":3,"vip":"10.16.8.100","ok":true,"status":200}\n{"end":40,"reason":"stop"}\n');
  assert.equal(p.origin, 1796321053182);
  assert.deepEqual([p.samples.length, p.bad], [1, []]);
  assert.equal(sampleKind({ ok: true }), 'ok');
  assert.equal(sampleKind({ ok: false, err: 'ConnectionResetError: [Errno 104] Connection reset by peer' }), 'reset');
  assert.equal(sampleKind({ ok: false, err: 'timeout: timed out' }), 'failed');
  assert.equal(sampleKind({ ok: false, err: 'ConnectionRefusedError: [Errno 111] Connection refused' }), 'failed');
  // The probe names its failures: a dropped SYN and a reset have lanes of their own.
  assert.equal(sampleKind({ ok: false, kind: 'syn', err: 'timeout' }), 'syn');
  assert.equal(sampleKind({ ok: false, kind: 'reset' }), 'reset');
  assert.equal(sampleKind({ ok: false, kind: 'slow', err: 'reset-ish text' }), 'failed');
});

test('the lab fixture holds what the timeline needs: probe clocks, LB state changes, controller steps', () => {
  const r = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/verify/report-failover.json'), 'utf8')) as VerifyJsonReport;
  for (const l of r.failover!.lbs) {
    assert.deepEqual(l.events!.map((e) => e.kind), ['fault', 'fault-done', 'taken-over', 'repair', 'repair-done', 'back']);
    const peer = Object.values(l.expectedPeer)[0];
    assert.ok(l.transitions!.some((t) => t.host === l.lb && t.state === 'FAULT'), `${l.lb} logged FAULT`);
    assert.ok(l.transitions!.some((t) => t.host === peer && t.state === 'MASTER'), `${peer} logged MASTER`);
    for (const x of l.results) assert.ok(x.trace?.failover?.origin && x.trace.preempt?.samples.length, x.vip);
  }
});
