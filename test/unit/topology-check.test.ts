// The rules of `provision check`, one test per rule, plus the how-to's own configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixture, loadInventoryText, type Loaded } from './topology-helpers.js';
import { checkTopology, hasErrors } from '../../src/topology/check.js';
import type { Finding } from '../../src/topology/types.js';

const ENV = { PROVISION_VRRP_PASS: 'k33pal1v' };
type Raw = Record<string, any>;

function ref(): Loaded & { ha: Raw; host: (n: string) => Raw } {
  const f = loadFixture('reference.yaml');
  return { ...f, ha: f.hosts[0].vars.ha as Raw, host: (n) => f.hosts.find((h) => h.name === n)!.vars };
}
function howto(): Loaded & { inst: (host: string, name: string) => Raw; ha: Raw } {
  const f = loadFixture('howto-explicit.yaml');
  return {
    ...f,
    ha: f.hosts[0].vars.ha as Raw,
    inst: (host, name) => (f.hosts.find((h) => h.name === host)!.vars.vrrp_instances as Raw[]).find((i) => i.name === name)!,
  };
}
function check(f: Loaded, env: Record<string, string> = ENV): Finding[] {
  return checkTopology(f.hosts, { baseDir: f.dir, env, resolvePos: f.resolvePos });
}
function only(fs: Finding[], code: string): Finding[] {
  return fs.filter((f) => f.code === code);
}
function one(fs: Finding[], code: string, severity: Finding['severity'] = 'error'): Finding {
  const got = only(fs, code);
  assert.equal(got.length, 1, `expected one ${code}, got: ${JSON.stringify(fs.map((f) => `${f.code}: ${f.message}`), null, 1)}`);
  assert.equal(got[0].severity, severity);
  assert.ok(got[0].fix.length > 0);
  return got[0];
}

test("the how-to's own instance lists: the priority tie is an error naming who would win", () => {
  const f = howto();
  const fs = check(f);
  const tie = one(fs, 'priority-tie');
  assert.equal(tie.instance, 'External_1');
  assert.equal(tie.host, 'ka68');
  assert.match(tie.message, /VRID 171/);
  assert.match(tie.message, /ka67 \(MASTER\) and ka68 \(BACKUP\) have the same priority 100/);
  assert.match(tie.message, /higher primary IP, so ka68 \(10\.16\.8\.11\) would win over ka67 \(10\.16\.8\.10\), taking the VIP meant for ka67/);
  assert.match(tie.fix, /lower ka68's External_1 priority below 100/);
  // Positioned at ka68's External_1 priority in the fixture.
  assert.equal(tie.pos?.file, f.file);
  assert.equal(tie.pos?.line, 26);
  // The only error; the swapped names are warnings (one per instance name).
  assert.deepEqual(fs.filter((x) => x.severity === 'error').map((x) => x.code), ['priority-tie']);
  assert.deepEqual(only(fs, 'instance-name-swapped').map((x) => x.instance), ['External_1', 'External_2', 'Internal_1', 'Internal_2']);
});

test('the derived reference topology gives zero findings', () => {
  const fs = check(ref());
  assert.deepEqual(fs, []);
  assert.equal(hasErrors(fs), false);
});

test('instance-name-swapped: External_* on the internal network is a warning', () => {
  const w = only(check(howto()), 'instance-name-swapped')[0];
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /External_1 is named after network external but sits on internal \(eth1, 10\.16\.8\.0\/24\)/);
  assert.match(w.fix, /INTERNAL_/);
});

test('vrid-range: a VRID outside 1..255', () => {
  for (const vrid of [0, 256, 1000]) {
    const f = ref();
    f.ha.networks[0].vips[0].vrid = vrid;
    const e = one(check(f), 'vrid-range');
    assert.match(e.message, new RegExp(`VRID ${vrid} is outside 1\\.\\.255`));
    assert.deepEqual(e.path, ['ka67', 'ha', 'networks', 0, 'vips', 0, 'vrid']);
    assert.equal(e.pos?.line, 18);
  }
});

test('vrid-duplicate: the same VRID twice on one network', () => {
  const f = ref();
  f.ha.networks[1].vips[1].vrid = 171;
  const e = one(check(f), 'vrid-duplicate');
  assert.match(e.message, /VRID 171 is used twice on network internal \(same interface network and multicast group 224\.0\.0\.111\)/);
  // Explicit form: one node with two instances on one VRID.
  const h = howto();
  h.inst('ka67', 'External_2').vrid = 171;
  h.inst('ka68', 'External_2').vrid = 171;
  assert.ok(only(check(h), 'vrid-duplicate').length >= 1);
});

test('vrid-reused: the same VRID on two networks is a warning', () => {
  const f = ref();
  f.ha.networks[1].vips[0].vrid = 191;
  const w = one(check(f), 'vrid-reused', 'warning');
  assert.match(w.message, /VRID 191 is used on several networks \(external, internal\)/);
});

test('vip-no-master and vip-multiple-masters', () => {
  const a = howto();
  a.inst('ka67', 'Internal_1').state = 'BACKUP';
  const e = one(check(a), 'vip-no-master');
  assert.match(e.message, /VIP 172\.16\.8\.100 \(external\) has no node in state MASTER/);
  const b = howto();
  b.inst('ka68', 'Internal_1').state = 'MASTER';
  const m = one(check(b), 'vip-multiple-masters');
  assert.match(m.message, /VIP 172\.16\.8\.100 \(external, VRID 191\) has 2 masters: ka67, ka68/);
  // A VIP listed in ha.networks that no instance carries has no master either.
  const c = howto();
  c.ha.networks[0].vips = ['172.16.8.120'];
  assert.match(one(check(c), 'vip-no-master').message, /172\.16\.8\.120.*no instance carries it/);
});

test('state-priority-mismatch: the BACKUP has the higher priority', () => {
  const f = howto();
  f.inst('ka68', 'Internal_1').priority = 110;
  const w = one(check(f), 'state-priority-mismatch', 'warning');
  assert.match(w.message, /ka67 is MASTER by state but ka68 has the higher priority \(110 > 100\)/);
});

test('priority-tie among backups only is a warning', () => {
  const text = loadFixture('reference.yaml');
  void text;
  const f = loadInventoryText(`all:
  vars:
    ha:
      networks: [{ name: n, interface: eth0, subnet: 10.0.0.0/24 }]
  children:
    lb:
      hosts:
        a: { addresses: { n: 10.0.0.1 }, vrrp_instances: [{ name: N_1, interface: eth0, vrid: 1, state: MASTER, priority: 100, vips: [10.0.0.100] }] }
        b: { addresses: { n: 10.0.0.2 }, vrrp_instances: [{ name: N_1, interface: eth0, vrid: 1, state: BACKUP, priority: 90, vips: [10.0.0.100] }] }
        c: { addresses: { n: 10.0.0.3 }, vrrp_instances: [{ name: N_1, interface: eth0, vrid: 1, state: BACKUP, priority: 90, vips: [10.0.0.100] }] }
    web: { hosts: { w: { addresses: { n: 10.0.0.8 } } } }
`);
  const w = one(check(f), 'priority-tie', 'warning');
  assert.match(w.message, /c \(10\.0\.0\.3\) would win over b \(10\.0\.0\.2\)/);
});

test('priority-range: priorities outside 1..254', () => {
  const f = howto();
  f.inst('ka67', 'Internal_1').priority = 255;
  assert.match(one(check(f), 'priority-range').message, /priority 255 is outside 1\.\.254/);
});

test('weight-ineffective: weight -10 cannot bring the master below the best backup', () => {
  const f = howto();
  f.inst('ka68', 'Internal_1').priority = 85;
  const e = one(check(f), 'weight-ineffective');
  assert.match(e.message, /with tracking weight -10, ka67 drops from 100 only to 90, not below ka68's 85/);
  // The how-to's 100/95 is fine with -10, and weight 0 (profile default) never triggers.
  const g = ref();
  g.ha.profile = 'howto';
  assert.deepEqual(only(check(g), 'weight-ineffective'), []);
  // Equal after the drop: the master keeps the VIP if its IP is higher.
  const h = howto();
  h.inst('ka67', 'Internal_2').priority = 90; // ka68 MASTER 100 -> 90 ties ka67's 90; ka68 .11 > ka67 .10 keeps it
  assert.match(one(check(h), 'weight-ineffective').message, /a tie it wins by its higher IP/);
});

test('weight-ineffective with priorities near 255: the arithmetic and the suggested fix follow the numbers', () => {
  // 250/249 (the default profile's numbers) with the how-to's -10: 250 -> 240 < 249, failover works.
  const f = howto();
  for (const [host, name, prio] of [['ka67', 'Internal_1', 250], ['ka68', 'Internal_1', 249]] as const) f.inst(host, name).priority = prio;
  assert.deepEqual(only(check(f), 'weight-ineffective'), []);
  // 250/230: 240 is not below 230; the fix keeps the gap under 10 from the master's own number.
  f.inst('ka68', 'Internal_1').priority = 230;
  const e = one(check(f), 'weight-ineffective');
  assert.match(e.message, /ka67 drops from 250 only to 240, not below ka68's 230/);
  assert.match(e.fix!, /smaller than 10 \(e\.g\. 250 and 245\)/);
});

test('password-too-long: more than 8 characters', () => {
  const f = ref();
  const e = one(check(f, { PROVISION_VRRP_PASS: 'renwole0123' }), 'password-too-long');
  assert.match(e.message, /\(env PROVISION_VRRP_PASS\) has 11 characters; keepalived silently uses only the first 8/);
  assert.ok(!e.message.includes('renwole0123'));
  const g = howto();
  g.inst('ka67', 'External_2').password = 'renwole1xx';
  g.inst('ka68', 'External_2').password = 'renwole1xx';
  assert.equal(one(check(g), 'password-too-long').instance, 'External_2');
});

test('password-invalid and password-mismatch', () => {
  const f = ref();
  assert.ok(one(check(f, { PROVISION_VRRP_PASS: 'ab#cd' }), 'password-invalid'));
  const g = howto();
  g.inst('ka68', 'Internal_2').password = 'other';
  const e = one(check(g), 'password-mismatch');
  assert.match(e.message, /VRID 192.*different PASS passwords/);
});

test('password-v3: profile fast has no authentication', () => {
  const f = ref();
  f.ha.profile = 'fast';
  assert.match(one(check(f), 'password-v3', 'warning').message, /VRRPv3, which has no authentication/);
});

test('advert-int-v2: VRRPv2 with a fractional advert_int', () => {
  const f = ref();
  f.ha.advert_int = 0.5;
  assert.ok(only(check(f), 'advert-int-v2').length >= 1);
  f.ha.profile = 'fast';
  assert.deepEqual(only(check(f), 'advert-int-v2'), []);
});

test('vrrp-params-mismatch: nodes of one VRID on different versions', () => {
  const f = howto();
  f.inst('ka68', 'Internal_2').version = 3;
  assert.match(one(check(f), 'vrrp-params-mismatch').message, /VRRP version/);
});

test('vip-outside-subnet: a VIP outside its interface subnet, or its network/broadcast address', () => {
  const f = ref();
  f.ha.networks[1].vips[0].address = '10.16.9.100';
  const e = one(check(f), 'vip-outside-subnet');
  assert.match(e.message, /VIP 10\.16\.9\.100 is outside 10\.16\.8\.0\/24, the subnet of its interface eth1/);
  const g = ref();
  g.ha.networks[1].vips[0].address = '10.16.8.255';
  assert.match(one(check(g), 'vip-outside-subnet').message, /broadcast/);
});

test('vip-is-host-address: a VIP equal to a host address', () => {
  const f = ref();
  f.ha.networks[1].vips[0].address = '10.16.8.8';
  const e = one(check(f), 'vip-is-host-address');
  assert.match(e.message, /VIP 10\.16\.8\.8 is also the address of web1/);
  const g = ref();
  g.ha.networks[0].vips[1].address = '172.16.8.11';
  assert.match(one(check(g), 'vip-is-host-address').message, /of ka68/);
});

test('vip-duplicate: one VIP in two virtual routers', () => {
  const f = ref();
  f.ha.networks[1].vips[1].address = '10.16.8.100';
  assert.ok(one(check(f), 'vip-duplicate'));
});

test('mcast-range: the multicast group must be in 224.0.0.0/4', () => {
  const f = ref();
  f.ha.mcast_group = '192.168.1.1';
  assert.match(one(check(f), 'mcast-range').message, /192\.168\.1\.1 is not a multicast address/);
  const g = ref();
  g.ha.mcast_group = '239.255.0.1';
  assert.deepEqual(only(check(g), 'mcast-range'), []);
});

test('lb-missing-address: an LB without an address on a network that carries VIPs', () => {
  const f = ref();
  delete f.host('ka68').addresses.internal;
  const e = one(check(f), 'lb-missing-address');
  assert.equal(e.host, 'ka68');
  assert.match(e.message, /ka68 has no address on network internal \(10\.16\.8\.0\/24, interface eth1\)/);
  assert.equal(e.pos?.line, 30);
});

test('address-outside-subnet: an LB address outside its network', () => {
  const f = ref();
  f.host('ka68').addresses.external = '103.28.204.11';
  assert.match(one(check(f), 'address-outside-subnet').message, /ka68's address 103\.28\.204\.11 on external is outside 172\.16\.8\.0\/24/);
});

test('vrrp-strict: makes the VIPs unusable for nginx', () => {
  const f = ref();
  f.ha.vrrp_strict = true;
  assert.match(one(check(f), 'vrrp-strict').message, /nginx cannot serve on the VIPs/);
});

test('backends-missing: no web hosts', () => {
  const f = ref();
  f.hosts.splice(f.hosts.findIndex((h) => h.name === 'web1'), 2);
  assert.match(one(check(f), 'backends-missing').message, /group web \(ha.backend_group\) has no host/);
  const g = ref();
  delete g.host('web2').addresses;
  assert.match(one(check(g), 'backend-no-address').message, /backend web2 has no address/);
});

test('upstream-port: invalid backend or listen ports', () => {
  const f = ref();
  f.ha.backend_port = 70000;
  assert.equal(only(check(f), 'upstream-port').length, 2);
  const g = ref();
  g.host('web1').backend_port = 0;
  assert.equal(one(check(g), 'upstream-port').host, 'web1');
  const h = ref();
  h.ha.listen_port = 0;
  assert.match(one(check(h), 'upstream-port').message, /listen_port/);
});

test('vip-no-backup and lb-single: one load balancer only', () => {
  const f = ref();
  f.hosts.splice(1, 1); // drop ka68
  const fs = check(f);
  assert.equal(one(fs, 'lb-single', 'warning').path?.[0], 'ka67');
  assert.equal(only(fs, 'vip-no-backup').length, 4);
  assert.equal(hasErrors(fs), false);
});

test('lb-group-empty and ha-missing', () => {
  const f = ref();
  f.ha.lb_group = 'balancers';
  assert.match(one(check(f), 'lb-group-empty').message, /no host is in group "balancers"/);
  const g = loadInventoryText('all:\n  children:\n    lb:\n      hosts:\n        a: {}\n');
  assert.match(one(check(g), 'ha-missing').message, /no "ha" variable/);
});

test('no-vips: a topology without any VIP', () => {
  const f = ref();
  for (const n of f.ha.networks) delete n.vips;
  assert.match(one(check(f), 'no-vips').message, /no VIPs/);
});

test('ha-differs: an LB whose ha was overridden', () => {
  const f = ref();
  f.host('ka68').ha = { ...f.ha, mcast_group: '224.0.0.18' };
  assert.equal(one(check(f), 'ha-differs', 'warning').host, 'ka68');
});

test('lb-no-instances and instance-unknown-network in the explicit form', () => {
  const f = howto();
  delete f.hosts.find((h) => h.name === 'ka68')!.vars.vrrp_instances;
  assert.equal(one(check(f), 'lb-no-instances', 'warning').host, 'ka68');
  const g = howto();
  g.inst('ka67', 'External_1').interface = 'eth7';
  assert.match(one(check(g), 'instance-unknown-network').message, /interface eth7 is not the interface of any network/);
});

test('secret-unresolved: the variable or file is named, with the position of the password', () => {
  const f = ref();
  const e = one(check(f, {}), 'secret-unresolved');
  assert.match(e.message, /ha\.password: environment variable PROVISION_VRRP_PASS is not set/);
  assert.match(e.fix, /export PROVISION_VRRP_PASS=/);
  assert.equal(e.pos?.line, 11);
  const g = ref();
  g.ha.password = { file: 'secrets/vrrp.pass' };
  assert.match(one(check(g, {}), 'secret-unresolved').message, /secret file .*test\/fixtures\/topology\/secrets\/vrrp\.pass does not exist/);
});

test('schema: unknown keys with did-you-mean, at their position', () => {
  const f = loadInventoryText(
    `all:
  vars:
    ha:
      mcast_grup: 224.0.0.111
      networks:
        - name: internal
          interface: eth1
          subnet: 10.16.8.0/24
          vips:
            - { adress: 10.16.8.100 }
  children:
    lb: { hosts: { ka67: { adresses: { internal: 10.16.8.10 } } } }
`,
    '/inv/prod.yaml',
  );
  const fs = check(f);
  const [a, b] = only(fs, 'schema-unknown-key').filter((x) => x.severity === 'error');
  assert.match(a.message, /ha\.mcast_grup: unknown key "mcast_grup" in ha \(did you mean "mcast_group"\?\)/);
  assert.equal(a.pos?.file, '/inv/prod.yaml');
  assert.equal(a.pos?.line, 4);
  assert.match(b.message, /unknown key "adress" in a VIP \(did you mean "address"\?\)/);
  assert.equal(b.pos?.line, 10);
  // A misspelt host-level key is a warning (host vars are open to other roles).
  const w = only(fs, 'schema-unknown-key').find((x) => x.severity === 'warning')!;
  assert.match(w.message, /"adresses" looks like a misspelt "addresses"/);
  assert.equal(w.pos?.line, 12);
});

test('schema: wrong types and missing required values, at their position', () => {
  const f = loadInventoryText(`all:
  vars:
    ha:
      profile: defualt
      sync: "yes"
      networks:
        - name: internal
          interface: eth1
          vips:
            - { address: 10.16.8.100, vrid: "171" }
            - 10.16.8.101/24
  children:
    lb: { hosts: { ka67: { addresses: { internal: 10.16.8.10 } } } }
`);
  const fs = check(f);
  const by = (code: string, re: RegExp) => {
    const x = fs.find((y) => y.code === code && re.test(y.message));
    assert.ok(x, `${code} ${re}: ${fs.map((y) => y.message).join('\n')}`);
    return x!;
  };
  assert.equal(by('schema-value', /profile must be one of default, howto, fast.*did you mean "default"/).pos?.line, 4);
  assert.equal(by('schema-type', /"sync" must be true or false/).pos?.line, 5);
  assert.equal(by('schema-required', /"subnet" is required/).pos?.line, 7);
  const vrid = by('schema-type', /"vrid" must be an integer, not the string "171"/);
  assert.equal(vrid.pos?.line, 10);
  assert.match(vrid.fix, /remove the quotes/);
  assert.match(by('schema-value', /VIP "10\.16\.8\.101\/24" is not an IPv4 address/).fix, /without a prefix/);
  assert.ok(fs.every((x) => x.severity === 'error'));
});

test('check without a resolver still gives var paths', () => {
  const f = ref();
  f.ha.networks[0].vips[0].vrid = 300;
  const e = one(checkTopology(f.hosts, { env: ENV }), 'vrid-range');
  assert.equal(e.pos, undefined);
  assert.deepEqual(e.path, ['ka67', 'ha', 'networks', 0, 'vips', 0, 'vrid']);
});

test('with the real inventory loader: the reference is clean and the how-to tie is found', async () => {
  const { loadInventory } = await import('../../src/inventory/index.js');
  const { FIXTURES } = await import('./topology-helpers.js');
  const ref = await loadInventory(`${FIXTURES}/reference.yaml`);
  assert.deepEqual(checkTopology([...ref.hosts.values()], { env: ENV }), []);
  const how = await loadInventory(`${FIXTURES}/howto-explicit.yaml`);
  const fs = checkTopology([...how.hosts.values()], {});
  assert.deepEqual(fs.filter((x) => x.severity === 'error').map((x) => `${x.code} ${x.host} ${x.instance}`), ['priority-tie ka68 External_1']);
});
