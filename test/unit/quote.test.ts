// The quoting helper, checked against real shells: a quoted word must arrive unchanged.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { q, raw, sh, Shell } from '../../src/transport/quote.js';

const HOSTILE = [
  '',
  ' ',
  'plain',
  'two words',
  '$(touch /tmp/provision-quote-pwned)',
  '`touch /tmp/provision-quote-pwned`',
  '${HOME}',
  '$HOME',
  "it's",
  "'",
  "''",
  '"double"',
  '\\',
  'back\\slash\\',
  'line1\nline2',
  '\n',
  'tab\there',
  'a; rm -rf /tmp/provision-quote-nothing',
  'a && b || c | d & e',
  '> /tmp/provision-quote-redirect',
  '*',
  '?',
  '[a-z]*',
  '~',
  '~root',
  '-n',
  '-e \\x41',
  '#comment',
  '!event',
  '%s%n',
  'unicode: ünïcødé ✓ 中文',
  '\x01\x02\x7f\x1b[31m',
  'a=b',
  'x'.repeat(5000),
];

const SHELLS = ['/bin/sh', '/bin/dash', '/bin/bash'].filter((s, i, all) => existsSync(s) && all.indexOf(s) === i);

/** What the shell sees as the first argument after word splitting: printf writes it back verbatim. */
function roundTrip(shell: string, script: string): string {
  return execFileSync(shell, ['-c', script], { encoding: 'utf8' });
}

describe('q', () => {
  for (const shell of SHELLS) {
    it(`round-trips hostile values through ${shell} -c`, () => {
      for (const v of HOSTILE) {
        assert.equal(roundTrip(shell, `printf '%s' ${q(v)}`), v, `value ${JSON.stringify(v)}`);
      }
      assert.equal(existsSync('/tmp/provision-quote-pwned'), false);
      assert.equal(existsSync('/tmp/provision-quote-redirect'), false);
    });

    it(`keeps one value one word in ${shell}`, () => {
      for (const v of HOSTILE) {
        assert.equal(roundTrip(shell, `set -- ${q(v)}; printf '%s' "$#"`), '1', `value ${JSON.stringify(v)}`);
      }
    });
  }

  it('survives double quoting (sudo ... sh -c <quoted command>)', () => {
    for (const v of HOSTILE) {
      const inner = sh`printf '%s' ${v}`;
      const outer = sh`sh -c ${inner.text}`;
      assert.equal(roundTrip('/bin/sh', outer.text), v, `value ${JSON.stringify(v)}`);
    }
  });

  it('refuses NUL bytes', () => {
    assert.throws(() => q('a\0b'), /NUL/);
    assert.throws(() => sh`echo ${'\0'}`, /NUL/);
  });

  it('leaves safe words bare and quotes the rest', () => {
    assert.equal(q('/etc/nginx/nginx.conf'), '/etc/nginx/nginx.conf');
    assert.equal(q('user@host:22'), 'user@host:22');
    assert.equal(q(644), '644');
    assert.equal(q(''), "''");
    assert.equal(q('a b'), "'a b'");
    assert.equal(q("it's"), `'it'\\''s'`);
  });
});

describe('sh tagged template', () => {
  it('quotes every interpolated value and keeps literal text', () => {
    const path = '/tmp/a file; rm -rf /';
    assert.equal(sh`test -e ${path} && cat ${path}`.text, `test -e '/tmp/a file; rm -rf /' && cat '/tmp/a file; rm -rf /'`);
  });

  it('spreads arrays as separate quoted words', () => {
    const s = sh`printf '%s|' ${['a b', '$(x)', 'c']}`;
    assert.equal(roundTrip('/bin/sh', s.text), 'a b|$(x)|c|');
  });

  it('does not quote Shell values again (sh and raw)', () => {
    const redirect = raw('2>/dev/null');
    const inner = sh`echo ${'x y'}`;
    const s = sh`${inner} ${redirect}`;
    assert.ok(s instanceof Shell);
    assert.equal(s.text, `echo 'x y' 2>/dev/null`);
    assert.equal(String(s), s.text);
  });

  it('numbers become words', () => {
    assert.equal(sh`chmod ${644} ${'/x'}`.text, 'chmod 644 /x');
  });
});
