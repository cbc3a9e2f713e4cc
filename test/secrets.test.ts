// VRRP passwords (inline, {env: NAME}, {file: path}) never appear in any output: the progress
// of a run (plain, non-TTY), --diff (including the old password of a rotated config), the JSON
// report, error messages (a failing command that echoes one, a check finding about one), the
// topology preflight of a run, and `provision check` (text and --json). keepalived.conf, which
// must hold them, is written 0640 root:root: by the real keepalived role (recording transport)
// and by the same template and file task over a real sshd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { main } from '../src/cli/main.js';
import { EXIT } from '../src/errors.js';
import { loadInventory } from '../src/inventory/index.js';
import { loadPlaybook } from '../src/runner/playbook.js';
import { runPlaybook } from '../src/runner/run.js';
import { plainProgress } from '../src/runner/progress.js';
import { recapTable, writeJsonReport } from '../src/report/recap.js';
import { REDACTED } from '../src/report/redact.js';
import { fileAnswer } from '../src/facts/file.js';
import { RecordingTransport } from '../src/transport/recording.js';
import type { Facts } from '../src/facts/types.js';
import { startSshd, sshdUnavailable, TEST_USER, type Sshd } from './helpers/sshd.js';

// Eight letters and digits each (keepalived's PASS limit), unlike anything else in the output.
const PW_INLINE = 'Qi7nLnPw';
const PW_ENV = 'Qe7nVvPw';
const PW_FILE = 'Qf7lEfPw';
const PW_OLD = 'Qo7lDdPw';
const ENV = 'PV_HOSTILE_VRRP_PW';

let dir = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'provision-secrets-'));
  process.env[ENV] = PW_ENV;
});
after(() => {
  delete process.env[ENV];
  rmSync(dir, { recursive: true, force: true });
});

/** An inventory with the three forms of password: ha.password inline, one VIP from env, one from a file. */
function writeInventory(name: string, o: { inline?: string; port?: number; sshd?: Sshd; root?: string } = {}): string {
  const sub = path.join(dir, name);
  rmSync(sub, { recursive: true, force: true });
  const conn = (h: string) =>
    o.sshd
      ? `ansible_host: 127.0.0.1, ansible_port: ${o.sshd.port}, ansible_user: ${TEST_USER}, ansible_ssh_private_key_file: ${o.sshd.clientKeyPath}, provision_known_hosts_file: ${o.sshd.knownHostsFile}, ansible_become: true, sf_root: ${o.root}/${h}`
      : 'ansible_host: 127.0.0.1';
  const text = [
    'all:',
    '  vars:',
    '    ha:',
    `      password: ${o.inline ?? PW_INLINE}`,
    '      networks:',
    '        - name: internal',
    '          interface: eth1',
    '          subnet: 10.16.8.0/24',
    '          vips:',
    `            - { address: 10.16.8.100, password: {env: ${ENV}} }`,
    '            - { address: 10.16.8.101, password: {file: vrrp.pw} }',
    '            - 10.16.8.102',
    '  children:',
    '    lb:',
    '      hosts:',
    `        ka67: { ${conn('ka67')}, addresses: { internal: 10.16.8.10 } }`,
    `        ka68: { ${conn('ka68')}, addresses: { internal: 10.16.8.11 } }`,
    '    web:',
    '      hosts:',
    '        web1: { ansible_host: 127.0.0.1, addresses: { internal: 10.16.8.8 } }',
    '',
  ].join('\n');
  mkdirSync(sub, { recursive: true });
  writeFileSync(path.join(sub, 'vrrp.pw'), `${PW_FILE}\n`);
  writeFileSync(path.join(sub, 'hosts.yaml'), text);
  return path.join(sub, 'hosts.yaml');
}

const SECRETS = [PW_INLINE, PW_ENV, PW_FILE, PW_OLD, 'Qz7tHerP'];

/** The real process, as a user runs it: stdout and stderr together, exit code. */
function spawnCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.resolve('bin/provision.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    let output = '';
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('close', (code) => resolve({ code, output }));
  });
}
function assertNoSecret(text: string, where: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} shows a password (${s}):\n${text}`);
}

function lbFacts(): Facts {
  return {
    hostname: 'ka67', os: { id: 'debian', versionId: '12', family: 'debian', prettyName: 'Debian GNU/Linux 12' }, packageManager: 'apt',
    packages: { keepalived: '1:2.2.7-1+b2', psmisc: '23.6-1' }, services: { keepalived: { active: 'active', enabled: 'enabled', load: 'loaded' } },
    selinux: 'absent', firewall: 'none', interfaces: [], virtualization: 'none', container: false,
    keepalivedVersion: '2.2.7', canSetClock: true, uid: 0, systemd: true,
  };
}

const OLD_CONF = ['vrrp_instance INTERNAL_1 {', '    authentication {', '        auth_type PASS', `        auth_pass ${PW_OLD}`, '    }', '}', ''].join('\n');

test('the real keepalived role: keepalived.conf 0640 root:root; progress, --diff (old password too), recap and JSON report show no password', async () => {
  const inv = await loadInventory(writeInventory('role'));
  const playbook = await loadPlaybook(path.resolve('test/fixtures/hostile/secret-conf.yaml'));
  playbook.plays[0].roles = [{ name: 'keepalived', vars: {}, tags: [], dir: path.resolve('roles/keepalived') }];
  const transports = new Map<string, RecordingTransport>();
  const transportFor = (h: string) => {
    let t = transports.get(h);
    if (!t) {
      // The live config holds an older password: a rotation, so the diff has a removed line with it.
      t = new RecordingTransport(h)
        .on((c) => c.includes('stat --printf') && c.includes(' /etc/keepalived/keepalived.conf;'), { stdout: fileAnswer({ exists: true, mode: 0o640, owner: 'root', group: 'root', sha256: '0'.repeat(64) }) })
        .on('cat -- /etc/keepalived/keepalived.conf', { stdout: OLD_CONF });
      transports.set(h, t);
    }
    return t;
  };
  const lines: string[] = [];
  const progress = plainProgress((s) => lines.push(s), { verbose: true, diff: true });
  const report = await runPlaybook({
    inventory: inv,
    playbook,
    selectHosts: (p) => [...inv.hosts.values()].filter((h) => p.some((g) => h.groups.includes(g))),
    connect: async (h) => transportFor(h.name),
    gatherFacts: async () => lbFacts(),
    diff: true,
    emit: (e) => progress.onEvent(e),
  });
  const jsonFile = path.join(dir, 'role-report.json');
  await writeJsonReport(jsonFile, report);
  const output = `${lines.join('\n')}\n${recapTable(report)}`;
  assert.deepEqual(Object.keys(report.hosts).sort(), ['ka67', 'ka68']);
  for (const h of ['ka67', 'ka68']) assert.equal(report.hosts[h].status, 'ok', JSON.stringify(report.tasks.filter((t) => t.host === h), null, 1));

  // The file itself: written as a candidate 0640 root:root, validated, then moved into place.
  for (const [h, t] of transports) {
    const cand = t.puts.find((p) => /^\/etc\/keepalived\/\.keepalived\.conf\.provision-tmp-/.test(p.path));
    assert.ok(cand, `${h}: keepalived.conf uploaded`);
    assert.deepEqual({ mode: cand.opts.mode, owner: cand.opts.owner, group: cand.opts.group }, { mode: '0640', owner: 'root', group: 'root' });
    for (const pw of [PW_INLINE, PW_ENV, PW_FILE]) assert.ok(cand.text.includes(`auth_pass ${pw}`), `${h}: the target gets the password it needs (${pw})`);
    assert.ok(t.commands.includes(`keepalived -t -f ${cand.path}`), `${h}: validated on the target`);
    assert.ok(t.commands.includes(`mv -f -- ${cand.path} /etc/keepalived/keepalived.conf`), `${h}: then activated`);
    // Passwords travel only inside the file's bytes, never on a command line.
    for (const c of t.commands) assertNoSecret(c, `${h}: a command`);
  }

  // The outputs: the diff is shown, with the password lines masked (old and new).
  assert.match(output, new RegExp(`-\\s+auth_pass ${REDACTED}`), output);
  assert.match(output, new RegExp(`\\+\\s+auth_pass ${REDACTED}`), output);
  assertNoSecret(output, 'progress/diff/recap');
  const json = readFileSync(jsonFile, 'utf8');
  assert.match(json, /auth_pass «redacted»/, 'the report keeps the diff, masked');
  assertNoSecret(json, 'the JSON report');
  assert.equal(statSync(jsonFile).mode & 0o077, 0, 'the JSON report is private to its owner');
});

const skip = sshdUnavailable();

test('through the CLI against a real sshd: run, rotation with --diff, --check, a failing command, check; file 0640 root-owned', { skip }, async () => {
  const sshd = await startSshd({ users: [TEST_USER] });
  const root = mkdtempSync(path.join(tmpdir(), 'provision-secrets-target-'));
  const pb = path.resolve('test/fixtures/hostile/secret-conf.yaml');
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const code = await main(args, { out: (s) => out.push(s), err: (s) => out.push(s), isTTY: false });
    return { code, output: out.join('\n') };
  };
  try {
    const inv = writeInventory('cli', { sshd, root });
    for (const h of ['ka67', 'ka68']) mkdirSync(path.join(root, h));
    const conf = (h: string) => path.join(root, h, 'keepalived.conf');

    // 1. First run: verbose plain progress, diffs, JSON report.
    const r1 = path.join(root, 'r1.json');
    const first = await cli(inv, pb, '-v', '--diff', '--json', r1);
    assert.equal(first.code, EXIT.OK, first.output);
    for (const h of ['ka67', 'ka68']) {
      const text = readFileSync(conf(h), 'utf8');
      for (const pw of [PW_INLINE, PW_ENV, PW_FILE]) assert.ok(text.includes(`auth_pass ${pw}`), `${h} got ${pw}`);
      const st = statSync(conf(h));
      assert.equal(st.mode & 0o777, 0o640, `${h}: mode ${(st.mode & 0o777).toString(8)}`);
      assert.equal(st.uid, 0, `${h}: root-owned`);
      assert.equal(st.gid, 0, `${h}: group root`);
    }
    assert.match(first.output, /\+\s+auth_pass «redacted»/, 'the diff is printed, masked');
    assertNoSecret(first.output, 'first run output');
    assertNoSecret(readFileSync(r1, 'utf8'), 'first JSON report');

    // 2. Rotation: the file password changes; the diff has the old and the new one, both masked.
    // A fresh process (bin/provision.js), which has never seen the old password: only the new one
    // is revealed (registered) in it, so the old one must be masked by its key.
    writeFileSync(path.join(path.dirname(inv), 'vrrp.pw'), `${PW_OLD}\n`);
    writeFileSync(conf('ka67'), readFileSync(conf('ka67'), 'utf8').replaceAll(PW_FILE, 'Qz7tHerP'));
    const r2 = path.join(root, 'r2.json');
    const second = await spawnCli([inv, pb, '--diff', '--json', r2]);
    assert.equal(second.code, EXIT.OK, second.output);
    assert.ok(readFileSync(conf('ka67'), 'utf8').includes(`auth_pass ${PW_OLD}`), 'the new password landed');
    assert.match(second.output, /-\s+auth_pass «redacted»\n\s+\+\s+auth_pass «redacted»/, second.output);
    assertNoSecret(second.output, 'rotation output');
    assertNoSecret(readFileSync(r2, 'utf8'), 'rotation JSON report');
    // And back, in check mode: the planned diff, masked; nothing written.
    writeFileSync(path.join(path.dirname(inv), 'vrrp.pw'), `${PW_FILE}\n`);
    const r3 = path.join(root, 'r3.json');
    const planned = await cli(inv, pb, '--check', '--diff', '--json', r3);
    assert.equal(planned.code, EXIT.OK, planned.output);
    assert.match(planned.output, /check mode/);
    assert.match(planned.output, /auth_pass «redacted»/);
    assertNoSecret(planned.output, '--check --diff output');
    assertNoSecret(readFileSync(r3, 'utf8'), '--check JSON report');
    assert.ok(readFileSync(conf('ka67'), 'utf8').includes(`auth_pass ${PW_OLD}`), 'check mode wrote nothing');

    // 3. A failing command whose stderr echoes a password: the error is reported, masked.
    const r4 = path.join(root, 'r4.json');
    const failing = await cli(inv, pb, '-e', 'sf_echo_password=1', '--json', r4);
    assert.equal(failing.code, EXIT.HOST_FAILED, failing.output);
    assert.match(failing.output, /auth failed for password «redacted»/, failing.output);
    assertNoSecret(failing.output, 'error output');
    const j4 = readFileSync(r4, 'utf8');
    assert.match(j4, /auth failed for password «redacted»/);
    assertNoSecret(j4, 'error JSON report');

    // 4. provision check, text and JSON: no password (they are resolved, never printed).
    for (const args of [['check', inv], ['check', inv, '--json']]) {
      const c = await cli(...args);
      assert.equal(c.code, EXIT.OK, c.output);
      assertNoSecret(c.output, args.join(' '));
    }
  } finally {
    await sshd.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test('a finding about an over-long password (check text and --json, and the run it stops) names no password', async () => {
  const LONG = 'Ql9nGpassword42';
  const inv = writeInventory('long', { inline: LONG });
  const out: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s), isTTY: false };
  assert.equal(await main(['check', inv], io), EXIT.CHECK_FAILED);
  assert.equal(await main(['check', inv, '--json'], io), EXIT.CHECK_FAILED);
  assert.equal(await main([inv, path.resolve('test/fixtures/hostile/secret-conf.yaml')], io), EXIT.CHECK_FAILED);
  const text = out.join('\n');
  assert.match(text, /password-too-long/);
  assert.match(text, /has 15 characters; keepalived silently uses only the first 8/);
  for (const s of [LONG, LONG.slice(0, 8), PW_ENV, PW_FILE]) assert.ok(!text.includes(s), `shows ${s}:\n${text}`);
});

test('an unresolvable secret is named by where it should come from, never by a value', async () => {
  const inv = writeInventory('unset');
  const saved = process.env[ENV];
  delete process.env[ENV];
  try {
    const out: string[] = [];
    const code = await main(['check', inv], { out: (s) => out.push(s), err: (s) => out.push(s), isTTY: false });
    assert.equal(code, EXIT.CHECK_FAILED);
    const text = out.join('\n');
    assert.match(text, new RegExp(`hosts\\.yaml:10:\\d+: ERROR \\[secret-unresolved\\] ka67: ha\\.networks\\[0\\]\\.vips\\[0\\]\\.password: environment variable ${ENV} is not set`), text);
    for (const s of [PW_INLINE, PW_FILE]) assert.ok(!text.includes(s), text);
    assert.ok(existsSync(inv));
  } finally {
    process.env[ENV] = saved;
  }
});
