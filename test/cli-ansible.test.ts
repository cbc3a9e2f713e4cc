// ansible-playbook's and ansible's command line against a loopback sshd: -i forms for every
// subcommand, ansible.cfg, --list-hosts/--list-tasks/--list-tags/--syntax-check (zero connections,
// the same text as ansible-playbook prints), --start-at-task, the ignored-variable warning, and
// `provision adhoc` (per-host blocks, exit codes, --json, -b, a catalogue module).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../src/cli/main.js';
import { promptSecret } from '../src/cli/prompt.js';
import { startSshd, sshdUnavailable, TEST_USER, type Sshd } from './helpers/sshd.js';
import { findOnPath, runAnsible, withAnsibleScratch } from './helpers/ansible.js';

const skip = sshdUnavailable();
let sshd: Sshd;
const dir = mkdtempSync(path.join(tmpdir(), 'provision-cli-'));
const inv = path.join(dir, 'hosts.ini');
const site = path.join(dir, 'site.yml');

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

before(async () => {
  if (skip) return;
  sshd = await startSshd({ users: [TEST_USER] });
  const conn = `ansible_host=127.0.0.1 ansible_port=${sshd.port} ansible_user=${TEST_USER} ansible_ssh_private_key_file=${sshd.clientKeyPath} provision_known_hosts_file=${sshd.knownHostsFile}`;
  writeFileSync(inv, `[web]\nweb1 ${conn}\nweb2 ${conn} ansible_connection=local\n[db]\ndb1 ${conn}\n`);
  writeFileSync(
    site,
    [
      '- name: web servers',
      '  hosts: web',
      '  tags: [play1]',
      '  gather_facts: false',
      '  tasks:',
      '    - name: First',
      '      debug: {msg: one}',
      '      tags: [a, pkg]',
      '    - name: Second',
      `      command: touch ${dir}/second-ran`,
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - name: Third',
      '      debug: {msg: three}',
      '',
    ].join('\n'),
  );
});
after(async () => {
  await sshd?.stop();
});

test('--list-hosts, --list-tasks, --list-tags, --syntax-check: ansible-playbook\'s text, zero connections', { skip }, async () => {
  const before = sshd.connectionCount();
  const ansible = findOnPath('ansible-playbook');
  for (const flag of ['--list-hosts', '--list-tasks', '--list-tags', '--syntax-check']) {
    const r = await cli(['-i', inv, site, flag], { PWD: dir });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^\nplaybook: /);
    if (ansible) {
      const theirs = await withAnsibleScratch((cwd, cfg) => runAnsible(ansible, ['-i', inv, site, flag], cwd, cfg));
      // ansible-playbook lists a play's hosts from a Python set: their order varies run to run.
      const sortHosts = (s: string) => s.replace(/(hosts \(\d+\):\n)((?: {6}\S+\n?)+)/g, (_, h: string, l: string) => h + l.trimEnd().split('\n').sort().join('\n') + '\n');
      const norm = (s: string) => sortHosts(s.replace(/^playbook: .*$/m, 'playbook: X') + '\n').trimEnd();
      assert.equal(norm(r.out), norm(theirs), flag);
    }
  }
  const limited = await cli(['-i', inv, site, '--list-hosts', '-l', 'web1']);
  assert.match(limited.out, /hosts \(1\):\n {6}web1/);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sshd.connectionCount(), before, 'nothing connected');
});

test('-i for inventory, check and facts; ansible.cfg inventory; a clear error without one', { skip }, async () => {
  const list = await cli(['inventory', '-i', inv, '--list']);
  assert.equal(list.code, 0, list.err);
  assert.deepEqual(JSON.parse(list.out).web, { hosts: ['web1', 'web2'] });
  const several = await cli(['inventory', '-i', inv, '-i', 'extra1,extra2:2222,', '--list']);
  assert.deepEqual(JSON.parse(several.out).ungrouped, { hosts: ['extra1', 'extra2'] });
  // check reads the -i inventory: an INI value it refuses is named at file:line.
  const chk = await cli(['check', '-i', inv]);
  assert.equal(chk.code, 0, chk.err);
  const badPort = path.join(dir, 'badport.ini');
  writeFileSync(badPort, '[web]\nw1 ansible_port=99999\n');
  const bad = await cli(['check', '-i', badPort]);
  assert.equal(bad.code, 3);
  assert.match(bad.err, new RegExp(`${badPort}:2:1: host w1: ansible_port must be a port number`));
  const cfg = path.join(dir, 'ansible.cfg');
  writeFileSync(cfg, '[defaults]\nhost_key_checking = False\ninventory = hosts.ini  ; relative to the cfg\n');
  const fromCfg = await cli(['inventory', '--list'], { ANSIBLE_CONFIG: cfg });
  assert.equal(fromCfg.code, 0, fromCfg.err);
  assert.deepEqual(JSON.parse(fromCfg.out).db, { hosts: ['db1'] });
  writeFileSync(path.join(dir, 'empty.cfg'), '[defaults]\n');
  const none = await cli(['inventory', '--list'], { ANSIBLE_CONFIG: path.join(dir, 'empty.cfg') });
  assert.equal(none.code, 3);
  assert.match(none.err, /no inventory given: pass one \(provision -i hosts\.ini \.\.\.\), or set \[defaults\] inventory in ansible\.cfg .*empty\.cfg has none/);
  const facts = await cli(['facts', '-i', inv, '-l', 'db1', '--json']);
  assert.equal(facts.code, 0, facts.err);
  assert.ok(JSON.parse(facts.out).db1.os);
});

test('a run with ansible-playbook flags: -i, -l, -C, -D, --start-at-task; ignored variables named once', { skip }, async () => {
  const r = await cli(['-i', inv, site, '-l', 'web', '-C', '-D', '--persist', '0']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(existsSync(path.join(dir, 'second-ran')), false, '--check ran nothing');
  assert.equal(r.err.match(/inventory variable ansible_connection is not used by provision/g)?.length, 1, r.err);
  const s = await cli(['-i', inv, site, '-l', 'db1', '--start-at-task', 'Third', '--persist', '0']);
  assert.equal(s.code, 0, s.err + s.out);
  assert.doesNotMatch(s.out, /First|Second/);
  const bad = await cli(['-i', inv, site, '--start-at-task', 'Nope']);
  assert.equal(bad.code, 3);
  assert.match(bad.err, /--start-at-task "Nope": no task of that name/);
  // A playbook alone, the inventory from ansible.cfg (written by the test above).
  const viaCfg = await cli([site, '-l', 'db1', '--list-hosts'], { ANSIBLE_CONFIG: path.join(dir, 'ansible.cfg') });
  assert.equal(viaCfg.code, 0, viaCfg.err);
  assert.match(viaCfg.out, /play #2 \(all\): all\tTAGS: \[\]\n {4}pattern: \['all'\]\n {4}hosts \(1\):\n {6}db1/);
  const v = await cli(['--version']);
  assert.match(v.out, /^provision \d+\.\d+\.\d+/);
});

test('adhoc: a block per host, exit 2 when one fails, --json, -b, a catalogue module', { skip }, async () => {
  const ok = await cli(['adhoc', 'web', '-i', inv, '-m', 'shell', '-a', 'echo out-$((6*7)); echo err >&2', '--persist', '0']);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^web1 \| CHANGED \| rc=0 >>\nout-42\nstderr:\nerr\nweb2 \| CHANGED \| rc=0 >>\nout-42\nstderr:\nerr$/);
  const json = path.join(dir, 'adhoc.json');
  const fail = await cli(['adhoc', 'all', '-i', inv, '-a', 'test -e /etc/hostname-nope', '-f', '2', '--json', json, '--persist', '0']);
  assert.equal(fail.code, 2);
  assert.match(fail.out, /db1 \| FAILED \| rc=1 >>\nnon-zero return code/);
  const report = JSON.parse(readFileSync(json, 'utf8'));
  assert.deepEqual(Object.keys(report), ['web1', 'web2', 'db1'], 'inventory order');
  assert.equal(report.db1.rc, 1);
  const root = await cli(['adhoc', 'db1', '-i', inv, '-b', '-m', 'command', '-a', 'id -u', '--persist', '0']);
  assert.match(root.out, /^db1 \| CHANGED \| rc=0 >>\n0$/);
  const touch = path.join(dir, 'touched');
  const t1 = await cli(['adhoc', 'db1', '-i', inv, '-b', '-m', 'file', '-a', `path=${touch} state=touch`, '--persist', '0']);
  assert.equal(t1.code, 0, t1.err + t1.out);
  assert.ok(existsSync(touch));
  const badModule = await cli(['adhoc', 'db1', '-i', inv, '-m', 'fiel', '-a', 'path=/x']);
  assert.equal(badModule.code, 3);
  assert.match(badModule.err, /unknown module "fiel" \(did you mean "file"\?\)/);
});

test('-K/-k prompts read a line without a terminal and never echo it', async () => {
  const input = new PassThrough() as unknown as NodeJS.ReadStream;
  const writes: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const p = promptSecret('BECOME password: ', input);
    (input as unknown as PassThrough).write('s3cret\n');
    assert.equal(await p, 's3cret');
  } finally {
    process.stderr.write = orig;
  }
  assert.equal(writes.join(''), 'BECOME password: ');
});
