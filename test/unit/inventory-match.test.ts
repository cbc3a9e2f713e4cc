// matchHosts(): --limit and play `hosts:` patterns. (Set equality with Ansible itself is checked
// by the oracle in test/inventory.test.ts; here: order, errors, options, edge cases.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory, matchHosts, splitHostPattern } from '../../src/inventory/index.js';
import { InputError } from '../../src/errors.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'inventory');
const basic = await loadInventory(path.join(FIX, 'basic', 'hosts.yaml'));
const nested = await loadInventory(path.join(FIX, 'nested', 'hosts.yaml'));
const ranges = await loadInventory(path.join(FIX, 'ranges', 'hosts.yaml'));

const names = (inv: typeof basic, ...patterns: string[]) => matchHosts(inv, patterns).map((h) => h.name);

test('all, * and an empty-free comma list', () => {
  assert.deepEqual(names(basic, 'all'), ['ka67', 'ka68', 'web1', 'web2']);
  assert.deepEqual(names(basic, '*'), ['ka67', 'ka68', 'web1', 'web2']);
  assert.deepEqual(names(basic, 'web2, ,ka67'), ['ka67', 'web2']);
});

test('group and host names, several strings', () => {
  assert.deepEqual(names(basic, 'lb'), ['ka67', 'ka68']);
  assert.deepEqual(names(basic, 'web', 'ka68'), ['ka68', 'web1', 'web2']);
});

test('result is in inventory order, whatever the pattern order', () => {
  assert.deepEqual(names(basic, 'web2,web1,ka68'), ['ka68', 'web1', 'web2']);
  // Ansible would give r1, n2 here (the order its group walk meets them)
  assert.deepEqual(names(nested, 'dc:!rack2'), ['n2', 'r1']);
});

test('globs over group and host names', () => {
  assert.deepEqual(names(basic, 'web*'), ['web1', 'web2']);
  assert.deepEqual(names(basic, 'ka6?'), ['ka67', 'ka68']);
  assert.deepEqual(names(basic, 'ka6[!7]'), ['ka68']);
  assert.deepEqual(names(ranges, 'node0[!4-9]'), ['node01', 'node02', 'node03']);
  // but [1-3] after a name is the old subscript syntax, as in Ansible: items 1..3 of a group 'node0'
  assert.throws(() => names(ranges, 'node0[1-3]'), /--limit node0\[1-3\] matches no host/);
  assert.deepEqual(names(basic, 'l*'), ['ka67', 'ka68']); // the group lb
});

test('exclusion and intersection, applied after the plain patterns', () => {
  assert.deepEqual(names(basic, '!ka67,lb'), ['ka68']);
  assert.deepEqual(names(basic, 'all:!web'), ['ka67', 'ka68']);
  assert.deepEqual(names(basic, 'all,&lb'), ['ka67', 'ka68']);
  assert.deepEqual(names(basic, '&web'), ['web1', 'web2']); // only & or ! : base is all
  assert.deepEqual(names(basic, '!web1'), ['ka67', 'ka68', 'web2']);
});

test('regular expressions with ~', () => {
  assert.deepEqual(names(basic, '~ka6[78]'), ['ka67', 'ka68']);
  assert.deepEqual(names(basic, '~web'), ['web1', 'web2']); // re.match: anchored at the start only
});

test('subscripts pick hosts of a group by position', () => {
  assert.deepEqual(names(basic, 'web[0]'), ['web1']);
  assert.deepEqual(names(basic, 'web[-1]'), ['web2']);
  assert.deepEqual(names(ranges, 'pad[1:3]'), ['node02', 'node03', 'node04']);
  assert.deepEqual(names(ranges, 'pad[12:]'), ['n10x', 'n11x', 'n12x']);
  assert.throws(() => names(basic, 'web[5]'), /no host at index 5/);
});

test('a literal host name with brackets or dots matches itself', () => {
  assert.deepEqual(names(ranges, '10.0.0.2'), ['10.0.0.2']);
  assert.deepEqual(names(ranges, 'r1c2'), ['r1c2']);
});

test('a limit matching nothing is an InputError listing the hosts', () => {
  assert.throws(
    () => matchHosts(basic, ['web9']),
    (e: unknown) =>
      e instanceof InputError && e.message === '--limit web9 matches no host (hosts: ka67, ka68, web1, web2; groups: lb, web)',
  );
});

test('a term naming nothing is an error even if others match (a typo must not widen or narrow a run silently)', () => {
  assert.throws(() => matchHosts(basic, ['web1,wbe2']), /--limit wbe2 matches no host/);
  assert.throws(() => matchHosts(basic, ['all:!ka76']), /--limit ka76 matches no host/);
});

test('an empty result from existing names is an error too, naming the whole limit', () => {
  assert.throws(() => matchHosts(basic, ['lb:&web']), /--limit lb,&web matches no host/);
});

test('allowEmpty (a play whose hosts match nothing is skipped) and label', () => {
  assert.deepEqual(matchHosts(basic, ['nosuch'], { allowEmpty: true }), []);
  assert.deepEqual(matchHosts(basic, ['lb:&web'], { allowEmpty: true }), []);
  assert.deepEqual(matchHosts(basic, [], { allowEmpty: true }), []);
  assert.throws(() => matchHosts(basic, ['nosuch'], { label: 'play "site" hosts:' }), /^InputError: play "site" hosts: nosuch matches no host/);
  assert.throws(() => matchHosts(basic, []), /no host pattern given/);
});

test('the list of hosts in the message is cut after 12', () => {
  assert.throws(() => matchHosts(ranges, ['zzz']), (e: unknown) => e instanceof InputError && /node06, \.\.\.; groups: web, db/.test(e.message));
});

test('an invalid regular expression is an InputError', () => {
  assert.throws(() => matchHosts(basic, ['~web(']), (e: unknown) => e instanceof InputError && /invalid host pattern ~web\(/.test(e.message));
});

test('returns the Host objects of the inventory', () => {
  const [h] = matchHosts(basic, ['ka67']);
  assert.equal(h, basic.hosts.get('ka67'));
  assert.equal(h!.vars.ansible_port, 2267);
});

test('splitHostPattern: commas, legacy colons, ranges and IPv6 kept whole', () => {
  assert.deepEqual(splitHostPattern('a,b[1], c[2:3] , d'), ['a', 'b[1]', 'c[2:3]', 'd']);
  assert.deepEqual(splitHostPattern('web:!db:&x'), ['web', '!db', '&x']);
  assert.deepEqual(splitHostPattern('web[1:3]'), ['web[1:3]']);
  assert.deepEqual(splitHostPattern('fe80::1'), ['fe80::1']);
  assert.deepEqual(splitHostPattern(['a:b', 'c']), ['a', 'b', 'c']);
});
