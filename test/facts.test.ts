// End to end on this machine, no SSH: the real gather script through a local Transport
// (child_process `sh -c`) into Facts, with the run's FactCache in front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalTransport } from './helpers/local-transport.js';
import { factsSummary, gatherFacts, gatherScript, parseGatherOutput, SECTIONS } from '../src/facts/index.js';
import { FactCache } from '../src/facts/cache.js';
import type { Host } from '../src/inventory/types.js';

const localhost = { name: 'localhost' } as Host;

test('gather on this machine: one command, sane facts', async () => {
  const t = new LocalTransport('localhost');
  const services = ['nginx', 'keepalived', 'ssh', 'provision-no-such-unit'];
  const cache = new FactCache((tt, _h, sections) => gatherFacts(tt, { sections, services }));
  const started = performance.now();
  const [f, again] = await Promise.all([cache.get(t, localhost, SECTIONS), cache.get(t, localhost, SECTIONS)]);
  const ms = performance.now() - started;
  assert.equal(t.commands.length, 1, 'one round trip');
  assert.equal(f, again);
  assert.equal(f.missingSections, undefined);
  assert.equal(f.os.id, 'debian');
  assert.equal(f.os.versionId, '12');
  assert.equal(f.os.family, 'debian');
  assert.equal(f.packageManager, 'apt');
  assert.ok(f.packages.bash, 'bash is installed');
  const lo = f.interfaces.find((i) => i.name === 'lo');
  assert.ok(lo);
  assert.ok(lo.ipv4.includes('127.0.0.1/8'));
  assert.equal(lo.up, true);
  assert.equal(f.uid, process.getuid?.());
  assert.equal(f.selinux, 'absent');
  assert.notEqual(f.virtualization, 'unknown');
  assert.equal(f.services['provision-no-such-unit'].load, 'not-found');
  for (const s of Object.values(f.services)) assert.match(s.active, /^[a-z-]+$/);
  if (f.systemd === false) assert.equal(f.services.nginx.active, 'unknown', 'systemctl cannot answer without systemd');
  assert.ok(ms < 5000, `gather took ${ms} ms`);
  const summary = factsSummary(f);
  assert.equal(summary.packages.count, Object.keys(f.packages).length);
});

test('a section first asked later is gathered alone, in a small command, into the same facts', async () => {
  const t = new LocalTransport('localhost');
  const cache = new FactCache((tt, _h, sections) => gatherFacts(tt, { sections }));
  const f = await cache.get(t, localhost, ['os', 'hostname', 'interfaces', 'virt']);
  assert.deepEqual(f.packages, {}, 'not asked yet');
  const g = await cache.get(t, localhost, ['packages']);
  assert.equal(t.commands.length, 2);
  assert.ok(t.commands[1].length < t.commands[0].length, 'only the packages section');
  assert.equal(g, f, 'one facts object per host');
  assert.ok(g.packages.bash, 'bash is installed');
  assert.equal(g.os.id, 'debian');
  await cache.get(t, localhost, ['os', 'packages']);
  assert.equal(t.commands.length, 2, 'both known: no round trip');
});

test('the script is idempotent and quiet: two runs, same facts, nothing on stderr', async () => {
  const t = new LocalTransport('localhost');
  const cmd = gatherScript({ services: ['nginx'] });
  const [a, b] = [await t.exec(cmd), await t.exec(cmd)];
  assert.equal(a.code, 0);
  assert.equal(a.stderr, '');
  const fa = parseGatherOutput(a.stdout);
  const fb = parseGatherOutput(b.stdout);
  assert.deepEqual({ ...fa, interfaces: [] }, { ...fb, interfaces: [] });
});
