// The fact parsers on captured output (test/fixtures/facts/README.md says where each file came
// from) and on odd input: they never throw, they answer "unknown"/empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  familyOf,
  parseCapSysTime,
  parseFirewall,
  parseFirewallTools,
  parseGatherOutput,
  parseGatherPartial,
  parseInterfacesJson,
  parseInterfacesText,
  parseKeepalivedVersion,
  parseOsRelease,
  parsePackageManager,
  parsePackagesDpkg,
  parsePackagesRpm,
  parseSelinux,
  parseServices,
  parseUid,
  parseVirt,
  serviceFrom,
  splitSections,
} from '../../src/facts/parsers.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'facts');
const fx = (name: string): string => readFileSync(path.join(FIX, name), 'utf8');
const section = (file: string, name: string): string => splitSections(fx(file)).get(name) ?? '';

// ---------------------------------------------------------------- os-release

test('os-release: Debian 12 captured here', () => {
  assert.deepEqual(parseOsRelease(section('debian12-controller.txt', 'os')), {
    id: 'debian',
    versionId: '12',
    family: 'debian',
    prettyName: 'Debian GNU/Linux 12 (bookworm)',
  });
});

test('os-release: Rocky 9 (documented) is redhat by ID_LIKE, quoted values unquoted', () => {
  assert.deepEqual(parseOsRelease(section('rocky9-documented.txt', 'os')), {
    id: 'rocky',
    versionId: '9.5',
    family: 'redhat',
    prettyName: 'Rocky Linux 9.5 (Blue Onyx)',
  });
});

test('os-release: RHEL 9, AlmaLinux, Ubuntu, Fedora, an unknown distro', () => {
  const rhel = parseOsRelease('NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\n');
  assert.equal(rhel.family, 'redhat');
  assert.equal(rhel.versionId, '9.4');
  assert.equal(parseOsRelease('ID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.10"').family, 'redhat');
  assert.equal(parseOsRelease('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"').family, 'debian');
  assert.equal(parseOsRelease('ID=fedora\nVERSION_ID=38').family, 'redhat');
  assert.equal(parseOsRelease('ID=linuxmint\nID_LIKE="ubuntu debian"').family, 'debian');
  assert.deepEqual(parseOsRelease('ID=alpine\nVERSION_ID=3.20.0\nNAME="Alpine Linux"'), {
    id: 'alpine',
    versionId: '3.20.0',
    family: 'unknown',
    prettyName: 'Alpine Linux',
  });
  assert.equal(familyOf('opensuse-leap', 'suse opensuse'), 'unknown');
});

test('os-release: escapes, single quotes, comments, CRLF', () => {
  const os = parseOsRelease('# comment\r\nID=\'rocky\'\r\nPRETTY_NAME="Rocky \\"Blue\\" Onyx"\r\nVERSION_ID=9\r\n');
  assert.equal(os.id, 'rocky');
  assert.equal(os.prettyName, 'Rocky "Blue" Onyx');
  assert.equal(os.versionId, '9');
});

test('os-release: empty and garbage give unknown', () => {
  for (const input of ['', 'garbage\n\x00\x01', '=\n==\nID=', undefined as unknown as string]) {
    const os = parseOsRelease(input);
    assert.deepEqual(os, { id: 'unknown', versionId: 'unknown', family: 'unknown', prettyName: 'unknown' });
  }
});

// ---------------------------------------------------------------- package manager and packages

test('package manager: family decides, dnf before yum', () => {
  assert.equal(parsePackageManager(section('debian12-controller.txt', 'pm'), 'debian'), 'apt');
  assert.equal(parsePackageManager(section('rocky9-documented.txt', 'pm'), 'redhat'), 'dnf');
  assert.equal(parsePackageManager(section('centos7-documented.txt', 'pm'), 'redhat'), 'yum');
  assert.equal(parsePackageManager('apt-get\nrpm\n', 'debian'), 'apt'); // rpm on Debian
  assert.equal(parsePackageManager('apt-get\n', 'redhat'), 'unknown');
  assert.equal(parsePackageManager('yum\n', 'unknown'), 'yum');
  assert.equal(parsePackageManager('', 'debian'), 'unknown');
});

test('dpkg: the captured list (783 installed packages, bash and keepalived among them)', () => {
  const pk = parsePackagesDpkg(section('debian12-controller.txt', 'packages-dpkg'));
  assert.equal(Object.keys(pk).length, 783);
  assert.match(pk.bash, /^5\.2/);
  assert.equal(pk.keepalived?.startsWith('1:2.2.7'), true, `keepalived ${pk.keepalived}`);
  assert.ok(pk.iproute2);
});

test('dpkg: only installed states (ii, held hi), not rc/un/half-installed', () => {
  const text = [
    'bash\t5.2.15-2+b2\tii ',
    'held\t1.0\thi ',
    'removed\t2.0\trc ',
    'unknown\t\tun ',
    'half\t3.0\tiU ',
    'failedcfg\t3.0\tiF ',
    'reinstreq\t3.0\tiHR',
    'noversion\t\tii ',
    'no status line',
    '',
  ].join('\n');
  assert.deepEqual(parsePackagesDpkg(text), { bash: '5.2.15-2+b2', held: '1.0' });
  assert.deepEqual(parsePackagesDpkg('plain\t1.2\n'), { plain: '1.2' }, 'no status column: installed');
  assert.deepEqual(parsePackagesDpkg(''), {});
});

test('rpm: name\\tversion-release; repeated names (kernel) keep the last; garbage skipped', () => {
  const pk = parsePackagesRpm(section('rocky9-documented.txt', 'packages-rpm'));
  assert.equal(pk.keepalived, '2.2.8-3.el9');
  assert.equal(pk['kernel-core'], '5.14.0-503.14.1.el9_5');
  assert.equal(pk.bash, '5.1.8-9.el9');
  assert.deepEqual(parsePackagesRpm('a\tb\tc\nbad line\n\tx\nok\t1-1\n'), { ok: '1-1' });
});

// ---------------------------------------------------------------- services

test('services: systemctl failing without systemd as PID 1 -> active unknown, enabled from is-enabled', () => {
  const sv = parseServices(section('debian12-controller.txt', 'services'));
  assert.deepEqual(sv.nginx, { active: 'unknown', enabled: 'enabled', load: 'unknown' });
  assert.deepEqual(sv.keepalived, { active: 'unknown', enabled: 'enabled', load: 'unknown' });
  assert.deepEqual(sv['provision-no-such-unit'], { active: 'unknown', enabled: 'unknown', load: 'not-found' });
  // chrony is not installed on the controller: is-enabled says so.
  assert.equal(sv.chrony.load, 'not-found');
});

test('services: the raw captured systemctl error alone is unknown, not a crash', () => {
  const raw = fx('systemctl-show-no-systemd.txt');
  assert.match(raw, /System has not been booted with systemd/);
  assert.deepEqual(parseServices(raw), {});
  assert.deepEqual(parseServices(`unit=nginx\n${raw.split('\n').map((l) => `error=${l}`).join('\n')}`), {
    nginx: { active: 'unknown', enabled: 'unknown', load: 'unknown' },
  });
});

test('services: systemctl show on a systemd host (documented Rocky 9)', () => {
  const sv = parseServices(section('rocky9-documented.txt', 'services'));
  assert.deepEqual(sv.nginx, { active: 'active', enabled: 'enabled', load: 'loaded' });
  assert.deepEqual(sv.keepalived, { active: 'inactive', enabled: 'disabled', load: 'loaded' });
  assert.deepEqual(sv['provision-no-such-unit'], { active: 'unknown', enabled: 'unknown', load: 'not-found' });
});

test('services: plain multi-unit systemctl show output keyed by Id', () => {
  const text = 'Id=nginx.service\nLoadState=loaded\nActiveState=failed\nUnitFileState=enabled\n\nId=foo.service\nLoadState=masked\nActiveState=inactive\nUnitFileState=masked\n';
  assert.deepEqual(parseServices(text), {
    nginx: { active: 'failed', enabled: 'enabled', load: 'loaded' },
    foo: { active: 'inactive', enabled: 'masked', load: 'masked' },
  });
});

test('services: garbage and empty give {} or unknown', () => {
  assert.deepEqual(parseServices(''), {});
  assert.deepEqual(parseServices('\x00garbage\n==\n'), {});
  assert.deepEqual(parseServices('unit=x\nActiveState=weird state!\nUnitFileState=\n'), {
    x: { active: 'unknown', enabled: 'unknown', load: 'unknown' },
  });
});

// ---------------------------------------------------------------- SELinux

test('selinux: absent on Debian (neither getenforce nor selinuxfs)', () => {
  assert.equal(parseSelinux(section('debian12-controller.txt', 'selinux')), 'absent');
  assert.equal(parseSelinux(''), 'absent');
});

test('selinux: getenforce wins, the enforce file is the fallback, bare answers accepted', () => {
  assert.equal(parseSelinux(section('rocky9-documented.txt', 'selinux')), 'enforcing');
  assert.equal(parseSelinux(section('centos7-documented.txt', 'selinux')), 'permissive');
  assert.equal(parseSelinux('getenforce=Disabled\n'), 'disabled');
  assert.equal(parseSelinux('enforce=1\n'), 'enforcing');
  assert.equal(parseSelinux('enforce=0\n'), 'permissive');
  assert.equal(parseSelinux('Enforcing\n'), 'enforcing');
  assert.equal(parseSelinux('0\n'), 'permissive');
  assert.equal(parseSelinux('config-SELINUX=enforcing\n'), 'absent', 'a config file alone (container) is not a running SELinux');
  assert.equal(parseSelinux('getenforce=sh: getenforce: not found\n'), 'absent');
});

// ---------------------------------------------------------------- firewall

test('firewall: controller has nft with an empty rule set and no service -> none', () => {
  const fw = section('debian12-controller.txt', 'firewall');
  assert.equal(parseFirewall(fw), 'none');
  assert.deepEqual(parseFirewallTools(fw), { firewallCmd: false, nft: true, iptables: false });
  // As a plain user the rule set is unreadable: still none (no service active).
  assert.match(section('debian12-controller-nobody.txt', 'firewall'), /nft-error=Operation not permitted/);
  assert.equal(parseFirewall(section('debian12-controller-nobody.txt', 'firewall')), 'none');
});

test('firewall: firewalld running (documented), not running, nftables/iptables services, rules', () => {
  assert.equal(parseFirewall(section('rocky9-documented.txt', 'firewall')), 'firewalld');
  assert.equal(parseFirewall(section('centos7-documented.txt', 'firewall')), 'none');
  assert.equal(parseFirewall('running\n'), 'firewalld');
  assert.equal(parseFirewall('not running\n'), 'none');
  assert.equal(parseFirewall('bin=nft\nunit-nftables=active\n'), 'nftables');
  assert.equal(parseFirewall('bin=iptables\nunit-iptables=active\n'), 'iptables');
  assert.equal(parseFirewall('bin=nft\nnft-tables=2\n'), 'nftables');
  assert.equal(parseFirewall('bin=nft\nbin=iptables\nnft-tables=1\niptables-rules=12\n'), 'iptables');
  assert.equal(parseFirewall('nft-tables=lots\n'), 'none');
  assert.equal(parseFirewall(''), 'none');
});

// ---------------------------------------------------------------- interfaces

test('interfaces: ip -j addr captured here (lo, ifb down, eth0 multicast)', () => {
  const ifs = parseInterfacesJson(section('debian12-controller.txt', 'ip-json'));
  const lo = ifs.find((i) => i.name === 'lo');
  assert.ok(lo);
  assert.deepEqual(lo.ipv4, ['127.0.0.1/8']);
  assert.deepEqual(lo.ipv6, ['::1/128']);
  assert.equal(lo.up, true);
  assert.equal(lo.multicast, false);
  const eth0 = ifs.find((i) => i.name === 'eth0');
  assert.ok(eth0);
  assert.equal(eth0.up, true);
  assert.equal(eth0.multicast, true);
  assert.equal(eth0.mtu, 1400);
  assert.match(eth0.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.equal(ifs.find((i) => i.name === 'ifb0')?.up, false);
});

test('interfaces: veth in a netns: JSON and all three text forms agree', () => {
  const json = parseInterfacesJson(fx('netns-veth.ip-j-addr.json'));
  const full = parseInterfacesText(fx('netns-veth.ip-addr.txt'));
  const oneLine = parseInterfacesText(fx('netns-veth.ip-o-link.txt') + fx('netns-veth.ip-o-addr.txt'));
  for (const ifs of [json, full, oneLine]) {
    const eth0 = ifs.find((i) => i.name === 'eth0');
    assert.ok(eth0, 'eth0@if7 is named eth0');
    assert.deepEqual(eth0.ipv4, ['198.51.100.10/24', '198.51.100.100/32']);
    assert.equal(eth0.up, true);
    assert.equal(eth0.multicast, true);
    assert.equal(eth0.mtu, 1500);
    assert.equal(eth0.mac, '2a:60:01:fe:9a:03');
    const eth1 = ifs.find((i) => i.name === 'eth1');
    assert.ok(eth1);
    assert.equal(eth1.up, false, 'eth1 is down');
    assert.deepEqual(eth1.ipv4, ['203.0.113.5/24']);
  }
  assert.deepEqual(
    json.map((i) => i.name),
    full.map((i) => i.name),
  );
});

test('interfaces: ip -o addr alone has no flags: addresses kept, up/multicast false', () => {
  const ifs = parseInterfacesText(fx('controller.ip-o-addr.txt'));
  assert.deepEqual(ifs.find((i) => i.name === 'lo')?.ipv4, ['127.0.0.1/8']);
  assert.equal(ifs.find((i) => i.name === 'eth0')?.up, false);
  const full = parseInterfacesText(fx('controller.ip-addr.txt'));
  assert.equal(full.find((i) => i.name === 'eth0')?.up, true);
  assert.deepEqual(full.find((i) => i.name === 'lo')?.ipv4, ['127.0.0.1/8']);
});

test('interfaces: documented shapes (altnames, noprefixroute, CentOS 7 text)', () => {
  const rocky = parseInterfacesJson(section('rocky9-documented.txt', 'ip-json'));
  assert.deepEqual(rocky.find((i) => i.name === 'eth1')?.ipv4, ['10.16.8.10/24', '10.16.8.100/32']);
  const c7 = parseInterfacesText(section('centos7-documented.txt', 'ip-text'));
  assert.deepEqual(c7.find((i) => i.name === 'eth0')?.ipv4, ['10.16.8.8/24']);
  assert.equal(c7.find((i) => i.name === 'eth0')?.mac, '52:54:00:ab:cd:ef');
});

test('interfaces: empty, garbage, non-array JSON, odd entries', () => {
  assert.deepEqual(parseInterfacesJson(''), []);
  assert.deepEqual(parseInterfacesJson('[]'), []);
  assert.deepEqual(parseInterfacesJson('{"ifname":"x"}'), []);
  assert.deepEqual(parseInterfacesJson('[{"ifname":"x"'), []);
  assert.deepEqual(parseInterfacesJson('Option "-j" is unknown, try "ip -help".'), []);
  assert.deepEqual(parseInterfacesJson('[null, 3, {"ifname": 5}, {"ifname":"a","flags":"UP","addr_info":[{"family":"inet","local":"1.2.3.4","prefixlen":"x"}]}]'), [
    { name: 'a', up: false, multicast: false, ipv4: [], ipv6: [] },
  ]);
  assert.deepEqual(parseInterfacesText(''), []);
  assert.deepEqual(parseInterfacesText('garbage\n    inet 1.2.3.4/8\n'), []);
});

// ---------------------------------------------------------------- virt, keepalived, clock, uid

test('virt: captured docker answers; none; hints without systemd-detect-virt', () => {
  assert.deepEqual(parseVirt(section('debian12-controller.txt', 'virt')), { virtualization: 'docker', container: true });
  assert.deepEqual(parseVirt(fx('systemd-detect-virt.txt')), { virtualization: 'docker', container: true });
  assert.deepEqual(parseVirt(section('rocky9-documented.txt', 'virt')), { virtualization: 'kvm', container: false });
  assert.deepEqual(parseVirt('virt=systemd-nspawn\ncontainer=systemd-nspawn\nhint=systemd-nspawn\n'), {
    virtualization: 'systemd-nspawn',
    container: true,
  });
  assert.deepEqual(parseVirt('virt=none\ncontainer=none\n'), { virtualization: 'none', container: false });
  assert.deepEqual(parseVirt('none\n'), { virtualization: 'none', container: false });
  assert.deepEqual(parseVirt('kvm\n'), { virtualization: 'kvm', container: false });
  assert.deepEqual(parseVirt('hint=podman\n'), { virtualization: 'podman', container: true });
  assert.deepEqual(parseVirt(''), { virtualization: 'unknown', container: false });
  assert.deepEqual(parseVirt('virt=\ncontainer=\n'), { virtualization: 'unknown', container: false });
});

test('keepalived version: captured 2.2.7, documented forms, absent', () => {
  assert.equal(parseKeepalivedVersion(fx('keepalived-version-2.2.7.txt')), '2.2.7');
  assert.equal(parseKeepalivedVersion(section('debian12-controller.txt', 'keepalived')), '2.2.7');
  assert.equal(parseKeepalivedVersion('Keepalived v2.2.7 (01/16,2022)'), '2.2.7');
  assert.equal(parseKeepalivedVersion('Keepalived v2.2.8 (04/04,2023), git commit v2.2.7-154-g292b299e+'), '2.2.8');
  assert.equal(parseKeepalivedVersion('Keepalived v1.3.5 (03/19,2017), git commit v1.3.5-6-g6fa32f2'), '1.3.5');
  assert.equal(parseKeepalivedVersion(''), null);
  assert.equal(parseKeepalivedVersion('sh: 1: keepalived: not found'), null);
  assert.equal(parseKeepalivedVersion('Keepalived vX'), null);
});

test('keepalived version from the Debian package (the gather asks dpkg-query instead of starting keepalived)', () => {
  assert.equal(parseKeepalivedVersion('package-version=1:2.2.7-1+b2\n'), '2.2.7');
  assert.equal(parseKeepalivedVersion('package-version=2.2.8-1\n'), '2.2.8');
  assert.equal(parseKeepalivedVersion('package-version=\n'), null);
});

test('clock: CAP_SYS_TIME in the bounding set of PID 1 (captured: present, also for a plain user)', () => {
  assert.equal(parseCapSysTime(section('debian12-controller.txt', 'clock')), true);
  const nobody = section('debian12-controller-nobody.txt', 'clock');
  assert.match(nobody, /self:CapEff:\s+0000000000000000/);
  assert.equal(parseCapSysTime(nobody), true, "the login user's empty CapEff does not matter");
  assert.equal(parseCapSysTime(fx('proc-self-status-caps.txt')), true);
});

test('clock: a container without CAP_SYS_TIME, user namespaces, nothing known', () => {
  // systemd-nspawn/docker default bounding set: CAP_SYS_TIME (bit 25) dropped.
  const without = (0x1ffffffffffn & ~(1n << 25n)).toString(16).padStart(16, '0');
  assert.equal(parseCapSysTime(`self:CapBnd:\t000001ffffffffff\ninit:CapBnd:\t${without}\n`), false, 'PID 1 decides');
  assert.equal(parseCapSysTime(`self:CapBnd:\t${without}\n`), false);
  assert.equal(parseCapSysTime('init:CapBnd:\t000001ffffffffff\nuid_map:         0     100000      65536\n'), false);
  assert.equal(parseCapSysTime('init:CapBnd:\t000001ffffffffff\nuid_map:         0          0 4294967295\n'), true);
  assert.equal(parseCapSysTime('CapBnd:\t0000000002000000\n'), true);
  assert.equal(parseCapSysTime(''), false);
  assert.equal(parseCapSysTime('init:CapBnd:\tzzzz\n'), false);
});

test('uid: number or -1', () => {
  assert.equal(parseUid('0\n'), 0);
  assert.equal(parseUid('\n1000\n'), 1000);
  assert.equal(parseUid('id: not found'), -1);
  assert.equal(parseUid(''), -1);
});

// ---------------------------------------------------------------- the whole output

test('whole output: Debian 12 controller capture', () => {
  const f = parseGatherOutput(fx('debian12-controller.txt'));
  assert.equal(f.hostname.length > 0 && f.hostname !== 'unknown', true);
  assert.equal(f.os.id, 'debian');
  assert.equal(f.os.versionId, '12');
  assert.equal(f.packageManager, 'apt');
  assert.equal(Object.keys(f.packages).length, 783);
  assert.equal(f.selinux, 'absent');
  assert.equal(f.firewall, 'none');
  assert.equal(f.virtualization, 'docker');
  assert.equal(f.container, true);
  assert.equal(f.keepalivedVersion, '2.2.7');
  assert.equal(f.canSetClock, true);
  assert.equal(f.uid, 0);
  assert.equal(f.systemd, false);
  assert.equal(f.services.nginx.active, 'unknown');
  assert.equal(f.missingSections, undefined);
});

test('whole output: Rocky 9 documented', () => {
  const f = parseGatherOutput(fx('rocky9-documented.txt'));
  assert.equal(f.os.family, 'redhat');
  assert.equal(f.packageManager, 'dnf');
  assert.equal(f.packages.keepalived, '2.2.8-3.el9');
  assert.equal(f.selinux, 'enforcing');
  assert.equal(f.firewall, 'firewalld');
  assert.equal(f.virtualization, 'kvm');
  assert.equal(f.container, false);
  assert.equal(f.keepalivedVersion, '2.2.8');
  assert.equal(f.canSetClock, true);
  assert.equal(f.uid, 1000);
  assert.equal(f.systemd, true);
  assert.deepEqual(f.services.sshd, { active: 'active', enabled: 'enabled', load: 'loaded' });
});

test('whole output: CentOS 7 documented uses the ip text fallback and yum', () => {
  const f = parseGatherOutput(fx('centos7-documented.txt'));
  assert.equal(f.packageManager, 'yum');
  assert.equal(f.selinux, 'permissive');
  assert.equal(f.firewall, 'none');
  assert.equal(f.keepalivedVersion, null);
  assert.deepEqual(f.interfaces.map((i) => i.name), ['lo', 'eth0']);
  assert.equal(f.services.nginx.active, 'failed');
});

test('whole output: cut short -> parsed part kept, the rest default and listed as missing', () => {
  const full = fx('debian12-controller.txt');
  const cut = full.slice(0, full.indexOf('@@provision:selinux@@'));
  const f = parseGatherOutput(cut);
  assert.equal(f.os.id, 'debian');
  assert.ok(Object.keys(f.packages).length > 700);
  assert.equal(f.selinux, 'absent');
  assert.deepEqual(f.interfaces, []);
  assert.deepEqual(f.missingSections, ['selinux', 'firewall', 'interfaces', 'virt', 'keepalived', 'clock', 'uid']);
});

test('whole output: empty, garbage, a shell error -> all unknown, never a throw', () => {
  for (const input of ['', 'sh: 1: Syntax error', '\x00\x01\x02@@provision:@@\n@@provision:os\n', '@@provision:os@@']) {
    const f = parseGatherOutput(input);
    assert.equal(f.os.family, 'unknown');
    assert.equal(f.packageManager, 'unknown');
    assert.deepEqual(f.interfaces, []);
    assert.equal(f.uid, -1);
    assert.ok(f.missingSections && f.missingSections.length >= 11);
  }
});

test('whole output: empty ip output and missing commands on a completed run are not "missing"', () => {
  const out = '@@provision:begin@@\n@@provision:os@@\nID=debian\n@@provision:pm@@\n@@provision:end@@\n';
  const f = parseGatherOutput(out);
  assert.deepEqual(f.interfaces, []);
  assert.deepEqual(f.packages, {});
  assert.equal(f.missingSections?.includes('interfaces'), false);
  assert.equal(f.missingSections?.includes('packages'), false);
  assert.equal(f.missingSections?.includes('selinux'), true);
  // ip printed nothing useful at all
  const g = parseGatherOutput('@@provision:ip-json@@\n\n@@provision:end@@\n');
  assert.deepEqual(g.interfaces, []);
});

test('whole output: both dpkg and rpm lists -> chosen by family', () => {
  const both = (id: string) =>
    `@@provision:os@@\nID=${id}\n@@provision:packages-dpkg@@\nbash\t5.2\tii \n@@provision:packages-rpm@@\nbash\t5.1-9.el9\nrpmonly\t1-1\n@@provision:end@@\n`;
  assert.deepEqual(parseGatherOutput(both('debian')).packages, { bash: '5.2' });
  assert.deepEqual(parseGatherOutput(both('rocky')).packages, { bash: '5.1-9.el9', rpmonly: '1-1' });
  const partial = parseGatherPartial('@@provision:packages-dpkg@@\nbash\t5.2\tii \n@@provision:packages-rpm@@\nx\t1-1\n', { family: 'debian' });
  assert.deepEqual(partial.facts.packages, { bash: '5.2' });
  assert.deepEqual([...partial.present], ['packages']);
  assert.equal(partial.complete, false);
});

test('splitSections: text before the first marker dropped, marker-looking text inside a line kept', () => {
  const s = splitSections('noise\n@@provision:a@@\nx @@provision:b@@ y\n@@provision:b@@\nz\n');
  assert.deepEqual([...s.entries()], [
    ['a', 'x @@provision:b@@ y'],
    ['b', 'z'],
  ]);
});

test('every parser is total: junk of any shape never throws', async () => {
  const parsers = await import('../../src/facts/parsers.js');
  const fns = Object.entries(parsers).filter(([, v]) => typeof v === 'function') as [string, (...a: unknown[]) => unknown][];
  const junk: unknown[] = [
    undefined,
    null,
    42,
    {},
    [],
    '',
    '\n\n\n',
    '=',
    '\x00\xff\ud800',
    '@@provision:services@@\nunit=\nunit=a\n',
    '@@provision:ip-json@@\n[{"ifname":"x","addr_info":[{"family":"inet","local":"1.2.3.4","prefixlen":99999}]}]',
    '@@provision:clock@@\ninit:CapBnd:\t' + 'f'.repeat(40),
    'x'.repeat(200_000),
    Array.from({ length: 2000 }, (_, i) => `${i}: e${i}: <UP> mtu ${i}\n    inet ${i}/${i}`).join('\n'),
  ];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const alphabet = '@=:\t\n /.<>,"{}[]0123456789abcdefinetprovisionCapBnd-';
  for (let i = 0; i < 200; i++) {
    junk.push(Array.from({ length: Math.floor(rnd() * 300) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(''));
  }
  for (const [name, fn] of fns) {
    for (const j of junk) {
      assert.doesNotThrow(() => fn(j), `${name}(${JSON.stringify(j)?.slice(0, 60)})`);
    }
  }
});

test('names that are Object.prototype keys are ordinary names', () => {
  const sv = parseServices('unit=__proto__\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\nunit=constructor\nLoadState=not-found\n');
  assert.deepEqual(Object.keys(sv), ['__proto__', 'constructor']);
  assert.equal(Object.getPrototypeOf(sv), Object.prototype);
  assert.equal(serviceFrom(sv, '__proto__').active, 'active');
  assert.equal(serviceFrom({}, 'constructor').active, 'unknown');
  assert.equal(serviceFrom({}, 'toString').load, 'unknown');
  const pk = parsePackagesDpkg('__proto__\t1\tii \n');
  assert.deepEqual(Object.keys(pk), ['__proto__']);
});
