// Every whole-gather fixture in test/fixtures/facts (captured or documented; README.md says
// which) must parse into facts that any real host satisfies. A new capture (capture.ts) is
// checked here the moment it is added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseGatherOutput, factsSummary } from '../../src/facts/index.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'facts');
const files = readdirSync(FIX).filter((f) => f.endsWith('.txt') && readFileSync(path.join(FIX, f), 'utf8').includes('@@provision:begin@@'));
const readme = readFileSync(path.join(FIX, 'README.md'), 'utf8');

test('there are gather fixtures, and README.md says where each came from', () => {
  assert.ok(files.length >= 5, files.join(','));
  for (const f of files) assert.ok(readme.includes(`\`${f}\``), `${f} is not described in README.md`);
});

for (const file of files) {
  test(`fixture ${file}: complete and sane`, () => {
    const f = parseGatherOutput(readFileSync(path.join(FIX, file), 'utf8'));
    assert.equal(f.missingSections, undefined, `missing: ${f.missingSections?.join(',')}`);
    assert.notEqual(f.os.id, 'unknown');
    assert.notEqual(f.os.family, 'unknown');
    assert.notEqual(f.packageManager, 'unknown');
    assert.equal(f.packageManager === 'apt', f.os.family === 'debian');
    assert.ok(Object.keys(f.packages).length > 0);
    assert.ok('bash' in f.packages, 'bash is installed everywhere');
    assert.match(f.hostname, /^[A-Za-z0-9.-]+$/);
    assert.ok(f.uid >= 0);
    const lo = f.interfaces.find((i) => i.name === 'lo');
    assert.ok(lo, 'lo exists');
    assert.deepEqual(lo.ipv4, ['127.0.0.1/8']);
    for (const i of f.interfaces) {
      for (const a of i.ipv4) assert.match(a, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
      for (const a of i.ipv6) assert.match(a, /^[0-9a-f:]+\/\d+$/);
    }
    assert.notEqual(f.virtualization, 'unknown');
    assert.equal(typeof f.systemd, 'boolean');
    for (const [name, s] of Object.entries(f.services)) {
      assert.match(s.active, /^[a-z-]+$/, name);
      assert.match(s.enabled, /^[a-z-]+$/, name);
    }
    if (f.systemd === false) {
      for (const s of Object.values(f.services)) assert.equal(s.active, 'unknown', 'no systemd: activity unknown');
    }
    if (f.keepalivedVersion !== null) assert.match(f.keepalivedVersion, /^\d+\.\d+\.\d+$/);
    JSON.stringify(factsSummary(f));
  });
}
