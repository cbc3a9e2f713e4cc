// known_hosts parsing and lookup, checked against files and fingerprints made by ssh-keygen.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  appendKnownHost,
  checkHostKey,
  decideHostKey,
  entryMatchesHost,
  fingerprintSha256,
  hashHostName,
  hostKeyAlgorithmsFor,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  loadKnownHosts,
  parseKnownHosts,
} from '../../src/transport/known-hosts.js';

let dir: string;
const keys: Record<string, { type: string; b64: string; blob: Buffer; pubFile: string }> = {};

function genKey(name: string, type: string, bits?: number): void {
  const f = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', name, '-f', f]);
  const [t, b64] = readFileSync(f + '.pub', 'utf8').trim().split(/\s+/);
  keys[name] = { type: t, b64, blob: Buffer.from(b64, 'base64'), pubFile: f + '.pub' };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'provision-kh-'));
  genKey('ed1', 'ed25519');
  genKey('ed2', 'ed25519');
  genKey('ec1', 'ecdsa');
  genKey('rsa1', 'rsa', 2048);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const line = (hosts: string, k: string, extra = ''): string => `${hosts} ${keys[k].type} ${keys[k].b64}${extra}`;

describe('parseKnownHosts', () => {
  it('reads plain, bracketed, comma-separated entries, comments and markers', () => {
    const text = [
      '# a comment',
      '',
      line('web1,10.0.0.1', 'ed1', ' a trailing comment'),
      line('[127.0.0.1]:2201', 'ec1'),
      '   ' + line('*.example.com,!bad.example.com', 'rsa1'),
      '@revoked ' + line('*', 'ed2'),
      '@cert-authority ' + line('*.corp', 'ed1'),
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text, 'kh');
    assert.deepEqual(problems, []);
    assert.equal(entries.length, 5);
    assert.deepEqual(entries[0].patterns, ['web1', '10.0.0.1']);
    assert.equal(entries[0].comment, 'a trailing comment');
    assert.equal(entries[0].line, 3);
    assert.equal(entries[0].file, 'kh');
    assert.equal(entries[1].keyType, 'ecdsa-sha2-nistp256');
    assert.equal(entries[3].marker, 'revoked');
    assert.equal(entries[4].marker, 'cert-authority');
    assert.ok(entries[0].key.equals(keys.ed1.blob));
  });

  it('skips and reports malformed lines without failing the rest', () => {
    const text = [
      'onlyhost',
      'host ssh-ed25519 not*base64',
      `host ssh-rsa ${keys.ed1.b64}`, // type does not match the blob
      '@bogus ' + line('h', 'ed1'),
      '|2|abc|def ' + `${keys.ed1.type} ${keys.ed1.b64}`,
      line('good', 'ed1'),
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text, 'kh');
    assert.equal(entries.length, 1);
    assert.deepEqual(
      problems.map((p) => p.line),
      [1, 2, 3, 4, 5],
    );
  });
});

describe('host matching', () => {
  it('names hosts like OpenSSH: bare on port 22, [host]:port otherwise', () => {
    assert.equal(knownHostsName('Web1.Example.com', 22), 'web1.example.com');
    assert.equal(knownHostsName('127.0.0.1', 2201), '[127.0.0.1]:2201');
  });

  it('matches patterns, wildcards and negations', () => {
    const { entries } = parseKnownHosts(
      [line('web1,10.0.0.1', 'ed1'), line('*.example.com,!bad.example.com', 'ed1'), line('[127.0.0.1]:2201', 'ed1'), line('db?', 'ed1')].join('\n'),
    );
    const [list, wild, bracket, q] = entries;
    assert.ok(entryMatchesHost(list, 'web1'));
    assert.ok(entryMatchesHost(list, '10.0.0.1'));
    assert.ok(!entryMatchesHost(list, 'web2'));
    assert.ok(entryMatchesHost(wild, 'a.example.com'));
    assert.ok(!entryMatchesHost(wild, 'bad.example.com'));
    assert.ok(!entryMatchesHost(wild, 'example.com'));
    assert.ok(entryMatchesHost(bracket, '[127.0.0.1]:2201'));
    assert.ok(!entryMatchesHost(bracket, '127.0.0.1'));
    assert.ok(!entryMatchesHost(bracket, '[127.0.0.1]:2202'));
    assert.ok(entryMatchesHost(q, 'db1'));
    assert.ok(!entryMatchesHost(q, 'db10'));
  });

  it('matches hashed entries written by ssh-keygen -H', () => {
    const file = join(dir, 'hashed_known_hosts');
    writeFileSync(file, [line('web1', 'ed1'), line('[127.0.0.1]:2201', 'ec1'), line('10.0.0.5', 'rsa1')].join('\n') + '\n');
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' });
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('web1') && !text.includes('127.0.0.1'), 'ssh-keygen -H hashed the names');
    const { entries, problems } = parseKnownHosts(text, file);
    assert.deepEqual(problems, []);
    assert.equal(entries.length, 3);
    assert.ok(entries.every((e) => e.hashed));
    assert.equal(checkHostKey(entries, ['web1'], keys.ed1.blob).status, 'known');
    assert.equal(checkHostKey(entries, ['[127.0.0.1]:2201'], keys.ec1.blob).status, 'known');
    assert.equal(checkHostKey(entries, ['10.0.0.5'], keys.rsa1.blob).status, 'known');
    assert.equal(checkHostKey(entries, ['127.0.0.1'], keys.ec1.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, ['web1'], keys.ed2.blob).status, 'changed');
  });

  it('hashes names the way ssh-keygen does', () => {
    const salt = Buffer.alloc(20, 7);
    const hashed = hashHostName('[127.0.0.1]:2201', salt);
    const { entries } = parseKnownHosts(`${hashed} ${keys.ed1.type} ${keys.ed1.b64}`);
    assert.ok(entryMatchesHost(entries[0], '[127.0.0.1]:2201'));
    // and ssh-keygen -F finds our hashed line
    const file = join(dir, 'our_hashed');
    writeFileSync(file, `${hashed} ${keys.ed1.type} ${keys.ed1.b64}\n`);
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2201', '-f', file], { encoding: 'utf8' });
    assert.match(found, /found: line 1/);
  });
});

describe('checkHostKey', () => {
  const text = (): string =>
    [line('web1', 'ed1'), line('web1', 'rsa1'), line('[10.0.0.9]:2222', 'ec1'), '@revoked ' + line('*', 'ed2'), '@cert-authority ' + line('*', 'ec1')].join(
      '\n',
    );

  it('known when any key of the host matches', () => {
    const { entries } = parseKnownHosts(text());
    const v = checkHostKey(entries, ['web1'], keys.rsa1.blob);
    assert.equal(v.status, 'known');
  });

  it('changed when the host has a key of that type and none matches', () => {
    const { entries } = parseKnownHosts(text());
    genKey('ec2', 'ecdsa');
    const v = checkHostKey(entries, ['[10.0.0.9]:2222'], keys.ec2.blob);
    assert.equal(v.status, 'changed');
  });

  it('unknown (with the other types) when only keys of other types are filed', () => {
    const { entries } = parseKnownHosts(text());
    const v = checkHostKey(entries, ['[10.0.0.9]:2222'], keys.ed1.blob);
    assert.deepEqual(v, { status: 'unknown', otherTypes: ['ecdsa-sha2-nistp256'] });
    assert.deepEqual(checkHostKey(entries, ['nowhere'], keys.ed1.blob), { status: 'unknown', otherTypes: [] });
  });

  it('revoked keys are refused even for hosts that list them', () => {
    const { entries } = parseKnownHosts(text() + '\n' + line('web2', 'ed2'));
    assert.equal(checkHostKey(entries, ['web2'], keys.ed2.blob).status, 'revoked');
  });

  it('cert-authority lines are not host keys', () => {
    const { entries } = parseKnownHosts(text());
    assert.equal(checkHostKey(entries, ['anyhost'], keys.ec1.blob).status, 'unknown');
  });

  it('lists known key types (to prefer them in the key exchange)', () => {
    const { entries } = parseKnownHosts(text());
    assert.deepEqual(knownKeyTypes(entries, ['web1']), ['ssh-ed25519', 'ssh-rsa']);
    assert.deepEqual(hostKeyAlgorithmsFor(['ssh-ed25519', 'ssh-rsa']), ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  });
});

describe('fingerprints and policy', () => {
  it('fingerprints like ssh-keygen -l', () => {
    for (const k of Object.values(keys)) {
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k.pubFile], { encoding: 'utf8' });
      assert.equal(fingerprintSha256(k.blob), out.split(/\s+/)[1]);
      assert.equal(keyTypeOf(k.blob), k.type);
    }
  });

  const ctx = () => ({ address: '127.0.0.1', port: 2201, name: '[127.0.0.1]:2201', key: keys.ed2.blob, files: ['/x/known_hosts'] });

  it('strict refuses unknown hosts with a one-line message', () => {
    const d = decideHostKey('strict', { status: 'unknown', otherTypes: [] }, ctx());
    assert.equal(d.accept, false);
    assert.match(d.reason!, /^host key for \[127\.0\.0\.1\]:2201 not in known_hosts \(\/x\/known_hosts; offered ssh-ed25519 SHA256:/);
    assert.ok(!d.reason!.includes('\n'));
  });

  it('accept-new records unknown hosts and refuses changed keys', () => {
    assert.deepEqual(decideHostKey('accept-new', { status: 'unknown', otherTypes: [] }, ctx()), { accept: true, record: true });
    const { entries } = parseKnownHosts(line('[127.0.0.1]:2201', 'ed1'), '/x/known_hosts');
    const d = decideHostKey('accept-new', checkHostKey(entries, ['[127.0.0.1]:2201'], keys.ed2.blob), ctx());
    assert.equal(d.accept, false);
    assert.ok(d.reason!.includes('127.0.0.1 port 2201'));
    assert.ok(d.reason!.includes(fingerprintSha256(keys.ed2.blob)));
    assert.ok(d.reason!.includes('/x/known_hosts:1'));
    assert.ok(!d.reason!.includes('\n'));
  });

  it('off accepts unknown and changed keys, not revoked ones', () => {
    assert.equal(decideHostKey('off', { status: 'unknown', otherTypes: [] }, ctx()).accept, true);
    const { entries } = parseKnownHosts([line('[127.0.0.1]:2201', 'ed1'), '@revoked ' + line('*', 'rsa1')].join('\n'));
    assert.equal(decideHostKey('off', checkHostKey(entries, ['[127.0.0.1]:2201'], keys.ed2.blob), ctx()).accept, true);
    assert.equal(decideHostKey('off', checkHostKey(entries, ['[127.0.0.1]:2201'], keys.rsa1.blob), ctx()).accept, false);
  });

  it('appends a line that loads back', async () => {
    const file = join(dir, 'sub', 'known_hosts');
    await appendKnownHost(file, '[127.0.0.1]:2201', keys.ed1.blob);
    await appendKnownHost(file, 'web9', keys.rsa1.blob);
    const { entries, problems } = await loadKnownHosts([file, join(dir, 'missing')]);
    assert.deepEqual(problems, []);
    assert.equal(checkHostKey(entries, ['[127.0.0.1]:2201'], keys.ed1.blob).status, 'known');
    assert.equal(checkHostKey(entries, ['web9'], keys.rsa1.blob).status, 'known');
    // ssh-keygen agrees with what we wrote
    assert.match(execFileSync('ssh-keygen', ['-F', 'web9', '-f', file], { encoding: 'utf8' }), /found: line 2/);
  });
});
