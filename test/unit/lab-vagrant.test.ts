// The Vagrantfile and inventory/vagrant.yaml describe the same six hosts as the local lab.
// `vagrant validate` runs where vagrant is installed (Debian: apt-get install
// --no-install-recommends vagrant, ~14 MB); elsewhere that one test is skipped, saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { HOSTS, VIPS, MCAST_GROUP } from '../../src/lab/config.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const vagrantfile = readFileSync(join(repo, 'Vagrantfile'), 'utf8');
type H = Record<string, unknown> & { addresses: Record<string, string>; ansible_port: number };
const inv = parse(readFileSync(join(repo, 'inventory', 'vagrant.yaml'), 'utf8')) as {
  all: { vars: { ha: { mcast_group: string; networks: Array<{ name: string; interface: string; vips: unknown }> } }; children: Record<string, { hosts: Record<string, H> }> };
};

function hasVagrant(): boolean {
  return spawnSync('sh', ['-c', 'command -v vagrant'], { stdio: 'ignore' }).status === 0;
}

test('inventory/vagrant.yaml: the lab hosts, groups, addresses and VIPs; ports match the Vagrantfile', () => {
  for (const h of HOSTS) {
    const got = inv.all.children[h.group].hosts[h.name];
    assert.ok(got, `${h.name} missing from group ${h.group}`);
    assert.deepEqual(got.addresses, Object.fromEntries(h.nics.map((n) => [n.net, n.address])));
    assert.equal(got.ansible_host, '127.0.0.1');
    assert.equal(got.ansible_user, 'vagrant');
    assert.equal(got.ansible_become, true);
    assert.equal(got.firewall_backend, h.vars?.firewall_backend);
    // the Vagrantfile forwards exactly this port, on loopback, for this host
    assert.match(vagrantfile, new RegExp(`name: "${h.name}",\\s+port: ${got.ansible_port},`));
    for (const n of h.nics) assert.match(vagrantfile, new RegExp(`name: "${h.name}".*\\["${n.net}", "${n.address.replace(/\./g, '\\.')}"\\]`));
  }
  assert.equal(inv.all.vars.ha.mcast_group, MCAST_GROUP);
  const nets = Object.fromEntries(inv.all.vars.ha.networks.map((n) => [n.name, n]));
  assert.equal(nets.external.interface, 'eth1');
  assert.equal(nets.internal.interface, 'eth2');
  assert.deepEqual(nets.external.vips, VIPS.external);
  assert.deepEqual(nets.internal.vips, VIPS.internal);
  assert.match(vagrantfile, /host_ip: "127\.0\.0\.1"/);
  assert.match(vagrantfile, /config\.vm\.box = "debian\/bookworm64"/);
});

test('vagrant validate accepts the Vagrantfile and rejects a broken one', { skip: hasVagrant() ? false : 'vagrant is not installed (Debian: apt-get install --no-install-recommends vagrant)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vagrant-validate-'));
  copyFileSync(join(repo, 'Vagrantfile'), join(dir, 'Vagrantfile'));
  // --ignore-provider: CI has no VirtualBox/libvirt; the rest of the config is still checked.
  const env = { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_HOME: join(dir, '.vagrant.d') };
  const out = execFileSync('vagrant', ['validate', '--ignore-provider'], { cwd: dir, env, encoding: 'utf8' });
  assert.match(out, /Vagrantfile validated successfully/);
  writeFileSync(join(dir, 'Vagrantfile'), vagrantfile.replace('m.vm.hostname = h[:name]', 'm.vm.hostnme = h[:name]'));
  const bad = spawnSync('vagrant', ['validate', '--ignore-provider'], { cwd: dir, env, encoding: 'utf8' });
  assert.notEqual(bad.status, 0, 'a misspelt option must fail validation');
});
