// Oracle test: for every inventory under test/fixtures/inventory/<name>/hosts.yaml, our
// inventoryList(loadInventory(file)) must equal what Ansible itself prints with
// `ansible-inventory -i <file> --list` (ansible-core 2.14; in CI `apt-get install ansible-core`).
// Compared as parsed JSON: key order is free, list order (hosts, children) must match, since
// ansible-inventory's lists follow the inventory and are deterministic.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory, inventoryList } from '../src/inventory/index.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inventory');
const fixtures = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
  .map((d) => d.name)
  .sort();

function findAnsibleInventory(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat('/usr/bin')) {
    const p = path.join(dir, 'ansible-inventory');
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}
const ansibleInventory = findAnsibleInventory();
const skip = ansibleInventory
  ? false
  : 'ansible-inventory not found on PATH (install ansible-core, e.g. `apt-get install ansible-core`): the oracle comparison needs it';

function runAnsible(file: string, cwd: string, cfg: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      ansibleInventory!,
      ['-i', file, '--list'],
      {
        cwd, // a scratch directory: no ./ansible.cfg, no ./group_vars beside the playbook dir
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: cwd, // no ~/.ansible.cfg, no collections or caches from the user
          LANG: 'C.UTF-8',
          ANSIBLE_CONFIG: cfg, // an empty config file: every setting at its default
          ANSIBLE_LOCALHOST_WARNING: 'False',
          ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
          ANSIBLE_NOCOLOR: '1',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`ansible-inventory failed on ${file}: ${stderr || err.message}`));
        try {
          resolve(JSON.parse(stdout));
        } catch (e) {
          reject(new Error(`ansible-inventory printed non-JSON for ${file}: ${(e as Error).message}\n${stdout.slice(0, 500)}`));
        }
      },
    );
  });
}

const expected = new Map<string, unknown>();

before(async () => {
  if (skip) return;
  const scratch = mkdtempSync(path.join(tmpdir(), 'provision-ansible-'));
  const cfg = path.join(scratch, 'ansible.cfg');
  writeFileSync(cfg, '');
  try {
    // ansible-inventory takes about a second to start: run them all at once.
    const outs = await Promise.all(fixtures.map((f) => runAnsible(path.join(FIXTURES, f, 'hosts.yaml'), scratch, cfg)));
    fixtures.forEach((f, i) => expected.set(f, outs[i]));
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
    assert.deepStrictEqual(ours, expected.get(name));
  });
}
