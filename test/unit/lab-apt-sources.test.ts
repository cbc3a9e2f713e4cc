// The lab reads its Debian mirror from the machine's own apt sources: one-line and deb822.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDeb822, parseOneLine, pickDebianMirror, readAptSources, renderSourcesList } from '../../src/lab/apt-sources.ts';

// Made-up mirror names (the lab never writes a real registry host anywhere).
const M = 'http://mirror.example.invalid/debian';
const S = 'http://mirror.example.invalid/debian-security';

test('one-line: options, comments, components, deb-src', () => {
  const text = [
    '# a comment',
    `deb ${M} bookworm main contrib non-free-firmware`,
    `deb-src ${M} bookworm main`,
    `deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${M} bookworm-updates main # trailing`,
    '',
    'deb https://apt.example.invalid/x cloud-sdk-bookworm main',
    'garbage line',
  ].join('\n');
  const s = parseOneLine(text, 'sources.list');
  assert.equal(s.length, 4);
  assert.deepEqual(s[0], { type: 'deb', uri: M, suite: 'bookworm', components: ['main', 'contrib', 'non-free-firmware'], options: {}, origin: 'sources.list:2' });
  assert.equal(s[1].type, 'deb-src');
  assert.deepEqual(s[2].options, { arch: 'amd64', 'signed-by': '/usr/share/keyrings/debian-archive-keyring.gpg' });
  assert.equal(s[2].suite, 'bookworm-updates');
});

test('deb822: several suites, comments inside a stanza, Enabled: no, continuation lines', () => {
  const text = [
    'Types: deb',
    '# a comment between fields',
    `URIs: ${M}`,
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    'Types: deb deb-src',
    `URIs: ${S}`,
    'Suites: bookworm-security',
    'Components: main',
    'Signed-By:',
    ' -----BEGIN PGP PUBLIC KEY BLOCK-----',
    ' .',
    ' xyz',
    ' -----END PGP PUBLIC KEY BLOCK-----',
    '',
    'Types: deb',
    'URIs: http://disabled.example.invalid/debian',
    'Suites: bookworm',
    'Components: main',
    'Enabled: no',
  ].join('\n');
  const s = parseDeb822(text, 'debian.sources');
  assert.deepEqual(
    s.map((e) => `${e.type} ${e.uri} ${e.suite}`),
    [`deb ${M} bookworm`, `deb ${M} bookworm-updates`, `deb ${S} bookworm-security`, `deb-src ${S} bookworm-security`],
  );
  assert.equal(s[0].options['signed-by'], '/usr/share/keyrings/debian-archive-keyring.gpg');
  assert.ok(s[2].options['signed-by'].includes('BEGIN PGP'));
  assert.equal(s[0].origin, 'debian.sources:1');
});

test('pickDebianMirror: main, then -updates and -security; inline keys are not keyrings', () => {
  const s = [
    ...parseOneLine('deb https://apt.example.invalid/x cloud-sdk-bookworm main\n', 'a.list'),
    ...parseDeb822(
      `Types: deb\nURIs: ${M}\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: ${S}\nSuites: bookworm-security\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n`,
    ),
  ];
  const m = pickDebianMirror(s, 'bookworm');
  assert.equal(m.uri, M);
  assert.equal(m.keyring, '/usr/share/keyrings/debian-archive-keyring.gpg');
  assert.deepEqual(
    m.sources.map((x) => `${x.uri} ${x.suite} ${x.keyring ?? '-'}`),
    [`${M} bookworm /usr/share/keyrings/debian-archive-keyring.gpg`, `${M} bookworm-updates /usr/share/keyrings/debian-archive-keyring.gpg`, `${S} bookworm-security -`],
  );
  assert.equal(
    renderSourcesList(m, () => true),
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${M} bookworm main\n` +
      `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${M} bookworm-updates main\n` +
      `deb ${S} bookworm-security main\n`,
  );
  assert.equal(renderSourcesList(m, () => false).split('\n')[0], `deb ${M} bookworm main`);
});

test('pickDebianMirror: a clear error without a bookworm main entry; deb-src and other components do not count', () => {
  const s = parseOneLine(`deb-src ${M} bookworm main\ndeb ${M} bookworm contrib\ndeb ${M} trixie main\n`);
  assert.throws(() => pickDebianMirror(s, 'bookworm'), /no "deb \.\.\. bookworm main" entry/);
});

test('readAptSources: sources.list, *.list and *.sources, other files ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-apt-'));
  mkdirSync(join(dir, 'sources.list.d'));
  writeFileSync(join(dir, 'sources.list'), '# empty\n');
  writeFileSync(join(dir, 'sources.list.d', 'debian.sources'), `Types: deb\nURIs: ${M}\nSuites: bookworm\nComponents: main\n`);
  writeFileSync(join(dir, 'sources.list.d', 'extra.list'), `deb ${S} bookworm-security main\n`);
  writeFileSync(join(dir, 'sources.list.d', 'old.list.disabled'), `deb http://x.invalid/ bookworm main\n`);
  const s = readAptSources(dir);
  assert.deepEqual(s.map((e) => e.suite), ['bookworm', 'bookworm-security']);
  assert.equal(pickDebianMirror(s).sources.length, 2);
});
