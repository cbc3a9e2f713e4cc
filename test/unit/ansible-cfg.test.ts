// ansible.cfg found as Ansible finds it ($ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg) and its
// [defaults] inventory read as a comma list of paths relative to the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cfgInventory, findAnsibleCfg } from '../../src/cli/args.js';

test('ansible.cfg: $ANSIBLE_CONFIG (file or directory), then ./ansible.cfg, then ~/.ansible.cfg', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'provision-cfg-'));
  const cwd = path.join(root, 'project');
  const home = path.join(root, 'home');
  const other = path.join(root, 'other');
  for (const d of [cwd, home, other]) mkdirSync(d);
  writeFileSync(path.join(home, '.ansible.cfg'), '[defaults]\ninventory = ~/inv\n');
  assert.equal(findAnsibleCfg({}, cwd, home), path.join(home, '.ansible.cfg'));
  writeFileSync(path.join(cwd, 'ansible.cfg'), '[defaults]\ninventory = hosts.ini\n');
  assert.equal(findAnsibleCfg({}, cwd, home), path.join(cwd, 'ansible.cfg'));
  writeFileSync(path.join(other, 'ansible.cfg'), '[ssh_connection]\ninventory = no\n[defaults]\nforks = 5\nhostfile = a.yaml, b/ , h1,  ; comment\n');
  assert.equal(findAnsibleCfg({ ANSIBLE_CONFIG: other }, cwd, home), path.join(other, 'ansible.cfg'));
  assert.equal(findAnsibleCfg({ ANSIBLE_CONFIG: path.join(other, 'ansible.cfg') }, cwd, home), path.join(other, 'ansible.cfg'));
  assert.deepEqual(cfgInventory(path.join(home, '.ansible.cfg'), home), [path.join(home, 'inv')]);
  assert.deepEqual(cfgInventory(path.join(cwd, 'ansible.cfg'), home), [path.join(cwd, 'hosts.ini')]);
  assert.deepEqual(cfgInventory(path.join(other, 'ansible.cfg'), home), [path.join(other, 'a.yaml'), path.join(other, 'b'), path.join(other, 'h1')]);
});
