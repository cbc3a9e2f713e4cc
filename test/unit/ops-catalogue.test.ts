// The operation catalogue: every role method is an entry, options are checked when a task is
// called (unknown key with the closest name, wrong type, value outside an enum) before anything
// is sent, and the failure names the role's file:line and the task.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/runner/playbook.js';
import { runPlaybook } from '../../src/runner/run.js';
import { RecordingTransport } from '../../src/transport/recording.js';
import { emptyFacts } from '../../src/facts/index.js';
import { CATALOGUE } from '../../src/ops/catalogue.js';
import { problems, closest } from '../../src/ops/schema.js';

let dir = '';
const role = (name: string, body: string) => {
  mkdirSync(path.join(dir, 'roles', name), { recursive: true });
  writeFileSync(path.join(dir, 'roles', name, 'index.ts'), body);
};

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'provision-catalogue-'));
  writeFileSync(path.join(dir, 'inventory.yaml'), 'all:\n  hosts:\n    a: {}\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(roleName: string) {
  writeFileSync(path.join(dir, 'site.yaml'), `- hosts: all\n  roles: [${roleName}]\n`);
  const inv = await loadInventory(path.join(dir, 'inventory.yaml'));
  const playbook = await loadPlaybook(path.join(dir, 'site.yaml'));
  const transports: RecordingTransport[] = [];
  const report = await runPlaybook({
    inventory: inv,
    playbook,
    selectHosts: () => [...inv.hosts.values()],
    connect: async (h) => {
      const t = new RecordingTransport(h.name);
      transports.push(t);
      return t;
    },
    gatherFacts: async () => emptyFacts(),
  });
  return { report, log: transports.flatMap((t) => t.log) };
}

test('problems: unknown key with the closest name, wrong type, enum value, missing required', () => {
  const s = CATALOGUE.file.options;
  assert.deepEqual(problems('file', s, { path: '/x', content: 'a' }), []);
  assert.match(problems('file', s, { path: '/x', contnet: 'a' })[0], /unknown option "contnet" \(did you mean "content"\?\)/);
  assert.match(problems('file', s, { path: 7 })[0], /path must be string, got number 7/);
  assert.match(problems('service', CATALOGUE.service.options, { name: 'x', state: 'restart' })[0], /state is "restart", not one of .*'restarted'.* \(did you mean 'restarted'\?\)/);
  assert.match(problems('file', s, {})[0], /option "path" is required/);
  assert.equal(closest('zzzzzz', ['content', 'path']), undefined);
});

test('a misspelled option fails its task with the role file:line and the suggestion; nothing of it reaches the host', async () => {
  role('typo', `export default { name: 'typo', async tasks(r) {
  await r.directory('first', { path: '/tmp/ok' });
  await r.file('motd', { path: '/etc/motd', contnet: 'hi' });
  await r.file('never reached', { path: '/etc/x', content: 'x' });
} };\n`);
  const { report, log } = await run('typo');
  const failed = report.tasks.find((t) => t.status === 'failed')!;
  assert.equal(failed.task, 'motd');
  assert.equal(failed.role, 'typo');
  assert.match(failed.location!, /roles\/typo\/index\.ts:3:\d+$/);
  assert.match(failed.message!, /^file: unknown option "contnet" \(did you mean "content"\?\)/);
  assert.equal(report.hosts.a.status, 'failed');
  assert.match(report.hosts.a.message!, /^typo : motd \(.*roles\/typo\/index\.ts:3:\d+\): file: unknown option "contnet"/);
  assert.ok(!log.some((e) => (e.kind === 'exec' ? e.cmd : e.path).includes('/etc/motd')), JSON.stringify(log));
  assert.ok(log.some((e) => e.kind === 'exec' && e.cmd.includes('/tmp/ok')), 'the task before it ran');
});

test("state: 'restart' is refused at run time (it was silently ok)", async () => {
  role('restart', `export default { name: 'restart', async tasks(r) {
  await r.service('nginx', { name: 'nginx', state: 'restart' });
} };\n`);
  const { report, log } = await run('restart');
  assert.equal(report.hosts.a.status, 'failed');
  assert.match(report.tasks[0].message!, /did you mean 'restarted'/);
  assert.equal(log.length, 0);
});

test('every operation works the same in a handler', async () => {
  role('handler', `export default { name: 'handler', handlers: {
  h: async (r) => { await r.file('from handler', { path: '/tmp/h', content: 'h' }); await r.line('line in handler', { path: '/tmp/l', line: 'x' }); },
}, async tasks(r) {
  await r.file('trigger', { path: '/tmp/t', content: 't' }, { notify: 'h' });
} };\n`);
  const { report } = await run('handler');
  assert.deepEqual(report.tasks.map((t) => [t.task, t.status]), [['trigger', 'changed'], ['from handler', 'changed'], ['line in handler', 'changed']]);
});

test('an exception in role code names the role, the task and the file:line where it was thrown (with the stack)', async () => {
  role('throws', `export default { name: 'throws', async tasks(r) {
  await r.directory('first', { path: '/tmp/ok' });
  const cfg = r.vars.missing;
  await r.file('uses it', { path: '/etc/x', content: String(cfg.port) });
} };\n`);
  const { report } = await run('throws');
  const t = report.tasks.find((x) => x.status === 'failed')!;
  assert.equal(t.task, 'role code after "first"');
  assert.equal(t.role, 'throws');
  assert.match(t.location!, /roles\/throws\/index\.ts:4:\d+$/);
  assert.match(t.message!, /Cannot read properties of undefined \(reading 'port'\)/);
  assert.match(t.stack!, /TypeError[\s\S]*index\.ts:4/);
  assert.match(report.hosts.a.message!, /^throws : role code after "first" \(.*index\.ts:4:\d+\): Cannot read properties/);

  role('throws_in_task', `export default { name: 'throws_in_task', async tasks(r) {
  await r.task('custom', async () => {
    throw new Error('boom');
  });
} };\n`);
  const second = await run('throws_in_task');
  const f = second.report.tasks[0];
  assert.equal(f.task, 'custom');
  assert.match(f.location!, /throws_in_task\/index\.ts:3:\d+$/, 'where it threw, not where the task was called');
});

test('docs/operations.md is the catalogue: every operation, every option with its type and default (regenerate: node --import tsx src/ops/docs.ts)', async () => {
  const { readFileSync } = await import('node:fs');
  const { operationsDoc, DOC_FILE } = await import('../../src/ops/docs.js');
  const doc = readFileSync(DOC_FILE, 'utf8');
  assert.equal(doc, operationsDoc(), 'docs/operations.md differs from the catalogue: run node --import tsx src/ops/docs.ts');
  for (const [name, op] of Object.entries(CATALOGUE)) {
    assert.match(doc, new RegExp(`^## r\\.${name}$`, 'm'));
    for (const key of Object.keys(op.options)) assert.ok(doc.includes(`| \`${key}\``), `${name}.${key} documented`);
    assert.ok(op.example.includes(`r.${name}(`), `${name}: the example calls r.${name}`);
  }
});
