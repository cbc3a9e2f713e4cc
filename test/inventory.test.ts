// Oracle test: for every inventory under test/fixtures/inventory/<name>/hosts.yaml, our
// inventoryList(loadInventory(file)) must equal what Ansible itself prints with
// `ansible-inventory -i <file> --list` (ansible-core 2.14; in CI `apt-get install ansible-core`).
// Compared as parsed JSON: key order is free, list order (hosts, children) must match, since
// ansible-inventory's lists follow the inventory and are deterministic.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory, inventoryList, matchHosts } from '../src/inventory/index.js';
import { ansibleInventoryList, findOnPath, runAnsible } from './helpers/ansible.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inventory');
const fixtures = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
  .map((d) => d.name)
  .sort();

const ansibleInventory = findOnPath('ansible-inventory');
const ansiblePlaybook = findOnPath('ansible-playbook');
const skip = ansibleInventory
  ? false
  : 'ansible-inventory not found on PATH (install ansible-core, e.g. `apt-get install ansible-core`): the oracle comparison needs it';

// Host patterns checked against Ansible's own evaluation (see ansiblePatternHosts): same set of hosts.
// (Order differs on purpose: matchHosts returns inventory order, Ansible the order the patterns
// produced the hosts in.)
const PATTERNS: Array<[fixture: string, pattern: string]> = [
  ['basic', 'all'],
  ['basic', 'lb'],
  ['basic', 'web*'],
  ['basic', 'ka6*:!ka68'],
  ['basic', 'all:&web'],
  ['basic', 'ka67,web2'],
  ['basic', '!lb'],
  ['nested', '*'],
  ['nested', 'dc'],
  ['nested', 'dc:!rack2'],
  ['nested', 'r*,&aaa'],
  ['nested', 'leaf,r1'],
  ['nested', '&rack2'],
  ['nested', 'rack?'],
  ['nested', '~r.*'],
  ['nested', 'n1'],
  ['nested', 'dc[0]'],
  ['nested', 'dc[1:]'],
  ['nested', 'dc[-1]'],
  ['nested', 'rack2[0:1]'],
  ['ranges', 'pad[1:3]'],
  ['ranges', 'web[0]'],
  ['ranges', '10.0.0.*'],
  ['ranges', '~(web|db)-?[1a]'],
  ['ranges', 'p*'],
  ['ranges', 'ports,grid,!r1c?'],
  ['ranges', 'ports:grid:!r1c?'],
  ['ranges', '[ab]-alpha'],
  ['ungrouped', 'ungrouped'],
  ['ungrouped', 'ungrouped:!a*'], // a* matches the group 'all' too: nothing is left
  ['top-not-all', 'production:!dbservers'],
  ['top-not-all', 'production:&replicas'],
];

const patternFixtures = [...new Set(PATTERNS.map(([f]) => f))];

const run = runAnsible;
const ansibleList = (file: string, cwd: string, cfg: string) => ansibleInventoryList(ansibleInventory!, [file], cwd, cfg);

/**
 * Hosts of each pattern, from one `ansible-playbook --list-hosts` run per fixture: a playbook
 * with one play per pattern (a play's `hosts:` goes through the same InventoryManager.get_hosts()
 * as `ansible <pattern> --list-hosts`, and one process per fixture instead of one per pattern).
 */
async function ansiblePatternHosts(file: string, patterns: string[], cwd: string, cfg: string): Promise<string[][]> {
  const playbook = path.join(cwd, `patterns-${path.basename(path.dirname(file))}.yml`);
  writeFileSync(playbook, patterns.map((p) => `- hosts: ${JSON.stringify(p)}\n  gather_facts: false\n  tasks: []\n`).join(''));
  const out = await run(ansiblePlaybook!, ['-i', file, playbook, '--list-hosts'], cwd, cfg);
  const plays = out.split(/^\s*play #\d+ /m).slice(1);
  assert.equal(plays.length, patterns.length, out);
  return plays.map((block) => {
    const lines = block.split('\n').map((l) => l.trim());
    const at = lines.findIndex((l) => /^hosts \(\d+\):$/.test(l));
    assert.ok(at >= 0, block);
    const n = Number(/\((\d+)\)/.exec(lines[at]!)![1]);
    return lines.slice(at + 1, at + 1 + n);
  });
}

const expected = new Map<string, unknown>();
let ansibleVersion = '?';
const expectedHosts = new Map<string, string[]>();
const skipPatterns =
  skip || (ansiblePlaybook ? false : 'ansible-playbook not found on PATH (install ansible-core): the host pattern oracle needs it');

before(async () => {
  if (skip) return;
  const scratch = mkdtempSync(path.join(tmpdir(), 'provision-ansible-'));
  const cfg = path.join(scratch, 'ansible.cfg');
  writeFileSync(cfg, '');
  try {
    // ansible-inventory takes about a second to start: run them all at once.
    const file = (f: string) => path.join(FIXTURES, f, 'hosts.yaml');
    const [version, outs, hosts] = await Promise.all([
      run(ansibleInventory!, ['--version'], scratch, cfg),
      Promise.all(fixtures.map((f) => ansibleList(file(f), scratch, cfg))),
      skipPatterns
        ? []
        : Promise.all(
            patternFixtures.map((f) =>
              ansiblePatternHosts(file(f), PATTERNS.filter(([g]) => g === f).map(([, p]) => p), scratch, cfg),
            ),
          ),
    ]);
    ansibleVersion = version.split('\n')[0]!.trim();
    fixtures.forEach((f, i) => expected.set(f, outs[i]));
    patternFixtures.forEach((f, i) => {
      const ps = PATTERNS.filter(([g]) => g === f).map(([, p]) => p);
      ps.forEach((p, j) => expectedHosts.set(`${f} ${p}`, hosts[i]![j]!));
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('there are enough oracle fixtures', () => {
  assert.ok(fixtures.length >= 12, `only ${fixtures.length} fixtures`);
});

for (const name of fixtures) {
  test(`ansible-inventory --list oracle: ${name}`, { skip }, async () => {
    const inv = await loadInventory(path.join(FIXTURES, name, 'hosts.yaml'));
    const ours = JSON.parse(JSON.stringify(inventoryList(inv)));
    assert.deepStrictEqual(ours, expected.get(name), `differs from ${ansibleVersion} (written against ansible-core 2.14)`);
  });
}

for (const [name, pattern] of PATTERNS) {
  test(`ansible-playbook --list-hosts oracle: ${name} '${pattern}'`, { skip: skipPatterns }, async () => {
    const inv = await loadInventory(path.join(FIXTURES, name, 'hosts.yaml'));
    const ours = matchHosts(inv, [pattern], { allowEmpty: true }).map((h) => h.name);
    const theirs = expectedHosts.get(`${name} ${pattern}`)!;
    assert.deepStrictEqual([...ours].sort(), [...theirs].sort(), `ours: ${ours.join(' ')}; ${ansibleVersion}: ${theirs.join(' ')}`);
    const order = [...inv.hosts.keys()];
    assert.deepStrictEqual(ours, [...ours].sort((a, b) => order.indexOf(a) - order.indexOf(b)), 'inventory order');
  });
}
