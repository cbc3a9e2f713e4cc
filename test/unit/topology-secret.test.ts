// Secret: inline / {env} / {file} resolution, errors naming the variable or file, and no
// way to print the value except .reveal().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, format } from 'node:util';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Secret, SecretError } from '../../src/topology/secret.js';
import { redact } from '../../src/report/redact.js';
import { tempDir } from './topology-helpers.js';

test('a Secret prints as «redacted» everywhere but reveal()', () => {
  const s = new Secret('hunter22');
  for (const text of [String(s), `${s}`, s + '', JSON.stringify({ s }), inspect(s), inspect({ deep: { s } }, { depth: 5 }), format('%s %o %O %j', s, s, s, { s })]) {
    assert.ok(!text.includes('hunter22'), text);
    assert.ok(text.includes('«redacted»'), text);
  }
  assert.equal(s.reveal(), 'hunter22');
  assert.equal(s.length, 8);
  assert.ok(s.matches(/^hunter/));
  assert.ok(s.equals(new Secret('hunter22')));
  assert.ok(!s.equals(new Secret('hunter23')));
  // Registered with the report's redaction: a revealed value in any output is masked.
  assert.equal(redact('auth_pass hunter22'), 'auth_pass «redacted»');
});

test('inline, env and file secrets resolve; file paths are relative to the inventory dir', () => {
  const { dir, cleanup } = tempDir('pv-secret-');
  try {
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'vrrp.txt'), 'fromfile\n');
    assert.equal(Secret.resolve('inline1').reveal(), 'inline1');
    assert.equal(Secret.resolve({ env: 'PV_TEST_PW' }, { env: { PV_TEST_PW: 'fromenv' } }).reveal(), 'fromenv');
    const f = Secret.resolve({ file: 'secrets/vrrp.txt' }, { baseDir: dir });
    assert.equal(f.reveal(), 'fromfile');
    assert.equal(f.source, 'file secrets/vrrp.txt');
    assert.equal(Secret.resolve({ file: join(dir, 'secrets', 'vrrp.txt') }, { baseDir: '/nonexistent' }).reveal(), 'fromfile');
  } finally {
    cleanup();
  }
});

test('a missing variable or file is an error naming it', () => {
  assert.throws(() => Secret.resolve({ env: 'PV_NOPE' }, { env: {} }), (e: unknown) => e instanceof SecretError && e.message === 'environment variable PV_NOPE is not set');
  assert.throws(() => Secret.resolve({ env: 'PV_EMPTY' }, { env: { PV_EMPTY: '' } }), /environment variable PV_EMPTY is empty/);
  assert.throws(() => Secret.resolve({ file: 'nope/pw.txt' }, { baseDir: '/tmp/pv-none' }), /secret file \/tmp\/pv-none\/nope\/pw.txt does not exist/);
  const { dir, cleanup } = tempDir('pv-secret-');
  try {
    writeFileSync(join(dir, 'empty'), '\n');
    assert.throws(() => Secret.resolve({ file: 'empty' }, { baseDir: dir }), /is empty/);
  } finally {
    cleanup();
  }
});

test('isSpec accepts exactly a string, {env} or {file}', () => {
  assert.ok(Secret.isSpec('x'));
  assert.ok(Secret.isSpec({ env: 'A' }));
  assert.ok(Secret.isSpec({ file: 'a' }));
  for (const bad of [1, null, [], {}, { env: 'A', file: 'b' }, { vault: 'x' }, { env: 3 }, { env: '' }]) assert.ok(!Secret.isSpec(bad), JSON.stringify(bad));
});
