// Oracle test for INI inventories and the other -i forms: for every fixture under
// test/fixtures/inventory-ini/<name>/ (its one file is the source) and
// test/fixtures/inventory-dirs/<name>/ (sources listed in `sources`, one per line, relative to the
// fixture, or the directory `inv`), inventoryList(loadInventory(sources)) must equal
// `ansible-inventory -i S1 [-i S2 ...] --list` (Debian's ansible-core 2.14) as JSON.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory, inventoryList } from '../src/inventory/index.js';
import { ansibleInventoryList, findOnPath, withAnsibleScratch } from './helpers/ansible.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const INI = path.join(HERE, 'fixtures', 'inventory-ini');
const DIRS = path.join(HERE, 'fixtures', 'inventory-dirs');
const ansibleInventory = findOnPath('ansible-inventory');
const skip = ansibleInventory ? false : 'ansible-inventory not found on PATH (apt-get install ansible-core): the oracle needs it';

const subdirs = (d: string) => readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

/** Each fixture's sources: INI fixtures hold one file; dir fixtures a `sources` list or `inv/`. */
const cases: Array<{ name: string; sources: string[] }> = [
  ...subdirs(INI).map((n) => ({ name: `ini/${n}`, sources: [path.join(INI, n, readdirSync(path.join(INI, n)).find((f) => !['group_vars', 'host_vars'].includes(f))!)] })),
  ...subdirs(DIRS).map((n) => {
    const list = path.join(DIRS, n, 'sources');
    const lines = existsSync(list) ? readFileSync(list, 'utf8').split('\n').filter(Boolean) : ['inv'];
    return { name: `dir/${n}`, sources: lines.map((l) => (l.includes(',') ? l : path.join(DIRS, n, l))) };
  }),
];

const expected = new Map<string, unknown>();
before(async () => {
  if (skip) return;
  await withAnsibleScratch(async (scratch, cfg) => {
    // ansible-inventory takes about a second to start: a few at a time on two cores.
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const outs = await Promise.all(batch.map((c) => ansibleInventoryList(ansibleInventory!, c.sources, scratch, cfg)));
      batch.forEach((c, j) => expected.set(c.name, outs[j]));
    }
  });
});

test('enough INI and directory oracle fixtures', () => {
  assert.ok(cases.filter((c) => c.name.startsWith('ini/')).length >= 15);
  assert.ok(cases.filter((c) => c.name.startsWith('dir/') && c.sources.some((s) => s.endsWith('/inv'))).length >= 5);
});

for (const c of cases) {
  test(`ansible-inventory --list oracle: ${c.name}`, { skip }, async () => {
    const ours = JSON.parse(JSON.stringify(inventoryList(await loadInventory(c.sources))));
    assert.deepStrictEqual(ours, expected.get(c.name));
  });
}
