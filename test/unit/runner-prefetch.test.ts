// The runner's prefetch: before the first play, every host of the run is connected, its facts
// gathered and its transport warmed at once, so a later play's hosts are ready when it starts.
// Hosts and transports are recording stand-ins (no SSH here; the real transports are used by
// the e2e test); the roles are real role files loaded the way the runner loads roles.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/runner/playbook.js';
import { runPlaybook } from '../../src/runner/run.js';
import { HostError } from '../../src/errors.js';
import { RecordingTransport } from '../../src/transport/recording.js';
import type { Facts } from '../../src/facts/types.js';
import type { Host } from '../../src/inventory/types.js';
import { ReadAhead } from '../../src/runner/read-ahead.js';

let dir = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'provision-prefetch-'));
  mkdirSync(path.join(dir, 'roles', 'wait_for_b'), { recursive: true });
  mkdirSync(path.join(dir, 'roles', 'noop'), { recursive: true });
  // Play 1's task waits (up to 3 s) for host b's facts to be asked for: only a prefetch asks
  // before play 2 starts, so without one this task fails.
  writeFileSync(
    path.join(dir, 'roles', 'wait_for_b', 'index.ts'),
    `export default { name: 'wait_for_b', async tasks(r) {
  await r.task('b is being prepared while play 1 runs', async () => {
    const seen = globalThis.__pvPrefetchSeen;
    const t0 = Date.now();
    while (!seen.has('b') && Date.now() - t0 < 3000) await new Promise((res) => setTimeout(res, 10));
    if (!seen.has('b')) throw new Error('b was not prefetched');
    return { changed: false };
  });
} };\n`,
  );
  writeFileSync(path.join(dir, 'roles', 'noop', 'index.ts'), `export default { name: 'noop', async tasks(r) { await r.task('nothing', async () => ({ changed: false })); } };\n`);
  // Records, when its module is evaluated (the runner loading the roles), which hosts were
  // already asked to connect and which had a command sent (the read-ahead batch).
  mkdirSync(path.join(dir, 'roles', 'probe_load'), { recursive: true });
  writeFileSync(
    path.join(dir, 'roles', 'probe_load', 'index.ts'),
    `const g = globalThis;
g.__pvAtLoad = { connects: [...g.__pvConnects], execs: g.__pvTransports.filter((t) => t.log.length > 0).map((t) => t.host) };
export default { name: 'probe_load', async tasks(r) { await r.task('nothing', async () => ({ changed: false })); } };\n`,
  );
  writeFileSync(path.join(dir, 'probe.yaml'), '- name: all\n  hosts: [one, two]\n  roles: [probe_load]\n');
  writeFileSync(path.join(dir, 'inventory.yaml'), 'all:\n  children:\n    one:\n      hosts:\n        a: {}\n    two:\n      hosts:\n        b: {}\n        c: {}\n');
  writeFileSync(path.join(dir, 'site.yaml'), '- name: first\n  hosts: one\n  roles: [wait_for_b]\n- name: second\n  hosts: two\n  roles: [noop]\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(prefetch: boolean, o: { playbook?: string; readAhead?: ReadAhead } = {}) {
  const seen = new Set<string>();
  const g = globalThis as Record<string, unknown>;
  g.__pvPrefetchSeen = seen;
  const inv = await loadInventory(path.join(dir, 'inventory.yaml'));
  const playbook = await loadPlaybook(path.join(dir, o.playbook ?? 'site.yaml'));
  const connects: string[] = [];
  const made: RecordingTransport[] = [];
  g.__pvConnects = connects;
  g.__pvTransports = made;
  const warmed: string[] = [];
  const transports = new Map<string, Promise<RecordingTransport>>();
  const connect = (h: Host) => {
    let p = transports.get(h.name);
    if (!p) {
      connects.push(h.name);
      p =
        h.name === 'c'
          ? Promise.reject(new HostError('c', 'unreachable', 'c: connection refused'))
          : Promise.resolve(made[made.push(Object.assign(new RecordingTransport(h.name), { warm: async () => void warmed.push(h.name) })) - 1]);
      transports.set(h.name, p);
    }
    return p;
  };
  const report = await runPlaybook({
    inventory: inv,
    playbook,
    selectHosts: (pats) => [...inv.hosts.values()].filter((h) => pats.some((g) => h.groups.includes(g))),
    connect,
    gatherFacts: async (_t, h) => {
      seen.add(h.name);
      return {} as Facts;
    },
    prefetch,
    readAhead: o.readAhead,
  });
  return { report, connects, warmed, seen };
}

test('prefetch: a later play\'s hosts are connected, gathered and warmed while the first play runs', async () => {
  const { report, connects, warmed } = await run(true);
  assert.equal(report.hosts.a.status, 'ok', JSON.stringify(report.tasks));
  assert.equal(report.hosts.b.status, 'ok');
  assert.deepEqual(connects.sort(), ['a', 'b', 'c']);
  assert.deepEqual(warmed.sort(), ['a', 'b']);
  // The unreachable host is reported by the play that reaches it, with its reason.
  assert.equal(report.hosts.c.status, 'unreachable');
  assert.match(report.hosts.c.message ?? '', /connection refused/);
});

test('without prefetch the same playbook fails: play 1 never sees host b prepared', async () => {
  const { report, warmed } = await run(false);
  assert.equal(report.hosts.a.status, 'failed');
  assert.match(report.tasks.find((t) => t.host === 'a')?.message ?? '', /b was not prefetched/);
  assert.deepEqual(warmed, []);
});

test('prefetch: connecting and the read-ahead batch start before the roles are loaded, not after', async () => {
  const readAhead = new ReadAhead(new Map([['a', [{ fact: 'fileContent', args: ['/etc/hostname'] }]], ['b', [{ fact: 'fileContent', args: ['/etc/hostname'] }]]]));
  const { report } = await run(true, { playbook: 'probe.yaml', readAhead });
  assert.equal(report.hosts.a.status, 'ok', JSON.stringify(report.tasks));
  const atLoad = (globalThis as Record<string, unknown>).__pvAtLoad as { connects: string[]; execs: string[] };
  assert.deepEqual(atLoad.connects.sort(), ['a', 'b', 'c'], 'every host was asked to connect before the role module ran');
  assert.deepEqual(atLoad.execs.sort(), ['a', 'b'], 'the reachable hosts had their batch sent');
});
