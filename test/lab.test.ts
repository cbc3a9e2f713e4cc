// The local lab, for real: up from nothing (or reuse a lab already up), SSH with strict host
// keys and sudo, both networks on the LBs, multicast between them, isolation read from routing
// tables (never by sending traffic out), resume after a crash, a no-op second up, and a down
// that leaves nothing. Needs root on Linux; set PROVISION_KEEP_LAB=1 to leave the lab up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { HOSTS, labDown, labLeftovers, labPaths, labPids, labSshExec, labStatus, labUp } from '../src/lab/index.ts';
import { hostPaths, NETS } from '../src/lab/config.ts';
import { probe } from '../src/lab/sys.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'the lab needs root on Linux' : false;
const keep = process.env.PROVISION_KEEP_LAB === '1';
const lines: string[] = [];
const opts = { repoRoot, log: (l: string) => lines.push(l) };
/** Built by this run (not a lab someone left up and may have provisioned since). */
let fresh = false;

/** IPv4 CIDR containment, for routing-table checks. */
function ip4(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function within(cidr: string, subnet: string): boolean {
  const [a, al = '32'] = cidr.split('/');
  const [b, bl] = subnet.split('/');
  if (Number(al) < Number(bl)) return false;
  const mask = Number(bl) === 0 ? 0 : (0xffffffff << (32 - Number(bl))) >>> 0;
  return ((ip4(a) & mask) >>> 0) === ((ip4(b) & mask) >>> 0);
}
function overlaps(cidr: string, subnet: string): boolean {
  return within(cidr, subnet) || within(subnet, cidr);
}
const LAB_SUBNETS = Object.values(NETS).map((n) => n.subnet);

/**
 * Every lab host answers over real SSH through its forward, as ops, with the lab known_hosts
 * and StrictHostKeyChecking=yes, and `sudo -n` works.
 * (The OpenSSH-client baseline; `provision facts` must agree with it, tested below.)
 */
export async function reachableOverOpenSsh(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await Promise.all(
    HOSTS.map(async (h) => {
      const r = await labSshExec(h.name, 'hostname && sudo -n id -u', opts);
      assert.equal(r.code, 0, `${h.name}: ssh failed: ${r.stderr}`);
      out[h.name] = r.stdout.trim();
    }),
  );
  return out;
}

test('lab up from nothing (or reuse a lab that is already up)', { skip, timeout: 10 * 60_000 }, async () => {
  const before = await labStatus({ ...opts, log: () => {} });
  const t0 = Date.now();
  const r = await labUp(opts);
  const s = (Date.now() - t0) / 1000;
  process.stderr.write(`# lab up took ${s.toFixed(1)} s (${before.up ? 'reused a lab already up' : 'built'})\n`);
  fresh = !before.up;
  if (fresh) assert.equal(r.changed, true);
  assert.ok(existsSync(r.inventory));
  const inv = parse(readFileSync(r.inventory, 'utf8')) as { all: { children: Record<string, { hosts: Record<string, { ansible_port: number }> }> } };
  assert.deepEqual(Object.keys(inv.all.children.lb.hosts), ['ka67', 'ka68']);
  assert.equal(inv.all.children.lb.hosts.ka67.ansible_port, r.ports.ka67);
});

test('every host answers over SSH with strict host keys, and ops has passwordless sudo', { skip, timeout: 120_000 }, async () => {
  const got = await reachableOverOpenSsh();
  for (const h of HOSTS) assert.equal(got[h.name], `${h.name}\n0`);
  // known_hosts holds the hosts' real keys: a wrong key must be refused
  const p = labPaths(repoRoot);
  const kh = readFileSync(p.knownHosts, 'utf8');
  assert.equal(kh.trim().split('\n').length, HOSTS.length);
  assert.match(kh, /^\[127\.0\.0\.1\]:2201 ssh-ed25519 AAAA/m);
  // root cannot log in over SSH
  const root = await probe`ssh -i ${p.key} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${p.knownHosts} -o StrictHostKeyChecking=yes -p 2201 root@127.0.0.1 true`;
  assert.notEqual(root.code, 0);
  // a stock server: python3, apt with only the lab repository, nothing of the roles preinstalled
  // (a lab reused from before may have been provisioned since: then only the first two hold)
  const r = await labSshExec('ka67', 'python3 -c "print(1)" && apt-cache policy keepalived | sed -n 2,3p && (command -v keepalived nginx || true) && grep -rh "^deb" /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null', opts);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^1\n\s+Installed: .*\n\s+Candidate: \S+\n/);
  assert.match(r.stdout, /deb \[trusted=yes\] file:\/srv\/lab-apt \.\/\n$/);
  if (fresh) assert.match(r.stdout, /^1\n\s+Installed: \(none\)\n\s+Candidate: \S+\ndeb /);
});

test('provision facts inventory/lab.yaml: every host over ssh2 with strict keys and sudo; ka67 sees both networks', { skip, timeout: 120_000 }, async () => {
  const r = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
    const p = spawn(process.execPath, [resolve(repoRoot, 'bin/provision.js'), 'facts', resolve(repoRoot, 'inventory/lab.yaml'), '--json'], { cwd: repoRoot });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code) => res({ code, out, err }));
  });
  assert.equal(r.code, 0, r.err);
  const facts = JSON.parse(r.out) as Record<string, { unreachable?: boolean; os: { id: string; versionId: string }; virtualization: string; interfaces: Array<{ name: string; ipv4: string[] }> }>;
  assert.deepEqual(Object.keys(facts), HOSTS.map((h) => h.name));
  for (const [name, f] of Object.entries(facts)) {
    assert.ok(!f.unreachable, `${name}: ${JSON.stringify(f)}`);
    assert.deepEqual([name, f.os.id, f.os.versionId, f.virtualization], [name, 'debian', '12', 'systemd-nspawn']);
  }
  const v4 = (n: string) => facts.ka67.interfaces.find((i) => i.name === n)?.ipv4 ?? [];
  assert.ok(v4('eth0').includes('172.16.8.10/24'), JSON.stringify(facts.ka67.interfaces));
  assert.ok(v4('eth1').includes('10.16.8.10/24'), JSON.stringify(facts.ka67.interfaces));
});

test('ka67 has both networks: eth0 external, eth1 internal', { skip }, async () => {
  const r = await probe`ip -n lab-ka67 -j addr show`;
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
  const v4 = (n: string) => links.find((l) => l.ifname === n)?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  // (VIPs may sit there too when a provisioned lab is reused)
  assert.equal(v4('eth0')?.[0], '172.16.8.10/24');
  assert.equal(v4('eth1')?.[0], '10.16.8.10/24');
  if (fresh) assert.deepEqual([v4('eth0'), v4('eth1')], [['172.16.8.10/24'], ['10.16.8.10/24']]);
});

test('multicast to 224.0.0.111 from ka67 reaches ka68 on the internal network', { skip, timeout: 30_000 }, async () => {
  const cap = spawn('ip', ['netns', 'exec', 'lab-ka68', 'tcpdump', '-n', '-l', '-i', 'eth1', '-c', '1', 'dst host 224.0.0.111 and udp port 5405'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  let ready = false;
  cap.stdout.on('data', (d) => (seen += d.toString()));
  cap.stderr.on('data', (d) => (ready ||= d.toString().includes('listening on')));
  const exited = new Promise<void>((res) => cap.on('close', () => res()));
  try {
    for (let i = 0; i < 100 && !ready; i++) await sleep(50);
    assert.ok(ready, 'tcpdump did not start in lab-ka68');
    for (let i = 0; i < 10 && !seen; i++) {
      const s = await probe`echo probe | ip netns exec lab-ka67 socat -u STDIN UDP4-DATAGRAM:224.0.0.111:5405,ip-multicast-if=10.16.8.10,ip-multicast-ttl=1`;
      assert.equal(s.code, 0, s.stderr);
      await sleep(300);
    }
    assert.match(seen, /IP 10\.16\.8\.10\.\d+ > 224\.0\.0\.111\.5405: UDP/);
  } finally {
    cap.kill('SIGTERM');
    await exited;
  }
});

test('the root namespace has no route and no address in the lab subnets', { skip }, async () => {
  const routes = JSON.parse((await probe`ip -j -4 route show table all`).stdout) as Array<{ dst: string; dev?: string }>;
  for (const rt of routes) {
    if (rt.dst === 'default') continue;
    for (const sub of LAB_SUBNETS) assert.ok(!overlaps(rt.dst.includes('/') ? rt.dst : `${rt.dst}/32`, sub), `root namespace route ${rt.dst} dev ${rt.dev} touches ${sub}`);
  }
  const addrs = JSON.parse((await probe`ip -j -4 addr show`).stdout) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
  for (const l of addrs) for (const a of l.addr_info) for (const sub of LAB_SUBNETS) assert.ok(!within(a.local, sub), `root namespace ${l.ifname} has ${a.local}`);
  // No lab link exists here (the veth peers live in lab-sw-*), by name or by kind.
  const links = JSON.parse((await probe`ip -j link show`).stdout) as Array<{ ifname: string }>;
  for (const l of links) assert.ok(!HOSTS.some((h) => l.ifname.startsWith(`${h.name}-`)), `root namespace has lab link ${l.ifname}`);
  // What the kernel would do with a lab address from here (read, never sent): not on-link.
  for (const dst of ['10.16.8.10', '172.16.8.10']) {
    const r = await probe`ip -j route get ${dst}`;
    if (r.code !== 0) continue; // "Network is unreachable": no route at all, also fine
    const [g] = JSON.parse(r.stdout) as Array<{ dev: string; gateway?: string }>;
    assert.ok(g.gateway, `root namespace has an on-link route to ${dst} (dev ${g.dev})`);
  }
});

test('no lab namespace has a default route or any route beyond the lab subnets', { skip }, async () => {
  const all = JSON.parse((await probe`ip -j netns list`).stdout) as Array<{ name: string }>;
  const labNs = all.map((n) => n.name).filter((n) => n.startsWith('lab-'));
  assert.equal(labNs.length, HOSTS.length + 2);
  for (const ns of labNs) {
    const v4 = JSON.parse((await probe`ip -n ${ns} -j -4 route show table all`).stdout || '[]') as Array<{ dst: string; type?: string; table?: string }>;
    for (const rt of v4) {
      assert.notEqual(rt.dst, 'default', `${ns} has a default route`);
      const cidr = rt.dst.includes('/') ? rt.dst : `${rt.dst}/32`;
      const ok = within(cidr, '127.0.0.0/8') || LAB_SUBNETS.some((s) => within(cidr, s));
      assert.ok(ok, `${ns}: route ${rt.dst} (${rt.type ?? 'unicast'}, table ${rt.table ?? 'main'}) leaves the lab`);
    }
    const v6 = JSON.parse((await probe`ip -n ${ns} -j -6 route show table all`).stdout || '[]') as Array<{ dst: string }>;
    for (const rt of v6) {
      assert.notEqual(rt.dst, 'default', `${ns} has an IPv6 default route`);
      assert.ok(/^(fe80::|ff00::\/8|::1$|::1\/128)/.test(rt.dst), `${ns}: IPv6 route ${rt.dst} is not link-local`);
    }
  }
});

test('a crashed container and forwarder are brought back by the next up', { skip, timeout: 180_000 }, async () => {
  const p = labPaths(repoRoot);
  const hp = hostPaths(p, 'web2');
  const pids = labPids(opts).filter((x) => x.file === hp.nspawnPid || x.file === hp.fwdOutPid);
  assert.equal(pids.length, 2);
  for (const x of pids) process.kill(x.pid, 'SIGKILL');
  for (let i = 0; i < 100 && labPids(opts).some((x) => pids.some((y) => y.pid === x.pid) && x.alive); i++) await sleep(50);
  const st = await labStatus({ ...opts, log: () => {} });
  assert.equal(st.hosts.find((h) => h.name === 'web2')?.state, 'stopped');
  const r = await labUp(opts);
  assert.equal(r.changed, true);
  const back = await labSshExec('web2', 'sudo -n id -u', opts);
  assert.equal(back.stdout.trim(), '0', back.stderr);
});

test('a second lab up changes nothing, says so, and is fast', { skip, timeout: 60_000 }, async () => {
  const start = lines.length;
  const t0 = Date.now();
  const r = await labUp(opts);
  const ms = Date.now() - t0;
  assert.equal(r.changed, false);
  assert.match(lines.slice(start).join('\n'), /nothing changed/);
  assert.ok(ms < 10_000, `second up took ${ms} ms`);
});

test('lab status: every host running, with its addresses and forwarded port', { skip }, async () => {
  const out: string[] = [];
  const st = await labStatus({ ...opts, log: (l) => out.push(l) });
  assert.equal(st.up, true);
  for (const [i, h] of HOSTS.entries()) {
    const s = st.hosts.find((x) => x.name === h.name)!;
    assert.equal(s.state, 'running');
    assert.equal(s.port, 2201 + i);
    for (const n of h.nics) assert.ok(s.addresses.includes(`${n.ifname} ${n.address}/24`), `${h.name}: ${s.addresses.join(', ')}`);
    if (fresh) assert.deepEqual(s.addresses, h.nics.map((n) => `${n.ifname} ${n.address}/24`));
  }
  assert.match(out.join('\n'), /ka67\s+running\s+ssh 127\.0\.0\.1:2201\s+eth0 172\.16\.8\.10\/24, /);
});

test('lab down leaves nothing behind (skipped with PROVISION_KEEP_LAB=1)', { skip: skip || (keep ? 'PROVISION_KEEP_LAB=1' : false), timeout: 120_000 }, async () => {
  const recorded = labPids(opts);
  assert.equal(recorded.length, HOSTS.length * 3);
  const p = labPaths(repoRoot);
  await labDown(opts);
  assert.deepEqual(await labLeftovers(opts), []);
  assert.deepEqual(labPids(opts), [], 'pid files left');
  for (const x of recorded) {
    // alive = same pid with the same start time, and not a zombie
    const st = await probe`cat /proc/${x.pid}/stat`;
    const alive = st.code === 0 && !/\) [ZX] /.test(st.stdout) && st.stdout.slice(st.stdout.lastIndexOf(')') + 2).split(' ')[19] === x.start;
    assert.ok(!alive, `${x.file}: pid ${x.pid} still running`);
  }
  assert.ok(!existsSync(p.inventory));
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes('provision-lab'), 'an overlay of the lab is still mounted');
  const again = await labDown(opts);
  assert.equal(again.changed, false);
});
