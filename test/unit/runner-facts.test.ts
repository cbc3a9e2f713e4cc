// The runner gathers the fact sections its roles declare (RoleDefinition.facts), once per host
// with the prefetch, and a role reading a section it did not declare fails with a message that
// names it. Recording transports and a fake gather (no SSH); real role files.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/runner/playbook.js';
import { runPlaybook } from '../../src/runner/run.js';
import { RecordingTransport } from '../../src/transport/recording.js';
import { SECTIONS, emptyFacts, type SectionName } from '../../src/facts/index.js';

let dir = '';
const role = (name: string, body: string) => {
  mkdirSync(path.join(dir, 'roles', name), { recursive: true });
  writeFileSync(path.join(dir, 'roles', name, 'index.ts'), body);
};
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'provision-facts-'));
  role('os_reader', `export default { name: 'os_reader', facts: ['os'], async tasks(r) {
  await r.task('family', async () => ({ changed: false, message: (await r.facts()).os.family }));
} };\n`);
  role('pkg_reader', `export default { name: 'pkg_reader', facts: ['packages'], async tasks(r) {
  await r.task('count', async () => ({ changed: false, message: String(Object.keys((await r.facts()).packages).length) }));
} };\n`);
  role('sneaky', `export default { name: 'sneaky', facts: ['os'], async tasks(r) {
  await r.task('reads what it did not declare', async () => ({ changed: false, message: String((await r.facts()).canSetClock) }));
} };\n`);
  role('none', `export default { name: 'none', facts: [], async tasks(r) { await r.task('nothing', async () => ({ changed: false })); } };\n`);
  role('legacy', `export default { name: 'legacy', async tasks(r) { await r.task('nothing', async () => ({ changed: false })); } };\n`);
  writeFileSync(path.join(dir, 'inventory.yaml'), 'all:\n  children:\n    one:\n      hosts:\n        a: {}\n    two:\n      hosts:\n        b: {}\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(plays: string, prefetch = true) {
  writeFileSync(path.join(dir, 'site.yaml'), plays);
  const inv = await loadInventory(path.join(dir, 'inventory.yaml'));
  const playbook = await loadPlaybook(path.join(dir, 'site.yaml'));
  const gathers: Array<[string, SectionName[]]> = [];
  const report = await runPlaybook({
    inventory: inv,
    playbook,
    selectHosts: (pats) => [...inv.hosts.values()].filter((h) => pats.some((g) => h.groups.includes(g))),
    connect: async (h) => new RecordingTransport(h.name),
    gatherFacts: async (_t, h, sections) => {
      gathers.push([h.name, [...sections].sort()]);
      return { ...emptyFacts(), os: { id: 'debian', versionId: '12', family: 'debian', prettyName: 'Debian' }, packages: { a: '1', b: '2' } };
    },
    prefetch,
  });
  return { report, gathers };
}

test('the prefetch gathers, per host, the union of the sections its roles declare, once', async () => {
  const { report, gathers } = await run('- hosts: one\n  roles: [os_reader, pkg_reader]\n- hosts: two\n  roles: [none]\n');
  assert.equal(report.hosts.a.status, 'ok', JSON.stringify(report.tasks));
  assert.deepEqual(gathers, [['a', ['os', 'packages']]], 'b runs no role that reads facts: no gather');
  assert.deepEqual(report.tasks.map((t) => t.message), ['debian', '2', undefined]);
});

test('without the prefetch the first role that reads facts gathers every section the host will need', async () => {
  const { report, gathers } = await run('- hosts: one\n  roles: [os_reader, pkg_reader, os_reader]\n', false);
  assert.equal(report.hosts.a.status, 'ok', JSON.stringify(report.tasks));
  assert.deepEqual(gathers, [['a', ['os', 'packages']]], 'the first role asks for what every role of the host reads');
});

test('a role that does not declare its facts gets every section', async () => {
  const { gathers } = await run('- hosts: one\n  roles: [legacy]\n');
  assert.deepEqual(gathers, [['a', [...SECTIONS].sort()]]);
});

test('reading a section the role did not declare fails the task and says which section to add', async () => {
  const { report } = await run('- hosts: one\n  roles: [sneaky]\n');
  assert.equal(report.hosts.a.status, 'failed');
  assert.match(report.tasks[0].message ?? '', /role sneaky reads facts\.canSetClock, but its facts: \['os'\] does not list 'clock'/);
});
