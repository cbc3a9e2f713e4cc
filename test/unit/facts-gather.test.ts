// The gather script itself: POSIX sh, one command, values quoted, sections selectable, and
// it survives a host where most commands are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gatherScript, gatherScriptBody, isValidUnitName, serviceStateScript, SECTIONS } from '../../src/facts/gather.js';
import { parseGatherOutput, parseGatherPartial, splitSections } from '../../src/facts/parsers.js';

function runSh(text: string, shell = 'sh'): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(shell, ['-c', text], { encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

test('the script parses as POSIX sh (dash -n, bash --posix -n, busybox if present)', () => {
  const body = gatherScriptBody({ services: ['nginx', 'keepalived', 'getty@tty1', 'a\\x2db'] });
  for (const [shell, args] of [
    ['dash', ['-n']],
    ['bash', ['--posix', '-n']],
    ['busybox', ['sh', '-n']],
  ] as const) {
    if (!have(shell)) continue;
    const r = spawnSync(shell, [...args], { input: body, encoding: 'utf8' });
    assert.equal(r.status, 0, `${shell}: ${r.stderr}`);
  }
});

test('gatherScript is one `sh -c <quoted script>` command; the body has every marker', () => {
  const cmd = gatherScript({ services: ['nginx'] });
  assert.match(cmd.text, /^sh -c '/);
  const body = gatherScriptBody({ services: ['nginx'] });
  for (const m of ['begin', 'os', 'hostname', 'pm', 'packages-dpkg', 'packages-rpm', 'init', 'services', 'selinux', 'firewall', 'ip-json', 'ip-text', 'virt', 'keepalived', 'clock', 'uid', 'end']) {
    assert.ok(body.includes(`m ${m}`), m);
  }
  // Running the quoted command prints the same as running the body.
  const a = runSh(cmd.text).stdout;
  assert.ok(a.includes('@@provision:end@@'));
  assert.deepEqual([...splitSections(a).keys()], [...splitSections(runSh(body).stdout).keys()]);
});

test('unit names go through the quoting helper; non-unit names are refused', () => {
  const body = gatherScriptBody({ services: ["getty@tty1", 'a\\x2db.service'], sections: ['services'] });
  assert.ok(body.includes("for u in getty@tty1 'a\\x2db.service'; do"), body);
  for (const bad of ["x'; rm -rf /; '", 'a b', '', '$(id)', 'x\ny', '../etc']) {
    assert.throws(() => gatherScript({ services: [bad] }), /not a systemd unit name/, JSON.stringify(bad));
  }
  assert.equal(isValidUnitName('nginx.service'), true);
  assert.equal(isValidUnitName('x'.repeat(256)), false);
});

test('sections: only the requested ones are printed; services without names print just init', () => {
  const out = runSh(gatherScript({ services: [], sections: ['uid', 'os'] }).text).stdout;
  assert.deepEqual([...splitSections(out).keys()], ['begin', 'os', 'uid', 'end']);
  const sv = runSh(serviceStateScript(['provision-no-such-unit']).text).stdout;
  assert.deepEqual([...splitSections(sv).keys()], ['begin', 'init', 'services', 'end']);
  const p = parseGatherPartial(sv, { requested: ['services'] });
  assert.deepEqual([...p.present], ['services']);
  assert.equal(p.facts.services?.['provision-no-such-unit']?.active, 'unknown');
  const none = runSh(gatherScript({ services: [], sections: ['services'] }).text).stdout;
  assert.deepEqual(parseGatherPartial(none).facts.services, {});
});

test('runs as a plain user in a non-sh login shell and under `set -e`-less strictness (exit 0)', { skip: process.getuid?.() !== 0 || !have('setpriv') }, () => {
  const cmd = gatherScript({ services: ['nginx'] }).text;
  // The login shell here is bash with `-e -u`: the script still runs to the end in its own sh.
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', '-eu', '-c', cmd], {
    encoding: 'utf8',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
  });
  assert.equal(r.status, 0, r.stderr);
  const f = parseGatherOutput(r.stdout);
  assert.equal(f.uid, 65534);
  assert.equal(f.missingSections, undefined);
  // /usr/sbin is not in a plain user's PATH on Debian: the script adds it, keepalived is found.
  if (have('keepalived')) assert.match(f.keepalivedVersion ?? '', /^\d+\.\d+/);
});

test('a host missing nearly every command: facts degrade to unknown/empty, nothing missing', { skip: process.getuid?.() !== 0 || !have('unshare') }, (t) => {
  // In a private mount namespace, hide /usr/sbin and replace /usr/bin by a handful of tools
  // (no ip, systemctl, dpkg-query, rpm, apt-get, systemd-detect-virt, keepalived, nft).
  const dir = mkdtempSync(path.join(tmpdir(), 'provision-facts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['real', 'fake', 'empty']) mkdirSync(path.join(dir, d));
  const setup = `set -e
T=$1
mount --bind "$T/empty" /usr/sbin
mount --bind /usr/bin "$T/real"
for c in sh dash cat head sed grep tr uname id; do ln -s "$T/real/$c" "$T/fake/$c"; done
mount --bind "$T/fake" /usr/bin
exec /usr/bin/sh -c "$2"`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', setup, 'x', dir, gatherScriptBody({ services: ['nginx'] })], {
    encoding: 'utf8',
  });
  if (r.status !== 0 && /mount|unshare|Operation not permitted/.test(r.stderr)) {
    t.skip(`cannot make a mount namespace here: ${r.stderr.trim()}`);
    return;
  }
  assert.equal(r.status, 0, r.stderr);
  const f = parseGatherOutput(r.stdout);
  assert.equal(f.missingSections, undefined, 'the run completed');
  assert.equal(f.os.id, 'debian');
  assert.equal(f.packageManager, 'unknown');
  assert.deepEqual(f.packages, {});
  assert.deepEqual(f.interfaces, []);
  assert.deepEqual(f.services.nginx, { active: 'unknown', enabled: 'unknown', load: 'unknown' });
  assert.equal(f.keepalivedVersion, null);
  assert.equal(f.firewall, 'none');
  assert.deepEqual(f.firewallTools, { firewallCmd: false, nft: false, iptables: false });
  assert.equal(f.selinux, 'absent');
  assert.equal(f.uid, 0);
});

test('every section can be gathered alone and parses to its facts', () => {
  for (const s of SECTIONS) {
    const out = runSh(gatherScript({ services: ['nginx'], sections: [s] }).text).stdout;
    const p = parseGatherPartial(out, { requested: [s] });
    assert.equal(p.complete, true, s);
    const other = [...p.present].filter((x) => x !== s);
    assert.deepEqual(other, [], `${s} printed ${other.join(',')}`);
  }
});

test('without a running systemd, `systemctl show` runs twice in all, not once per unit; each unit still gets the error and is-enabled', { skip: existsSync('/run/systemd/system') && 'systemd runs here' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provision-fake-systemctl-'));
  try {
    const log = path.join(dir, 'calls');
    // A systemctl as on a host whose PID 1 is not systemd: show fails, is-enabled answers offline.
    writeFileSync(
      path.join(dir, 'systemctl'),
      `#!/bin/sh\necho "$1" >> ${log}\ncase $1 in show|is-active) echo "System has not been booted with systemd as init system (PID 1). Can't operate." >&2; exit 1;; is-enabled) echo enabled;; esac\n`,
      { mode: 0o755 },
    );
    const units = ['nginx', 'keepalived', 'chrony', 'firewalld', 'nftables'];
    const r = spawnSync('sh', ['-c', gatherScriptBody({ services: units, sections: ['services'] })], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    assert.equal(r.status, 0, r.stderr);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(calls.filter((c) => c === 'show').length, 2, 'one show for all units, one to read the error');
    assert.equal(calls.filter((c) => c === 'is-enabled').length, units.length);
    for (const u of units) {
      const block = r.stdout.split(`unit=${u}\n`)[1].split('unit=')[0];
      assert.match(block, /^error=System has not been booted with systemd/m, u);
      assert.match(block, /^is-enabled=enabled$/m, u);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
