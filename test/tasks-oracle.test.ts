// Ansible as the oracle for YAML tasks: one playbook (test/fixtures/tasks/oracle/site.yml) run by
// both tools on lab hosts. provision converges web1, a second run changes nothing, and
// ansible-playbook --check --diff agrees it is converged; Ansible converges web2 from scratch and
// provision --check finds nothing to change. Needs root (the lab) and ansible-playbook.
// Tag `pkg` is skipped on Ansible's side: its apt module needs python3-apt, which the lab's
// offline repository lacks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown, labSshExec, labUp } from '../src/lab/index.ts';
import { hasAnsible, parseAnsibleRecap } from '../bench/scale.ts';
import { measure } from '../bench/lib/measure.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PLAYBOOK = join(repoRoot, 'test/fixtures/tasks/oracle/site.yml');
const EXTRA = join(repoRoot, 'test/fixtures/tasks/oracle/extra.yml');
const INVENTORY = join(repoRoot, 'inventory/lab.yaml');
const skip =
  process.platform !== 'linux' || process.getuid?.() !== 0 ? 'the lab needs root on Linux' : !hasAnsible() ? 'ansible-playbook is not installed' : false;
const labOpts = { repoRoot, log: () => {} };
const dir = skip ? '' : mkdtempSync(join(tmpdir(), 'provision-oracle-'));

/** What the playbook leaves on a host, removed so each direction starts from nothing. */
const RESET = [
  'systemctl disable --now demo-http 2>/dev/null; rm -f /etc/systemd/system/demo-http.service; systemctl daemon-reload',
  'rm -rf /srv/demo /etc/demo.conf /etc/sysctl.d/60-demo.conf /etc/cron.d/demo',
  'userdel demo-alice 2>/dev/null; userdel demo-bob 2>/dev/null; groupdel demo 2>/dev/null; true',
  'sysctl -q -w net.ipv4.ip_nonlocal_bind=0',
].join('; ');

async function provision(host: string, ...extra: string[]) {
  const json = join(dir, `p-${host}-${Date.now()}.json`);
  const playbook = extra[0] === EXTRA ? extra.shift()! : PLAYBOOK;
  const m = await measure(process.execPath, [join(repoRoot, 'bin/provision.js'), INVENTORY, playbook, '--limit', host, '--json', json, ...extra], { cwd: repoRoot });
  const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: Record<string, { changed: number; failed: number }>; tasks: { task: string; status: string; message?: string }[] };
  const changed = report.tasks.filter((t) => t.status === 'changed').map((t) => `${t.task}: ${t.message ?? ''}`);
  return { code: m.code, ms: m.ms, host: report.hosts[host], changed, output: m.stdout + m.stderr };
}

async function ansible(host: string, ...extra: string[]) {
  const m = await measure('ansible-playbook', ['-i', INVENTORY, PLAYBOOK, '--limit', host, '--skip-tags', 'pkg', ...extra], {
    cwd: dir,
    env: { ...process.env, ANSIBLE_CONFIG: join(repoRoot, 'bench/ansible/ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
  });
  return { code: m.code, ms: m.ms, host: parseAnsibleRecap(m.stdout)[host], output: m.stdout + m.stderr };
}

/** Ansible's output from the first changed task on (its --diff included). */
const changedTasks = (out: string) => out.slice(Math.max(0, out.search(/^changed:/m) - 200), out.search(/^changed:/m) + 4000) || out.slice(-3000);

after(async () => {
  if (skip) return;
  if (process.env.PROVISION_KEEP_LAB !== '1') await labDown(labOpts);
  rmSync(dir, { recursive: true, force: true });
});

test('YAML tasks: provision converges, Ansible agrees; Ansible converges, provision agrees', { skip, timeout: 15 * 60_000 }, async (t) => {
  await labUp(labOpts);
  for (const h of ['web1', 'web2']) {
    const r = await labSshExec(h, `sudo sh -c '${RESET}'`, labOpts);
    assert.equal(r.code, 0, `reset of ${h}: ${r.stdout}${r.stderr}`);
  }

  const first = await provision('web1');
  assert.equal(first.code, 0, first.output);
  assert.ok(first.host.changed >= 10, first.output);
  const second = await provision('web1');
  assert.equal(second.code, 0, second.output);
  assert.equal(second.host.changed, 0, `second run changed: ${second.changed.join('\n')}`);
  const page = await labSshExec('web1', `python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8088/').read().decode(), end='')"`, labOpts);
  assert.equal(page.stdout, 'hello from web1 (Debian 12)\n');
  const sysctl = [await provision('web1', EXTRA), await provision('web1', EXTRA)];
  assert.deepEqual(sysctl.map((r) => [r.code, r.host.changed]), [[0, 2], [0, 0]], sysctl[0].output + sysctl[1].output);
  assert.equal((await labSshExec('web1', 'cat /etc/sysctl.d/60-demo.conf /proc/sys/net/ipv4/ip_nonlocal_bind /etc/cron.d/demo', labOpts)).stdout, "net.ipv4.ip_nonlocal_bind = 1\n1\n#Ansible: demo cleanup\n0 3 * * * root find /srv/demo/www -name '*.tmp' -delete\n");
  const who = await labSshExec('web1', 'id demo-alice; cat /srv/demo/fetched.html; ls /srv/demo/unpacked/www', labOpts);
  assert.match(who.stdout, /^uid=\d+\(demo-alice\) gid=\d+\(demo\) groups=\d+\(demo\)\nhello from web1 \(Debian 12\)\nindex\.html\n$/);

  const check = await ansible('web1', '--check', '--diff');
  assert.equal(check.code, 0, check.output);
  assert.equal(check.host?.changed, 0, `ansible --check --diff after provision:\n${changedTasks(check.output)}`);

  const converge = await ansible('web2');
  assert.equal(converge.code, 0, converge.output);
  assert.ok((converge.host?.changed ?? 0) >= 10, converge.output);
  const pcheck = await provision('web2', '--check', '--diff', '--skip-tags', 'pkg');
  assert.equal(pcheck.code, 0, pcheck.output);
  assert.equal(pcheck.host.changed, 0, `provision --check after Ansible:\n${pcheck.changed.join('\n')}`);

  t.diagnostic(`web1: provision converge ${first.ms} ms, no-op ${second.ms} ms; ansible --check --diff ${check.ms} ms`);
  t.diagnostic(`web2: ansible converge ${converge.ms} ms; provision --check ${pcheck.ms} ms`);
});
