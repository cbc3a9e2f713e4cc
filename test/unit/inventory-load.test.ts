// loadInventory(): the typed result (hosts, groups, positions) and the Ansible rules it follows,
// spelled out so they are checked even where ansible-inventory is not installed (the oracle in
// test/inventory.test.ts checks the same fixtures against Ansible itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory, inventoryList, expandHostPattern } from '../../src/inventory/index.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'inventory');
const load = (name: string) => loadInventory(path.join(FIX, name, 'hosts.yaml'));
const vars = async (name: string) =>
  Object.fromEntries([...(await load(name)).hosts.values()].map((h) => [h.name, h.vars]));

test('the reference topology: hosts, groups, vars, positions', async () => {
  const inv = await load('basic');
  assert.equal(inv.file, path.join(FIX, 'basic', 'hosts.yaml'));
  assert.deepEqual([...inv.hosts.keys()], ['ka67', 'ka68', 'web1', 'web2']);
  assert.deepEqual([...inv.groups.keys()], ['all', 'ungrouped', 'lb', 'web']);
  const ka67 = inv.hosts.get('ka67')!;
  assert.deepEqual(ka67.groups, ['all', 'lb']);
  assert.deepEqual(ka67.vars, {
    ansible_user: 'root',
    ansible_port: 2267,
    ansible_host: '127.0.0.1',
    eth0: '172.16.8.10/24',
    eth1: '10.16.8.10/24',
    role: 'lb',
  });
  assert.deepEqual(ka67.pos, { file: inv.file, line: 9, col: 9 });
  const lb = inv.groups.get('lb')!;
  assert.deepEqual(
    { hosts: lb.hosts, children: lb.children, parents: lb.parents, depth: lb.depth, priority: lb.priority, vars: lb.vars },
    { hosts: ['ka67', 'ka68'], children: [], parents: ['all'], depth: 1, priority: 1, vars: { role: 'lb' } },
  );
  assert.deepEqual(lb.pos, { file: inv.file, line: 7, col: 5 });
  assert.deepEqual(inv.groups.get('all')!.children, ['ungrouped', 'lb', 'web']);
  assert.deepEqual(inv.warnings, []);
});

test('a relative path is resolved; host vars are copies, not shared', async () => {
  const rel = path.relative(process.cwd(), path.join(FIX, 'basic', 'hosts.yaml'));
  const inv = await loadInventory(rel);
  assert.ok(path.isAbsolute(inv.file));
  inv.hosts.get('ka67')!.vars.ansible_user = 'changed';
  assert.equal(inv.hosts.get('ka68')!.vars.ansible_user, 'root');
});

test('precedence: all < groups < group_vars/all < group_vars/<group> < host < host_vars; dicts replaced', async () => {
  const v = await vars('precedence');
  assert.equal(v.h1!.layer, 'h1-file');
  assert.equal(v.h2!.layer, 'child-file');
  assert.equal(v.h3!.layer, 'parent-file');
  assert.equal(v.h1!.a_inv_vs_child_inv, 'child-inv'); // child group (inventory) over all (inventory)
  assert.equal(v.h1!.all_inv_vs_all_file, 'all-file');
  // group_vars/all.yml beats even a child group's inventory vars: all files come after all inventory groups
  assert.equal(v.h1!.child_inv_vs_all_file, 'all-file');
  assert.equal(v.h1!.parent_inv_vs_parent_file, 'parent-file');
  assert.equal(v.h1!.host_inv_vs_child_file, 'h1-inv');
  assert.equal(v.h1!.host_inv_vs_host_file, 'h1-file');
  assert.deepEqual(v.h1!.settings, { from_child_file: 1 }); // replaced, not merged
  assert.deepEqual(v.h3!.settings, { from_all_inv: 1, shared: 'all-inv' });
});

test('groups of equal depth: by ansible_group_priority, then name; depth first', async () => {
  const inv = await load('priority');
  const who = Object.fromEntries([...inv.hosts.values()].map((h) => [h.name, h.vars.who]));
  // p1: beta (prio 1) then alpha (prio 10) → alpha, though 'beta' sorts after 'alpha'
  // p2: beta(1) < gamma(5) < alpha(10) → alpha; p3/p4: gamma_child is deeper, priority 0 or not
  assert.deepEqual(who, { p1: 'alpha', p2: 'alpha', p3: 'gamma_child', p4: 'gamma_child' });
  assert.equal(inv.groups.get('alpha')!.priority, 10);
  assert.equal(inv.groups.get('gamma')!.priority, 5); // "5" → int("5")
  assert.equal(inv.hosts.get('p1')!.vars.ansible_group_priority, undefined); // not a variable
});

test('nested children: depth is the longest path from all; deeper groups win', async () => {
  const inv = await load('nested');
  assert.equal(inv.groups.get('leaf')!.depth, 3);
  assert.deepEqual(inv.groups.get('leaf')!.parents, ['rack1', 'aaa']);
  assert.deepEqual(inv.hosts.get('n1')!.groups, ['aaa', 'all', 'dc', 'leaf', 'rack1', 'rack2']);
  assert.deepEqual(inv.hosts.get('n1')!.vars, { level: 'leaf', zz: 'rack2', only_aaa: true });
  assert.deepEqual(inv.hosts.get('r2')!.vars, { level: 'rack2', zz: 'rack2', only_aaa: true });
});

test('group_vars and host_vars files in every form', async () => {
  const v = await vars('group-vars-files');
  assert.deepEqual(v.w1, {
    from_all_yml: true,
    shared: 'web/10',
    order: ['sub'], // 10-base, 20-more, 30-json, 40noext, sub/x.yml; not .hidden, ~, .txt
    web_yaml: true,
    json_num: 1000,
  });
  assert.equal(v.d1!.db_from, 'dir');
  assert.equal(v.c1!.mode, 420);
  assert.deepEqual(v.q1, { from_all_yml: true, shared: 'all', queue_from: 'json', n: 100000, t: true });
  assert.equal(v.m1!.mon_from, 'noext');
  const h = await vars('host-vars-files');
  assert.deepEqual(
    Object.fromEntries(Object.entries(h).map(([k, x]) => [k, x.from])),
    { web1: 'yml', web2: 'dir-b', web3: 'yaml', web4: 'json', web5: undefined },
  );
  assert.equal(h.web1!.ansible_host, '127.0.0.1');
  assert.equal(h.web4!.inv, 44);
});

test('ungrouped: hosts only under all, minus those in another group', async () => {
  const inv = await load('ungrouped');
  assert.deepEqual(inv.groups.get('ungrouped')!.hosts, ['u1', 'a1', 'a2']);
  assert.deepEqual([...inv.hosts.keys()], ['u1', 'u2', 'a1', 'a2', 'w1']);
  assert.deepEqual(inv.hosts.get('u2')!.groups, ['all', 'web']);
  assert.equal(inv.hosts.get('a1')!.vars.from_ungrouped, true);
  assert.equal(inv.hosts.get('u2')!.vars.from_ungrouped, undefined);
});

test('host order: where a host is first met, children before a later hosts: key', async () => {
  const inv = await load('hosts-after-children');
  assert.deepEqual([...inv.hosts.keys()], ['late', 'i2', 'i1', 'o1', 's1']);
  assert.deepEqual(inv.groups.get('outer')!.hosts, ['o1', 'i1']);
});

test('a host in several groups: the last mention of each key wins', async () => {
  const v = await vars('multi-group-host');
  assert.deepEqual(v.ka67, { prio: 101, vip: '10.16.8.100', from: 'lb', only_here: true });
  assert.deepEqual(v.ka68, { prio: 95, from: 'nginx' });
  assert.deepEqual(v.web1, { from: 'nginx-group' });
});

test('YAML 1.1 as Ansible reads it', async () => {
  const t1 = (await vars('yaml11')).t1!;
  assert.equal(t1.b_yes, true);
  assert.equal(t1.b_No, false);
  assert.equal(t1.b_on, true);
  assert.equal(t1.s_y, 'y');
  assert.equal(t1.mode_octal, 420);
  assert.equal(t1.mode_quoted, '0644');
  assert.equal(t1.mode_0o, '0o644');
  assert.equal(t1.f_exp_unsigned, '1e3');
  assert.equal(t1.d_date, '2024-01-02');
  assert.deepEqual(t1.seq, [true, false, 8, 'x']);
  assert.equal(t1.true, 'bool key');
  const t2 = (await vars('yaml11')).t2!;
  assert.deepEqual(t2.merged, { a: 1, b: 'overridden' });
  assert.deepEqual(t2.merged_list, { x: 'first', y: 1, z: 2 });
});

test('ranges, and host:port as ansible_port', async () => {
  const inv = await load('ranges');
  const g = (n: string) => inv.groups.get(n)!.hosts;
  assert.deepEqual(g('web'), ['web1', 'web2', 'web3']);
  assert.deepEqual(g('db'), ['db-a', 'db-b', 'db-c']);
  assert.equal(g('pad').length, 15);
  assert.deepEqual(g('pad').slice(0, 2), ['node01', 'node02']);
  assert.deepEqual(g('step'), ['s00', 's05', 's10', 'a-alpha', 'c-alpha', 'e-alpha']);
  assert.deepEqual(g('grid'), ['r1c1', 'r1c2', 'r2c1', 'r2c2']);
  assert.deepEqual(g('ip'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.deepEqual(g('ports'), ['p1', 'pp1', 'pp2', 'p3']);
  assert.equal(inv.hosts.get('p1')!.vars.ansible_port, 2222);
  assert.deepEqual(inv.hosts.get('pp2')!.vars, { ansible_port: 2200, role: 'ported' });
  assert.equal(inv.hosts.get('p3')!.vars.ansible_port, 9999); // an explicit var beats the key's port
  assert.equal(inv.hosts.get('web2')!.vars.kind, 'web');
});

test('expandHostPattern edge cases', () => {
  assert.deepEqual(expandHostPattern('[2001:db8::1]:2222'), { names: ['2001:db8::1'], port: 2222 });
  assert.deepEqual(expandHostPattern('fe80::1'), { names: ['fe80::1'], port: undefined });
  assert.deepEqual(expandHostPattern('web[:2]'), { names: ['web0', 'web1', 'web2'], port: undefined });
  assert.deepEqual(expandHostPattern('db[08:10].example.com').names, ['db08.example.com', 'db09.example.com', 'db10.example.com']);
  assert.deepEqual(expandHostPattern('[x:z][1:2]').names, ['x1', 'x2', 'y1', 'y2', 'z1', 'z2']);
});

test('top level without all: groups left without a parent become children of all', async () => {
  const inv = await load('top-not-all');
  // webservers and dbservers are top-level keys, but production adopts them
  assert.deepEqual(inv.groups.get('all')!.children, ['ungrouped', 'production']);
  assert.deepEqual(inv.groups.get('production')!.children, ['webservers', 'dbservers']);
  assert.deepEqual(inv.groups.get('replicas')!.parents, ['dbservers']);
  assert.deepEqual(inv.hosts.get('db2')!.vars, { replica: true, env: 'prod' });
});

test('inventoryList: empty groups are named by their parent but not listed', async () => {
  const list = inventoryList(await load('empty-groups')) as Record<string, unknown>;
  assert.deepEqual(list.all, { children: ['ungrouped', 'nothing', 'blank_hosts', 'only_vars', 'shell', 'real'] });
  assert.deepEqual(list.shell, { children: ['inner_empty', 'nothing'] }); // empty children still listed
  assert.deepEqual(list.nothing, undefined);
  assert.deepEqual(list.only_vars, undefined);
  assert.deepEqual(list.real, { hosts: ['r1'] });
  assert.deepEqual(list._meta, { hostvars: {} });
});

test('inventoryList drops the variable names Ansible reserves', async () => {
  const inv = await load('internal-vars');
  assert.equal(inv.hosts.get('h1')!.vars.groups, 'mine'); // kept in our model
  const list = inventoryList(inv) as { _meta: { hostvars: Record<string, unknown> } };
  assert.deepEqual(list._meta.hostvars, { h1: { kept: true }, h2: { kept: true } });
});

test('a host and a group with the same name: accepted with a warning, as Ansible does', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provision-inv-'));
  try {
    const file = path.join(dir, 'hosts.yml');
    writeFileSync(file, 'web:\n  hosts:\n    web:\n');
    const inv = await loadInventory(file);
    assert.deepEqual(inv.warnings, ['Found both group and host with same name: web']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
