// The catalogue's newer operations on a real host: test/fixtures/ops-lab converges one lab host
// (user, group, copy with src and backup, link, cron, get_url with a checksum from the host's
// own nginx, unarchive remote_src, wait_for port and path, service through its SysV script);
// the second run changes nothing. Needs root on Linux (the lab).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown, labSshExec, labUp } from '../src/lab/index.ts';
import { measure } from '../bench/lib/measure.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PLAYBOOK = join(repoRoot, 'test/fixtures/ops-lab/site.yaml');
const INVENTORY = join(repoRoot, 'inventory/lab.yaml');
const HOST = 'client-int';
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'the lab needs root on Linux' : false;
const labOpts = { repoRoot, log: () => {} };
const dir = skip ? '' : mkdtempSync(join(tmpdir(), 'provision-ops-lab-'));

after(async () => {
  if (skip) return;
  if (process.env.PROVISION_KEEP_LAB !== '1') await labDown(labOpts);
  rmSync(dir, { recursive: true, force: true });
});

async function provision(n: number) {
  const json = join(dir, `r${n}.json`);
  const m = await measure(process.execPath, [join(repoRoot, 'bin/provision.js'), INVENTORY, PLAYBOOK, '--limit', HOST, '--json', json], { cwd: repoRoot });
  const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: Record<string, { changed: number; failed: number }>; tasks: { task: string; status: string; message?: string }[] };
  return { code: m.code, ms: m.ms, report, output: m.stdout + m.stderr };
}

test('new operations converge a lab host; the second run is changed=0', { skip, timeout: 15 * 60_000 }, async () => {
  await labUp(labOpts);
  const first = await provision(1);
  assert.equal(first.code, 0, first.output);
  const changed = first.report.tasks.filter((t) => t.status === 'changed').map((t) => t.task);
  for (const t of ['app group', 'app user', 'archive downloaded', 'archive extracted', 'script', 'current', 'cron job', 'a setting']) assert.ok(changed.includes(t), `${t} changed on the first run: ${changed.join(', ')}`);
  assert.match(first.report.tasks.find((t) => t.task === 'nginx through its SysV script')!.message ?? '', /SysV service/);
  const second = await provision(2);
  assert.equal(second.code, 0, second.output);
  assert.equal(second.report.hosts[HOST].changed, 0, JSON.stringify(second.report.tasks.filter((t) => t.status !== 'ok')));
  const seen = (await labSshExec(HOST, 'id opsdemo; readlink /opt/opsdemo/current; cat /opt/opsdemo/tool/run.sh; cat /etc/cron.d/opsdemo', labOpts)).stdout;
  assert.match(seen, /uid=1990\(opsdemo\) gid=1990\(opsdemo\) groups=1990\(opsdemo\),4\(adm\)/);
  assert.match(seen, /\/opt\/opsdemo\/hello\.sh\necho tool\n#Ansible: opsdemo hello\n\*\/5 \* \* \* \* opsdemo \/opt\/opsdemo\/current/);
  console.log(`# ops-lab: first run ${first.ms} ms, second ${second.ms} ms`);
});
