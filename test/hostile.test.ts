// Hostile and broken input (test/fixtures/hostile/): every case goes through the real CLI entry
// and must give the documented exit code (3: bad input found before any connection; 4 for an
// HA topology with errors, which a run refuses before connecting, like `provision check`), a clear
// one-paragraph message naming file:line:col where there is a line to name, no stack trace,
// and no connection to any host: every host of the corpus points at a TCP listener on
// 127.0.0.1 started here, which counts the connections it sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT } from '../src/errors.js';
import { EXIT_CODES } from '../src/cli/help.js';
import { loadInventory, varPosition } from '../src/inventory/index.js';
import { RecordingTransport } from '../src/transport/recording.js';
import { runPlaybook } from '../src/runner/run.js';
import type { Facts } from '../src/facts/types.js';
import { CountingListener, assertBadInput } from './helpers/bad-input.js';
import { startSshd, sshdUnavailable, boxInventory, TEST_USER } from './helpers/sshd.js';

const CORPUS = path.resolve('test/fixtures/hostile');
const BIN = path.resolve('bin/provision.js');

const listener = new CountingListener();
let port = 0;
let root = '';
const provision = (args: string[]) => listener.provision(args);

before(async () => {
  await listener.start();
  port = listener.port;
  root = mkdtempSync(path.join(tmpdir(), 'provision-hostile-'));
  cpSync(CORPUS, root, { recursive: true });
  const substitute = (dir: string) => {
    for (const n of readdirSync(dir)) {
      const f = path.join(dir, n);
      if (statSync(f).isDirectory()) substitute(f);
      else {
        const text = readFileSync(f, 'latin1');
        if (text.includes('@PORT@')) writeFileSync(f, text.replaceAll('@PORT@', String(port)), 'latin1');
      }
    }
  };
  substitute(root);
});

after(async () => {
  await listener.close();
  rmSync(root, { recursive: true, force: true });
});

interface Case {
  /** Directory under test/fixtures/hostile/. */
  dir: string;
  /** Fragment of the message (each case its own). */
  msg: RegExp;
  /** file:line:col relative to the case directory (absent: the message has no line to name). */
  at?: string;
  /**
   * An HA topology error: the inventory loads, and the run stops before its first connection with
   * exit 4 and the findings of `provision check` (ERROR [code] at file:line:col), as check does.
   */
  topology?: string;
}

const CASES: Case[] = [
  // inventories: YAML
  { dir: 'inv-yaml-syntax', msg: /YAML syntax error: Flow map .* must .* end with a \}/, at: 'hosts.yaml:4:5' },
  { dir: 'inv-tab-indent', msg: /tab character used for indentation/, at: 'hosts.yaml:4:1' },
  { dir: 'inv-duplicate-key', msg: /duplicate key 'ansible_host' \(first at line 4, column 7\)/, at: 'hosts.yaml:6:7' },
  { dir: 'inv-empty', msg: /inventory file is empty/ },
  { dir: 'inv-not-mapping', msg: /an inventory must be a mapping of group names .*found a list/, at: 'hosts.yaml:1:1' },
  { dir: 'inv-binary', msg: /YAML syntax error/, at: 'hosts.yaml:4:1' },
  { dir: 'inv-alias-bomb', msg: /aliases and merge keys expand to more than 1000000 values .*billion laughs/, at: 'hosts.yaml:9:42' },
  { dir: 'inv-merge-bomb', msg: /aliases and merge keys expand .*\n\s+6 \|\s+m2: &m2 \{<<:/, at: 'hosts.yaml:6:18' },
  { dir: 'inv-deep-nesting', msg: /YAML nested deeper than 100 levels/, at: 'hosts.yaml:3:105' },
  { dir: 'inv-vault-tag', msg: /Ansible Vault values \(!vault\) are not supported/, at: 'hosts.yaml:3:13' },
  { dir: 'inv-collection-key', msg: /host name must be a string, got a collection/, at: 'hosts.yaml:3:7' },
  // inventories: structure and types
  { dir: 'inv-hosts-list', msg: /'hosts' of group 'web' must be a mapping of host names \(not a list\)/, at: 'hosts.yaml:5:9' },
  { dir: 'inv-unknown-group-key', msg: /unexpected key 'host' in group 'web': only hosts, children and vars/, at: 'hosts.yaml:4:7' },
  { dir: 'inv-vars-list', msg: /'vars' of group 'all' must be a mapping, found a list/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-group-scalar', msg: /group 'web' must be a mapping .* found a boolean \(yes\)/, at: 'hosts.yaml:3:10' },
  { dir: 'inv-host-vars-scalar', msg: /host 'h1' must have a mapping of variables or nothing, found a string/, at: 'hosts.yaml:3:9' },
  { dir: 'inv-number-host-key', msg: /host name must be a string, got 2 \(quote it\)/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-children-cycle', msg: /children cycle: a -> b -> a/, at: 'hosts.yaml:5:9' },
  { dir: 'inv-all-as-child', msg: /children cycle: web -> all -> web \('all' contains every group/, at: 'hosts.yaml:5:9' },
  { dir: 'inv-plugin', msg: /inventory plugin configurations \(plugin:\) are not supported/, at: 'hosts.yaml:1:1' },
  { dir: 'inv-group-priority', msg: /ansible_group_priority must be an integer, got "high"/, at: 'hosts.yaml:5:33' },
  { dir: 'inv-host-range-empty', msg: /host range web\[3:1\] expands to no host/, at: 'hosts.yaml:3:5' },
  // inventories: group_vars/ and host_vars/ files
  { dir: 'inv-group-vars-syntax', msg: /YAML syntax error: Flow sequence/, at: 'group_vars/web.yaml:4:1' },
  { dir: 'inv-host-vars-list', msg: /a vars file must be a mapping of variable names, found a list/, at: 'host_vars/h1.yml:1:1' },
  { dir: 'inv-host-vars-tab', msg: /tab character used for indentation \(YAML allows only spaces\)\n\s+2 \| →internal/, at: 'host_vars/h1.yaml:2:1' },
  // inventories: hostile host and group names
  { dir: 'inv-host-cmd-subst', msg: /host name "\$\(touch \/tmp\/pwned-hostile-name\)" is not allowed/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-host-semicolon', msg: /host name "web1; rm -rf \/" is not allowed/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-host-newline', msg: /host name "web1\\nh2 : ok=1 changed=0" is not allowed/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-host-backtick', msg: /host name "`id`" is not allowed/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-host-quote', msg: /host name "web1'\\"" is not allowed/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-host-path-escape', msg: /host name "\.\.\/\.\.\/etc\/passwd" is not allowed.*host_vars file/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-host-option', msg: /host name "-oProxyCommand=touch \/tmp\/pwned-hostile-opt" is not allowed/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-group-path-escape', msg: /group name "\.\.\/\.\.\/secrets" is not allowed.*group_vars file/, at: 'hosts.yaml:3:5' },
  { dir: 'inv-group-cmd-subst', msg: /group name "\$\(reboot\)" is not allowed/, at: 'hosts.yaml:5:9' },
  // inventories: connection variables
  { dir: 'inv-ansible-host-cmd', msg: /host h1: ansible_host "\$\(touch \/tmp\/pwned-hostile-addr\)" is not a host name or an IP address/, at: 'hosts.yaml:4:21' },
  { dir: 'inv-ansible-host-option', msg: /ansible_host "-oProxyCommand=touch \/tmp\/pwned-hostile-addr" is not a host name/, at: 'hosts.yaml:4:21' },
  { dir: 'inv-ansible-host-port', msg: /is not a host name or an IP address \(put the port in ansible_port\)/, at: 'hosts.yaml:4:21' },
  { dir: 'inv-ansible-port-shell', msg: /host h1: ansible_port must be a port number \(1-65535\), not "22; reboot"/, at: 'group_vars/all.yaml:3:15' },
  { dir: 'inv-ansible-port-range', msg: /ansible_port must be a port number \(1-65535\), not "70000"/, at: 'hosts.yaml:5:21' },
  { dir: 'inv-ansible-user-shell', msg: /ansible_user "root`touch \/tmp\/pwned-hostile-user`" is not a user name/, at: 'hosts.yaml:6:21' },
  { dir: 'inv-proxycommand', msg: /host h1: ProxyCommand is not supported \(use ProxyJump\)/, at: 'hosts.yaml:6:32' },
  { dir: 'inv-become-method', msg: /ansible_become_method su is not supported \(only sudo\)/, at: 'hosts.yaml:7:30' },
  { dir: 'inv-key-file-missing', msg: /host h1: private key file \S*\/keys\/no-such-key does not exist/, at: 'hosts.yaml:6:37' },
  // inventories: HA topology and secrets (found before the first connection, not by the keepalived role)
  { dir: 'inv-topology-vrid', topology: 'vrid-range', msg: /INTERNAL_2: VRID 300 on internal .*VRID 300 is outside 1\.\.255/, at: 'group_vars/lb.yaml:11:17' },
  { dir: 'inv-topology-unknown-key', topology: 'schema-unknown-key', msg: /ha\.pasword: unknown key "pasword" in ha \(did you mean "password"\?\)/, at: 'hosts.yaml:4:16' },
  { dir: 'inv-secret-env-unset', topology: 'secret-unresolved', msg: /ha\.password: environment variable PV_HOSTILE_SURELY_UNSET is not set/, at: 'hosts.yaml:4:17' },
  { dir: 'inv-secret-device', topology: 'secret-unresolved', msg: /ha\.password: secret file \/dev\/zero is a character device, not a regular file/, at: 'hosts.yaml:4:17' },
  { dir: 'inv-password-excerpt', msg: /duplicate key 'password' \(first at line 4, column 7\)\n\s+5 \|\s+password: «redacted»/, at: 'hosts.yaml:5:7' },
  // playbooks
  { dir: 'pb-not-list', msg: /a playbook is a list of plays/, at: 'play.yaml:1:1' },
  { dir: 'pb-empty', msg: /play\.yaml: a playbook is a list of plays \(each with hosts and roles\)$/ },
  { dir: 'pb-unknown-key', msg: /unknown play key "rolez" \(did you mean "roles"\?\)/, at: 'play.yaml:3:3' },
  { dir: 'pb-no-hosts', msg: /play has no "hosts"/, at: 'play.yaml:1:3' },
  { dir: 'pb-missing-role', msg: /role "no_such_role" not found \(looked in /, at: 'play.yaml:3:19' },
  { dir: 'pb-role-dir-no-index', msg: /role "empty_role" not found/, at: 'play.yaml:3:11' },
  { dir: 'pb-role-path-escape', msg: /invalid role name "\.\.\/\.\.\/\.\.\/etc"/, at: 'play.yaml:4:7' },
  { dir: 'pb-role-cmd-subst', msg: /invalid role name "\$\(touch \/tmp\/pwned-hostile-role\)"/, at: 'play.yaml:4:7' },
  { dir: 'pb-serial-shell', msg: /"serial" must be a whole number >= 1/, at: 'play.yaml:3:11' },
  { dir: 'pb-hosts-number', msg: /"hosts" must be a string or a list of strings/, at: 'play.yaml:2:10' },
  { dir: 'pb-hosts-newline', msg: /"hosts" "all\\n; reboot" holds a control character/, at: 'play.yaml:2:10' },
  { dir: 'pb-name-newline', msg: /play name "ok\\nPLAY RECAP" holds a control character/, at: 'play.yaml:1:9' },
  { dir: 'pb-role-vars-list', msg: /"vars" must be a mapping/, at: 'play.yaml:5:13' },
  { dir: 'pb-tab', msg: /tabs are not allowed for indentation/, at: 'play.yaml:2:2' },
  { dir: 'pb-duplicate-key', msg: /duplicate key "hosts" \(first at line 2, column 3\)/, at: 'play.yaml:4:3' },
  { dir: 'pb-vault', msg: /Ansible Vault values \(!vault\) are not supported\n\s+4 \|\s+pw: !vault/, at: 'play.yaml:4:9' },
  { dir: 'pb-collection-key', msg: /a mapping key must be a plain value \(a name\), not a list or mapping/, at: 'play.yaml:4:5' },
  { dir: 'pb-alias-bomb', msg: /aliases expand to too many values .*billion laughs/, at: 'play.yaml:6:14' },
  { dir: 'pb-password-excerpt', msg: /duplicate key "vrrp_password" \(first at line 4, column 5\)\n\s+5 \|\s+vrrp_password: «redacted»/, at: 'play.yaml:5:5' },
];

function paths(c: Case) {
  const dir = path.join(root, c.dir);
  const inv = path.join(dir, 'hosts.yaml');
  const pb = path.join(dir, 'play.yaml');
  return {
    dir,
    ownInventory: existsSync(inv),
    inventory: existsSync(inv) ? inv : path.join(root, 'ok/hosts.yaml'),
    playbook: existsSync(pb) ? pb : path.join(root, 'ok/play.yaml'),
  };
}

test('the corpus: every case directory is in the table, and there are at least 30', () => {
  const dirs = readdirSync(CORPUS).filter((n) => n !== 'ok' && n !== 'roles' && statSync(path.join(CORPUS, n)).isDirectory());
  assert.deepEqual(new Set(dirs), new Set(CASES.map((c) => c.dir)));
  assert.ok(CASES.length >= 30, `${CASES.length} cases`);
  assert.equal(new Set(CASES.map((c) => c.msg.source)).size, CASES.length, 'each case has its own expected message');
  // The exit code the corpus expects is the documented one.
  assert.match(EXIT_CODES, new RegExp(`^\\s*${EXIT.BAD_INPUT}\\s+bad input found before any connection`, 'm'));
});

/** A topology error: exit 4 from the run (before any connection) and from check, the finding at file:line:col. */
async function assertTopologyError(c: Case, p: ReturnType<typeof paths>): Promise<void> {
  const at = path.join(p.dir, c.at!);
  const run = await provision([p.inventory, p.playbook]);
  const shown = `${run.err}\n${run.out}`;
  assert.equal(run.code, EXIT.CHECK_FAILED, shown);
  assert.equal(run.connections, 0, `nothing may be sent to any host: ${shown}`);
  assert.equal(run.out, '', shown);
  assert.ok(run.err.startsWith(`${at}: ERROR [${c.topology}] `), `the first finding at ${at}: ${shown}`);
  assert.match(run.err.split('\n')[0], c.msg, shown);
  assert.match(run.err, /\n {4}fix: /, shown);
  assert.match(run.err, /provision: the HA topology in .* has errors; nothing was run/, shown);
  assert.doesNotMatch(run.err, /\n\s+at |\n\s*\n/, shown);
  const chk = await provision(['check', p.inventory]);
  assert.equal(chk.code, EXIT.CHECK_FAILED, `${chk.out}\n${chk.err}`);
  assert.equal(chk.connections, 0);
  assert.ok(chk.out.startsWith(`${at}: ERROR [${c.topology}] `), chk.out);
  const json = await provision(['check', p.inventory, '--json']);
  const findings = JSON.parse(json.out) as Array<{ code: string; pos?: { file: string; line?: number; col?: number } }>;
  const [, line, col] = /:(\d+):(\d+)$/.exec(c.at!)!;
  assert.deepEqual(findings[0].pos, { file: path.join(p.dir, c.at!.replace(/:\d+:\d+$/, '')), line: Number(line), col: Number(col) });
  assert.equal(findings[0].code, c.topology);
}

for (const c of CASES) {
  test(`${c.dir}: exit ${c.topology ? 4 : 3}, ${c.at ?? 'no line'}, nothing sent`, async () => {
    const p = paths(c);
    if (c.topology) return assertTopologyError(c, p);
    const want = { msg: c.msg, at: c.at && path.join(p.dir, c.at) };
    assertBadInput(await provision([p.inventory, p.playbook]), want, `provision ${c.dir}`);
    if (!p.ownInventory) return;
    // `check` makes the run's checks before connecting (src/cli/preflight.ts): the same verdict.
    assertBadInput(await provision(['check', p.inventory]), want, `provision check ${c.dir}`);
  });
}

test('an HA inventory with a setting a run refuses (ProxyCommand, become_method su, a missing key file): check and the run both exit 3 at its file:line, naming the host', async () => {
  const bad: Array<[string, string, RegExp]> = [
    ['ansible_ssh_common_args', "-o ProxyCommand='touch /tmp/pwned-hostile-proxy'", /host ka68: ProxyCommand is not supported/],
    ['ansible_become_method', 'su', /host ka68: ansible_become_method su is not supported/],
    ['ansible_ssh_private_key_file', '/nonexistent/no-such-key', /host ka68: private key file \/nonexistent\/no-such-key does not exist/],
  ];
  const dir = path.join(root, 'ha-settings');
  mkdirSync(dir, { recursive: true });
  const env = process.env.PROVISION_VRRP_PASS;
  process.env.PROVISION_VRRP_PASS = 'pw-ha-1';
  try {
    // The reference HA inventory, every host at the counting listener: check passes on it as it is.
    const ha = readFileSync('inventory/prod.yaml', 'utf8')
      .replace(/ansible_host: [\d.]+/g, 'ansible_host: 127.0.0.1')
      .replace('\n    ansible_user: ops\n', `\n    ansible_user: ops\n    ansible_port: ${port}\n`);
    const clean = path.join(dir, 'clean.yaml');
    writeFileSync(clean, ha);
    const ok = await provision(['check', clean]);
    assert.equal(ok.code, EXIT.OK, ok.out + ok.err);
    for (const [key, value, msg] of bad) {
      const inv = path.join(dir, `${key}.yaml`);
      const text = ha.replace(/(\n( +)ka68:\n)/, `$1$2  ${key}: ${JSON.stringify(value)}\n`);
      writeFileSync(inv, text);
      const line = text.split('\n').findIndex((l) => l.includes(`${key}:`)) + 1;
      const want = { msg, at: `${inv}:${line}:${text.split('\n')[line - 1].indexOf(':') + 3}` };
      assertBadInput(await provision(['check', inv]), want, `check, ${key}`);
      assertBadInput(await provision([inv, path.join(root, 'ok/play.yaml')]), want, `run, ${key}`);
    }
  } finally {
    if (env === undefined) delete process.env.PROVISION_VRRP_PASS;
    else process.env.PROVISION_VRRP_PASS = env;
  }
});

test('missing and unreadable files: inventory, playbook, extra-vars file (exit 3, the file named)', async () => {
  const ok = path.join(root, 'ok');
  const cases: Array<[string[], RegExp]> = [
    [[path.join(root, 'nope/hosts.yaml'), path.join(ok, 'play.yaml')], new RegExp(`^provision: ${root}/nope/hosts\\.yaml: inventory file not found$`)],
    [[path.join(ok, 'hosts.yaml'), path.join(root, 'nope.yaml')], new RegExp(`^provision: ${root}/nope\\.yaml: playbook not found$`)],
    // A directory is an inventory source (every file in it): play.yaml in it is not an inventory.
    [[ok, path.join(ok, 'play.yaml')], new RegExp(`^provision: ${ok}/play\\.yaml:2:1: not a valid inventory: read as YAML, an inventory must be a mapping .*also tried as INI: ${ok}/play\\.yaml:2:1: `)],
    [[path.join(ok, 'hosts.yaml'), ok], new RegExp(`^provision: ${ok}: playbook is a directory, not a file$`)],
    [[path.join(ok, 'hosts.yaml'), path.join(ok, 'play.yaml'), '-e', `@${root}/nope-vars.yaml`], /nope-vars\.yaml: extra-vars file not found/],
    [[path.join(ok, 'hosts.yaml'), path.join(ok, 'play.yaml'), '-e', 'x'], /--extra-vars "x": expected key=value/],
    [[path.join(ok, 'hosts.yaml'), path.join(ok, 'play.yaml'), '-e', '{"a": [1,'], /--extra-vars: not valid JSON\/YAML/],
    [[path.join(ok, 'hosts.yaml'), path.join(ok, 'play.yaml'), '--forks', '$(reboot)'], /--forks \$\(reboot\): expected a whole number/],
  ];
  for (const [args, msg] of cases) assertBadInput(await provision(args), { msg }, args.join(' '));
});

test('huge files are refused by size before they are parsed (generated here, not committed)', async () => {
  const dir = path.join(root, 'huge');
  mkdirSync(dir);
  const inv = path.join(dir, 'hosts.yaml');
  // 33 MiB: above the 8 MiB inventory limit (a 20 000-host inventory is about 2 MB).
  const filler = `# ${'x'.repeat(1021)}\n`;
  writeFileSync(inv, `all:\n  hosts:\n    h1:\n      ansible_host: 127.0.0.1\n      ansible_port: ${port}\n` + filler.repeat(33 * 1024));
  const pb = path.join(dir, 'play.yaml');
  writeFileSync(pb, `- name: huge\n  hosts: all\n  roles: [common]\n` + filler.repeat(5 * 1024));
  const t0 = Date.now();
  assertBadInput(await provision([inv, path.join(root, 'ok/play.yaml')]), { msg: /inventory file is \d+ bytes, larger than the 8388608-byte limit/, at: inv }, 'huge inventory');
  assertBadInput(await provision(['check', inv]), { msg: /larger than the 8388608-byte limit/, at: inv }, 'check huge inventory');
  assertBadInput(await provision([path.join(root, 'ok/hosts.yaml'), pb]), { msg: /playbook is \d+ bytes, larger than the 4194304-byte limit/, at: pb }, 'huge playbook');
  assertBadInput(await provision([path.join(root, 'ok/hosts.yaml'), path.join(root, 'ok/play.yaml'), '-e', `@${pb}`]), { msg: /larger than the 4194304-byte limit/, at: pb }, 'huge extra-vars file');
  assert.ok(Date.now() - t0 < 5000, `refused quickly (${Date.now() - t0} ms)`);
  // A large but acceptable inventory (5000 hosts) still loads; it is not the size that is refused.
  const big = path.join(dir, 'big.yaml');
  const hosts = Array.from({ length: 5000 }, (_, i) => `    web${i}: { ansible_host: 127.0.0.1, ansible_port: ${port} }\n`).join('');
  writeFileSync(big, `all:\n  hosts:\n${hosts}`);
  const r = await provision(['inventory', big, '--list']);
  assert.equal(r.code, 0, r.err);
  assert.equal(Object.keys(JSON.parse(r.out)._meta.hostvars).length, 5000);
});

test('nothing was created by any hostile value on this machine either', () => {
  for (const f of readdirSync('/tmp')) assert.ok(!f.startsWith('pwned-hostile'), `/tmp/${f} exists`);
});

test('control: the valid corpus inventory and playbook do connect (the listener sees it), exit 2', async () => {
  const r = await provision([path.join(root, 'ok/hosts.yaml'), path.join(root, 'ok/play.yaml')]);
  assert.equal(r.code, EXIT.HOST_FAILED, `${r.out}\n${r.err}`);
  assert.ok(r.connections >= 1, `the listener saw ${r.connections} connections`);
  assert.match(r.out, /UNREACHABLE h1: /);
  assert.match(r.out, /PLAY RECAP/);
});

function spawnCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PROVISION_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the real process (bin/provision.js): exit status 3 and a stack-free stderr', async () => {
  for (const c of ['inv-alias-bomb', 'inv-host-cmd-subst', 'pb-collection-key', 'inv-ansible-port-shell']) {
    const p = paths(CASES.find((x) => x.dir === c)!);
    const before = listener.connections;
    const r = await spawnCli([p.inventory, p.playbook]);
    assert.equal(r.code, EXIT.BAD_INPUT, `${c}: ${r.stderr}`);
    assert.equal(r.stdout, '', c);
    assert.match(r.stderr, /^provision: \S+:\d+:\d+: /, c);
    assert.doesNotMatch(r.stderr, /\n\s+at |Warning:|node_modules/, `${c}: ${r.stderr}`);
    assert.equal(listener.connections - before, 0, c);
  }
});

// ------------------------------------------------------------------------------------------------
// Template paths named by variables: a path out of the role's templates/ directory is refused.

function debianFacts(): Facts {
  return {
    hostname: 'box', os: { id: 'debian', versionId: '12', family: 'debian', prettyName: 'Debian GNU/Linux 12' }, packageManager: 'apt',
    packages: {}, services: {}, selinux: 'absent', firewall: 'none', interfaces: [], virtualization: 'none', container: false,
    keepalivedVersion: null, canSetClock: true, uid: 0, systemd: true,
  };
}

test('a template path that leaves the role\'s templates/ directory is refused; nothing is written', async () => {
  const role = path.resolve('test/fixtures/hostile/roles/template_by_var');
  const inv = await loadInventory(path.join(root, 'ok/hosts.yaml'));
  const h1 = inv.hosts.get('h1')!;
  const run = async (tpl: string) => {
    const t = new RecordingTransport('h1');
    const report = await runPlaybook({
      inventory: inv,
      playbook: { file: 'inline', plays: [{ name: 'p', hosts: ['h1'], roles: [{ name: 'template_by_var', vars: { tpl, dest: '/srv/out.conf', greeting: 'hi' }, tags: [], dir: role }], vars: {}, anyErrorsFatal: false, tags: [] }] },
      selectHosts: () => [h1],
      connect: async () => t,
      gatherFacts: async () => debianFacts(),
    });
    return { t, report };
  };
  for (const tpl of ['../../../../../../../../etc/passwd', '../index.ts', '/etc/shadow', 'sub/../../index.ts']) {
    const { t, report } = await run(tpl);
    const task = report.tasks.find((x) => x.task === 'template named by a variable')!;
    assert.equal(task.status, 'failed', tpl);
    assert.match(task.message!, /is outside the role's templates directory/, tpl);
    assert.equal(t.puts.length, 0, `${tpl}: nothing uploaded`);
    assert.doesNotMatch(JSON.stringify(report), /root:x:0:0|defineRole/, `${tpl}: no content of the file read`);
  }
  // Control: a template inside templates/ is rendered and uploaded.
  const { t, report } = await run('ok.ejs');
  assert.equal(report.hosts.h1.status, 'ok', JSON.stringify(report.tasks));
  assert.equal(t.files.get('/srv/out.conf')?.toString(), 'greeting = hi\n');
});

// ------------------------------------------------------------------------------------------------
// Positions of variables: where a host's value came from (inventory, group_vars/, host_vars/).

test('varPosition: the file, line and column that won for the host, nested paths, nearest existing part', async () => {
  const dir = path.join(root, 'positions');
  mkdirSync(path.join(dir, 'group_vars'), { recursive: true });
  mkdirSync(path.join(dir, 'host_vars'), { recursive: true });
  writeFileSync(path.join(dir, 'hosts.yaml'), ['all:', '  vars:', '    port: 1', '  children:', '    lb:', '      hosts:', '        ka67:', '          port: 3', '        ka68:', ''].join('\n'));
  writeFileSync(path.join(dir, 'group_vars/lb.yaml'), ['port: 2', 'ha:', '  networks:', '    - name: internal', '      vips:', '        - { address: 10.0.0.1, vrid: 1 }', '        - address: 10.0.0.2', '          vrid: 300', ''].join('\n'));
  writeFileSync(path.join(dir, 'host_vars/ka68.yml'), 'port: 4\n');
  const inv = await loadInventory(path.join(dir, 'hosts.yaml'));
  const at = (p: (string | number)[]) => {
    const pos = varPosition(inv, p);
    return pos && `${path.relative(dir, pos.file)}:${pos.line}:${pos.col}`;
  };
  assert.equal(at(['ka67', 'port']), 'hosts.yaml:8:17', 'host var in the inventory beats group_vars');
  assert.equal(at(['ka68', 'port']), 'host_vars/ka68.yml:1:7', 'host_vars beats everything');
  assert.equal(at(['ka67', 'ha', 'networks', 0, 'vips', 1, 'vrid']), 'group_vars/lb.yaml:8:17');
  assert.equal(at(['ka67', 'ha', 'networks', 0, 'vips', 0, 'vrid']), 'group_vars/lb.yaml:6:38');
  assert.equal(at(['ka67', 'ha', 'networks', 0, 'vips', 0, 'password']), 'group_vars/lb.yaml:6:11', 'a missing key: the nearest part that exists');
  assert.equal(at(['ka67']), 'hosts.yaml:7:9', 'the host itself');
  assert.equal(at(['ka67', 'no_such_var']), undefined);
  assert.equal(at(['nobody', 'port']), undefined);
});

// ------------------------------------------------------------------------------------------------
// Values that reach a remote command are quoted: the exact commands (recording transport), and a
// real sshd target that is not harmed (no marker file created, everything lands byte-exact).

/** A command's text outside single quotes (where the shell would expand or run things). */
function unquoted(cmd: string): string {
  let out = '';
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      assert.ok(end > i, `unterminated single quote in ${cmd}`);
      i = end;
      out += ' ';
    } else if (c === '\\') {
      i++;
      out += ' ';
    } else out += c;
  }
  return out;
}

const REC_EVIL = 'x\'; rm -rf /tmp/victim; $(touch /tmp/pwned-hostile-rec) `touch /tmp/pwned-hostile-rec2` "dq" \\ end\nsecond line';

test('recording transport: the exact commands sent for hostile paths, contents and arguments', async () => {
  const { hostileLayout } = await import('./fixtures/hostile/roles/hostile_values/index.js');
  const l = hostileLayout('/srv/hv', REC_EVIL);
  const inv = await loadInventory(path.join(root, 'ok/hosts.yaml'));
  const h1 = inv.hosts.get('h1')!;
  const t = new RecordingTransport('h1').on(/^test -e /, { code: 1 });
  const report = await runPlaybook({
    inventory: inv,
    playbook: {
      file: 'inline',
      plays: [{ name: 'p', hosts: ['h1'], roles: [{ name: 'hostile_values', vars: { hv_root: '/srv/hv', hv_evil: REC_EVIL }, tags: [], dir: path.resolve('test/fixtures/hostile/roles/hostile_values') }], vars: {}, anyErrorsFatal: false, tags: [] }],
    },
    selectHosts: () => [h1],
    connect: async () => t,
    gatherFacts: async () => debianFacts(),
  });
  assert.equal(report.hosts.h1.status, 'ok', JSON.stringify(report.tasks, null, 1));
  // Written out by hand: POSIX single quotes, each ' as '\'' — the newline stays inside the quotes.
  const DIR = "'/srv/hv/dir x'\\''; rm -rf /tmp/victim; $(touch /tmp/pwned-hostile-rec) `touch /tmp/pwned-hostile-rec2` \"dq\" \\ end\nsecond line'";
  const PRINTED = "'/srv/hv/dir x'\\''; rm -rf /tmp/victim; $(touch /tmp/pwned-hostile-rec) `touch /tmp/pwned-hostile-rec2` \"dq\" \\ end\nsecond line/printed'";
  const EVIL = "'x'\\''; rm -rf /tmp/victim; $(touch /tmp/pwned-hostile-rec) `touch /tmp/pwned-hostile-rec2` \"dq\" \\ end\nsecond line'";
  const cmds = t.commands;
  assert.ok(cmds.includes(`mkdir -p -- ${DIR}`), cmds.join('\n---\n'));
  assert.ok(cmds.includes(`chmod 0755 -- ${DIR}`), cmds.join('\n---\n'));
  assert.ok(cmds.includes(`test -e ${PRINTED}`), cmds.join('\n---\n'));
  assert.ok(cmds.includes(`printf '%s' ${EVIL} > ${PRINTED}`), cmds.join('\n---\n'));
  assert.ok(cmds.some((c) => c.startsWith(`for f in ${DIR}/.'file x'\\''; rm -rf _tmp_victim;`)), 'the stat of the file quotes the directory and the name');
  // Every command: the hostile text only ever inside single quotes.
  for (const c of cmds) {
    const bare = unquoted(c);
    for (const bad of ['pwned-hostile', 'rm -rf', 'victim', 'second line', '"dq"']) assert.ok(!bare.includes(bad), `"${bad}" outside quotes in: ${c}`);
  }
  // Files travel as data (path and bytes), never through a command line.
  const put = (p: string) => t.puts.find((x) => x.path === p);
  assert.deepEqual(put(l.file)?.content, l.content);
  assert.equal(put(l.templated)?.text, l.templatedContent);
  assert.equal(put(l.blocks)?.text, l.blocksContent);
  assert.equal(put(l.lines)?.text, l.linesContent);
  for (const c of cmds) assert.ok(!c.includes(l.content.subarray(-256).toString('latin1')), 'content never on a command line');
});

const sshSkip = sshdUnavailable();

test('real sshd: hostile host vars harm nothing, names and bytes land exactly, a second run changes nothing', { skip: sshSkip }, async () => {
  const { hostileLayout } = await import('./fixtures/hostile/roles/hostile_values/index.js');
  const sshd = await startSshd({ users: [TEST_USER] });
  const target = mkdtempSync(path.join(tmpdir(), 'provision-hostile-target-'));
  const id = `${process.pid}-${Date.now()}`;
  const markers = ['a', 'b', 'c', 'd'].map((m) => `/tmp/pwned-hostile-${id}-${m}`);
  const evil = `x'; rm -rf ${target}/victim; $(touch ${markers[0]}) \`touch ${markers[1]}\` "dq" \\ $HOME \${IFS} '$(touch ${markers[2]})'\nsecond line; touch ${markers[3]}`;
  try {
    writeFileSync(path.join(target, 'victim'), 'must survive\n');
    const inv = path.join(target, 'hosts.yaml');
    writeFileSync(inv, boxInventory(sshd, { hv_root: JSON.stringify(target), hv_evil: JSON.stringify(evil) }));
    const pb = path.resolve('test/fixtures/hostile/hostile-values.yaml');
    const first = await provision([inv, pb, '--json', path.join(target, 'r1.json')]);
    assert.equal(first.code, 0, `${first.out}\n${first.err}`);
    const l = hostileLayout(target, evil);
    for (const m of markers) assert.ok(!existsSync(m), `${m} was created: a value ran as shell code`);
    assert.equal(readFileSync(path.join(target, 'victim'), 'utf8'), 'must survive\n');
    assert.ok(statSync(l.dir).isDirectory(), 'the directory exists under its literal name');
    assert.deepEqual(readFileSync(l.file), l.content, 'binary content byte-exact, at the literal file name');
    assert.equal(statSync(l.file).mode & 0o777, 0o640);
    assert.equal(readFileSync(l.templated, 'utf8'), l.templatedContent);
    assert.equal(readFileSync(l.blocks, 'utf8'), l.blocksContent);
    assert.equal(readFileSync(l.lines, 'utf8'), l.linesContent);
    assert.equal(readFileSync(l.printed, 'utf8'), evil, 'the command argument arrived as one word, unchanged');
    const second = await provision([inv, pb, '--json', path.join(target, 'r2.json')]);
    assert.equal(second.code, 0, `${second.out}\n${second.err}`);
    const r2 = JSON.parse(readFileSync(path.join(target, 'r2.json'), 'utf8')) as { hosts: { box: { changed: number } }; tasks: unknown[] };
    assert.equal(r2.hosts.box.changed, 0, JSON.stringify(r2.tasks, null, 1));
    for (const m of markers) assert.ok(!existsSync(m), m);
  } finally {
    await sshd.stop();
    for (const m of markers) rmSync(m, { force: true });
    rmSync(target, { recursive: true, force: true });
  }
});
