// The mission on Vagrant VMs (issue 16): `provision lab up --vagrant` boots the VMs (libvirt
// + QEMU in namespace lab-vagrant), provision converges them, verify passes, a second run and
// --check change nothing; then what only real hosts do: keepalived tracks nginx with
// track_process, firewalld on ka67 and nftables on ka68 on their own kernels, nginx killed
// and a VM powered off move the VIPs (client-observed gap per VIP), and a VM rebooted from
// inside comes back as provisioned and takes its VIPs back with no provision run between.
// CI boots the reduced set (ka67, ka68, web1, client-int); `npm run test:vagrant` all six.
// Root on Linux with qemu-system-x86, libvirt and vagrant-libvirt; skipped elsewhere, saying why.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../src/inventory/index.js';
import { deriveTopology } from '../src/topology/index.js';
import { SshTransport, connectionSpecFor, sh, type Transport } from '../src/transport/index.js';
import { verifyFailover, vipHolders } from '../src/verify/failover.js';
import { CI_VMS, DOMAIN_PREFIX, VAGRANT_NETNS, VM_PORTS, vagrantDown, vagrantUp } from '../src/lab/vagrant.js';
import { sshBanner } from '../src/lab/host.js';
import type { HaModel } from '../src/topology/types.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = process.env.PROVISION_VAGRANT_ALL === '1';
const HOSTS = ALL ? Object.keys(VM_PORTS) : CI_VMS;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const plugin = () => /vagrant-libvirt/.test(spawnSync('vagrant', ['plugin', 'list'], { encoding: 'utf8', env: { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1' } }).stdout ?? '');
// Opt-in until the VM run has passed end to end on this machine within CI's time
// (docs/benchmarks.md, "Vagrant VMs"): `npm run test:vagrant` or PROVISION_VAGRANT_E2E=1 runs it.
const skip =
  process.env.PROVISION_VAGRANT_E2E !== '1'
    ? 'VM e2e not in npm test yet: it has never run to the end here (box built and added with vagrant box add; vagrant up on QEMU TCG, the converge and the failover on VMs not yet run); npm run test:vagrant runs it'
    : process.platform !== 'linux' || process.getuid?.() !== 0
      ? 'the Vagrant VMs need root on Linux'
      : !has('qemu-system-x86_64') || !has('libvirtd') || !has('vagrant')
        ? 'qemu-system-x86, libvirt-daemon-system and vagrant are not installed (.ci/run installs them)'
        : !plugin()
          ? 'the vagrant-libvirt plugin is not installed (apt-get install vagrant-libvirt)'
          : false;
const log = (l: string) => process.stderr.write(`# ${l}\n`);
const opts = { log, repoRoot };
const work = mkdtempSync(join(tmpdir(), 'pv-vagrant-'));
let inventory = '';
let model: HaModel;
const conns = new Map<string, Promise<Transport>>();

function provision(args: string[]): Promise<{ code: number | null; out: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(repoRoot, 'bin/provision.js'), ...args], { cwd: repoRoot, env: { ...process.env, CI: 'true' } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (out += d));
    p.on('error', rej);
    p.on('close', (code) => res({ code, out, seconds: (Date.now() - t0) / 1000 }));
  });
}

async function connect(host: string, fresh = false): Promise<Transport> {
  const inv = await loadInventory(inventory);
  const make = async () => {
    const t = new SshTransport(connectionSpecFor(inv.hosts.get(host)!));
    await t.connect();
    return t;
  };
  if (fresh) {
    const old = conns.get(host);
    conns.delete(host);
    await old?.then((t) => t.close()).catch(() => undefined);
  }
  let p = conns.get(host);
  if (!p) conns.set(host, (p = make()));
  return p;
}

async function sudo(host: string, cmd: string): Promise<string> {
  const r = await (await connect(host)).exec(sh`sh -c ${cmd}`, { sudo: true, timeoutMs: 120_000 });
  assert.equal(r.code, 0, `${host}: ${cmd}: ${r.stderr}`);
  return r.stdout;
}

let runs = 0;
/** A run with --json: exit code, seconds and the per-host summary. */
async function run(args: string[]): Promise<{ code: number | null; out: string; seconds: number; hosts: Record<string, { changed: number; failed: number; unreachable: number }> }> {
  const json = join(work, `run-${++runs}.json`);
  const r = await provision([...args, '--json', json]);
  const hosts = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as { hosts: Record<string, { changed: number; failed: number; unreachable: number }> }).hosts : {};
  return { ...r, hosts };
}

async function waitFor<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const virsh = (...args: string[]) => spawnSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8' });

before(async () => {
  if (skip) return;
  const r = await vagrantUp({ ...opts, hosts: HOSTS });
  inventory = r.inventory;
  log(`vagrant up (${HOSTS.length} VMs): ${r.upSeconds} s; up in total ${r.seconds} s`);
  const inv = await loadInventory(inventory);
  model = deriveTopology([...inv.hosts.values()], { baseDir: dirname(inventory) });
});

after(async () => {
  await Promise.allSettled([...conns.values()].map(async (p) => (await p).close()));
  rmSync(work, { recursive: true, force: true });
  if (skip || process.env.PROVISION_KEEP_VAGRANT === '1') return;
  await vagrantDown(opts);
  // Nothing left: no namespace, no domain, no forward; the root namespace never had a route.
  assert.ok(!spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(VAGRANT_NETNS));
  assert.ok(!existsSync(inventory));
  for (const h of HOSTS) assert.equal(await sshBanner(VM_PORTS[h], 500), false, `${h}: forward still answers`);
});

test('up: every VM answers SSH as vagrant with strict host keys, sudo -n, python3; the insecure key is gone', { skip, timeout: 120_000 }, async () => {
  for (const h of HOSTS) {
    assert.equal((await sudo(h, 'id -u')).trim(), '0');
    const keys = await sudo(h, 'cat /home/vagrant/.ssh/authorized_keys');
    assert.doesNotMatch(keys, / vagrant insecure public key$/m, `${h}: Vagrant replaced its insecure key`);
    assert.match(await sudo(h, 'python3 -c "print(1+1)"'), /^2$/m);
  }
});

test('network safety: bridges and VM addresses only in lab-vagrant; no route to them in the root namespace', { skip, timeout: 60_000 }, () => {
  const root = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout;
  for (const net of ['10.16.8.', '172.16.8.', '192.168.121.']) assert.ok(!root.includes(net), `root namespace routes into ${net}0/24:\n${root}`);
  const inNs = spawnSync('ip', ['-n', VAGRANT_NETNS, '-4', 'route', 'show'], { encoding: 'utf8' }).stdout;
  assert.match(inNs, /192\.168\.121\.0\/24/, 'the management network lives in the namespace');
  assert.ok(!inNs.includes('default'), `no default route in ${VAGRANT_NETNS}:\n${inNs}`);
});

test('the mission converges on the VMs, verify passes, a second run and --check change nothing', { skip, timeout: 1_800_000 }, async () => {
  const first = await run([inventory]);
  log(`converge on VMs: ${first.seconds.toFixed(1)} s`);
  assert.equal(first.code, 0, first.out.slice(-3000));
  const again = await run([inventory]);
  log(`no-op on VMs: ${again.seconds.toFixed(1)} s`);
  assert.equal(again.code, 0, again.out.slice(-3000));
  assert.deepEqual(Object.keys(again.hosts).sort(), [...HOSTS].sort());
  for (const [h, r] of Object.entries(again.hosts)) assert.equal(r.changed, 0, `${h} changed on the second run`);
  const check = await run([inventory, '--check']);
  assert.equal(check.code, 0, check.out.slice(-3000));
  for (const [h, r] of Object.entries(check.hosts)) assert.equal(r.changed, 0, `${h} would change under --check`);
  const v = await provision(['verify', inventory]);
  assert.equal(v.code, 0, v.out.slice(-3000));
});

test('real kernels: track_process in keepalived.conf, firewalld on ka67, nftables on ka68', { skip, timeout: 120_000 }, async () => {
  for (const lb of ['ka67', 'ka68']) assert.match(await sudo(lb, 'cat /etc/keepalived/keepalived.conf'), /vrrp_track_process nginx_process \{[^}]*process nginx/s, lb);
  assert.equal((await sudo('ka67', 'systemctl is-active firewalld')).trim(), 'active');
  assert.match(await sudo('ka67', 'firewall-cmd --list-rich-rules'), /vrrp/);
  assert.match(await sudo('ka68', 'nft list tables'), /table inet provision/);
  assert.equal((await sudo('ka68', 'systemctl is-active nftables')).trim(), 'active');
});

test('nginx killed on each LB: its VIPs move to the peer and come back (gap per VIP)', { skip, timeout: 600_000 }, async () => {
  const r = await verifyFailover(model, (h) => connect(h), { mode: 'nginx', onProgress: log });
  for (const l of r.lbs) for (const x of l.results) log(`nginx killed on ${l.lb}: ${x.vip} gap ${x.failover?.gapMs} ms, dropped SYNs ${x.failover?.failureKinds.syn ?? 0}`);
  assert.ok(r.ok, JSON.stringify(r.lbs.map((l) => l.problems)));
});

test('a VM powered off: its VIPs move to the peer; powered on, it takes them back', { skip, timeout: 900_000 }, async () => {
  const power = {
    off: async (h: string) => void assert.equal(virsh('destroy', DOMAIN_PREFIX + h).status, 0),
    on: async (h: string) => {
      assert.equal(virsh('start', DOMAIN_PREFIX + h).status, 0);
      await waitFor(`${h} SSH after power on`, 600_000, async () => ((await sshBanner(VM_PORTS[h], 2000)) ? true : undefined));
    },
  };
  const r = await verifyFailover(model, (h) => connect(h), {
    mode: 'poweroff',
    lbs: ['ka67'],
    power,
    reconnect: (h) => connect(h, true),
    preemptTimeoutMs: 600_000,
    maxLoopSeconds: 600,
    onProgress: log,
  });
  for (const l of r.lbs) for (const x of l.results) log(`ka67 powered off: ${x.vip} gap ${x.failover?.gapMs} ms; boot ${l.bootMs} ms`);
  assert.ok(r.ok, JSON.stringify(r.lbs.map((l) => l.problems)));
});

test('a VM rebooted from inside comes back as provisioned and takes its VIPs back, no provision run between', { skip, timeout: 900_000 }, async () => {
  const t = await connect('ka68');
  await t.exec(sh`sh -c ${'sleep 1; systemctl reboot'}`, { sudo: true, timeoutMs: 30_000 }).catch(() => undefined);
  const others = new Set(['ka68']);
  await waitFor('ka67 holds ka68\'s VIPs while it reboots', 120_000, async () => {
    const h = await vipHolders(model, (x) => connect(x), others);
    return model.vips.filter((v) => v.master === 'ka68').every((v) => h[v.address]?.includes('ka67')) ? true : undefined;
  });
  await waitFor('ka68 SSH again', 600_000, async () => {
    await connect('ka68', true);
    return (await sudo('ka68', 'systemctl is-system-running --wait || true')).trim() ? true : undefined;
  });
  await waitFor('ka68 holds its VIPs again', 120_000, async () => {
    const h = await vipHolders(model, (x) => connect(x));
    return model.vips.filter((v) => v.master === 'ka68').every((v) => h[v.address]?.length === 1 && h[v.address][0] === 'ka68') ? true : undefined;
  });
  for (const u of ['keepalived', 'nginx', 'nftables']) assert.equal((await sudo('ka68', `systemctl is-active ${u}`)).trim(), 'active', u);
  assert.match(await sudo('ka68', 'nft list tables'), /table inet provision/);
  assert.equal((await sudo('ka68', 'sysctl -n net.ipv4.ip_nonlocal_bind')).trim(), '1');
  const again = await run([inventory, '--check', '--limit', 'ka68']);
  assert.equal(again.code, 0, again.out.slice(-2000));
  assert.equal(again.hosts.ka68?.changed, 0, 'nothing to change on ka68 after its reboot');
});
