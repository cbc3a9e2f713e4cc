// Read-ahead (src/runner/read-ahead.ts): a run answers its tasks' reads from one batch per
// host taken at the start, only while nothing has been written anywhere, and sees changes
// made between runs. Real roles run by the real runner over a LocalTransport (commands run
// by `sh` on this machine, on a temporary directory), so every answer is a real one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, chmodSync, existsSync, symlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/runner/playbook.js';
import { runPlaybook } from '../../src/runner/run.js';
import { ReadAhead, ReadAheadStore, MAX_READS_PER_HOST } from '../../src/runner/read-ahead.js';
import { emptyFacts } from '../../src/facts/index.js';
import type { FactCall } from '../../src/facts/fact.js';
import { writeJsonReport } from '../../src/report/recap.js';
import { LocalTransport } from '../helpers/local-transport.js';
import type { EventSink } from '../../src/runner/events.js';

let dir = '';
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'provision-readahead-'));
  mkdirSync(path.join(dir, 'roles', 'files'), { recursive: true });
  // Each host manages two files in its own directory (vars.root); the second task also reads a value.
  writeFileSync(
    path.join(dir, 'roles', 'files', 'index.ts'),
    `import { fact } from ${JSON.stringify(path.resolve('src/ops/remote.ts'))};
import { fileContent } from ${JSON.stringify(path.resolve('src/facts/catalog.ts'))};
export default { name: 'files', facts: [], async tasks(r) {
  const root = r.vars.root;
  await r.file('first', { path: root + '/a.conf', content: 'a\\n', mode: '0644' });
  await r.file('second', { path: root + '/b.conf', content: 'b\\n', mode: '0644' });
  await r.task('read a value', async (c) => {
    const v = await fact(c, fileContent, root + '/value');
    return { changed: false, message: v === null ? 'none' : v.trim() };
  });
} };\n`,
  );
  for (const h of ['x', 'y']) mkdirSync(path.join(dir, h));
  writeFileSync(
    path.join(dir, 'inventory.yaml'),
    `all:\n  hosts:\n    x: { root: ${path.join(dir, 'x')} }\n    y: { root: ${path.join(dir, 'y')} }\n`,
  );
  writeFileSync(path.join(dir, 'site.yaml'), '- hosts: all\n  serial: 1\n  roles: [files]\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** One run of the playbook; `recorded` = the last run's reads (undefined: read-ahead off). */
async function run(recorded?: Map<string, FactCall[]>, emit?: EventSink) {
  const inv = await loadInventory(path.join(dir, 'inventory.yaml'));
  const playbook = await loadPlaybook(path.join(dir, 'site.yaml'));
  const transports = new Map<string, LocalTransport>();
  const readAhead = recorded ? new ReadAhead(recorded) : undefined;
  const report = await runPlaybook({
    inventory: inv,
    playbook,
    selectHosts: () => [...inv.hosts.values()],
    connect: async (h) => {
      let t = transports.get(h.name);
      if (!t) transports.set(h.name, (t = new LocalTransport(h.name)));
      return t;
    },
    gatherFacts: async () => emptyFacts(),
    prefetch: true,
    readAhead,
    emit,
  });
  const reads = new Map([...inv.hosts.keys()].map((h) => [h, readAhead?.reads(h) ?? []]));
  const commands = new Map([...transports].map(([h, t]) => [h, t.commands.length]));
  return { report, reads, commands, readAhead };
}

const messageOf = (r: Awaited<ReturnType<typeof run>>, host: string) => r.report.tasks.find((t) => t.host === host && t.task === 'read a value')?.message;

test('a no-op run answers every read from one batch per host; the reads recorded are those the tasks asked', async () => {
  const first = await run(new Map()); // converges; nothing recorded yet: every read is live
  assert.equal(first.report.hosts.x.changed, 2);
  assert.deepEqual(first.readAhead!.stats, { served: 0, live: 6, batches: 0 });
  assert.equal(first.reads.get('x')!.length, 3, 'two file checks and the value');
  assert.ok(first.reads.get('x')!.every((c) => JSON.stringify(c).includes(path.join(dir, 'x'))), 'each host records its own reads');
  assert.deepEqual(first.reads.get('x')!.slice(0, 2), [{ fact: 'file', args: [path.join(dir, 'x', 'a.conf')] }, { fact: 'file', args: [path.join(dir, 'x', 'b.conf')] }], 'file checks are recorded as the file fact and its path');

  const second = await run(first.reads);
  assert.equal(second.report.hosts.x.changed + second.report.hosts.y.changed, 0, JSON.stringify(second.report.tasks));
  assert.deepEqual(second.readAhead!.stats, { served: 6, live: 0, batches: 2 });
  assert.deepEqual(Object.fromEntries(second.commands), { x: 1, y: 1 }, 'one command per host: the batch');
  assert.deepEqual(second.reads, first.reads);
  assert.equal(messageOf(second, 'x'), 'none');
});

test('a change made between runs is seen: the batch runs at the start of the run, and reads after the first write go live', async () => {
  const base = await run(new Map());
  const recorded = (await run(base.reads)).reads;
  writeFileSync(path.join(dir, 'y', 'b.conf'), 'edited by hand\n');
  writeFileSync(path.join(dir, 'x', 'value'), 'v1\n');
  const r = await run(recorded);
  assert.equal(messageOf(r, 'x'), 'v1', 'x (before any write) read the value from the batch');
  assert.deepEqual(
    r.report.tasks.filter((t) => t.changed).map((t) => `${t.host}:${t.task}`),
    ['y:second'],
    'the hand edit is found and repaired',
  );
  assert.equal(readFileSync(path.join(dir, 'y', 'b.conf'), 'utf8'), 'b\n');
  // x ran first (serial: 1): its three reads were served; y's first was served, then its write
  // of b.conf ended read-ahead and y's last read went to the host.
  assert.deepEqual(r.readAhead!.stats, { served: 5, live: 1, batches: 2 });
});

test('after a write on one host, another host\'s reads go live too, and see what changed meanwhile', async () => {
  const recorded = (await run(new Map())).reads;
  writeFileSync(path.join(dir, 'x', 'a.conf'), 'drift\n');
  // y's batch runs at the start; y's value changes after that but before y's turn (serial),
  // while x writes (repairs a.conf): y must read the value live and see v2.
  writeFileSync(path.join(dir, 'y', 'value'), 'v1\n');
  const { report, readAhead } = await run(recorded, (e) => {
    if (e.type === 'task-end' && e.result.host === 'x' && e.result.task === 'first') writeFileSync(path.join(dir, 'y', 'value'), 'v2\n');
  });
  assert.equal(report.tasks.find((t) => t.host === 'x' && t.task === 'first')?.status, 'changed');
  assert.equal(report.tasks.find((t) => t.host === 'y' && t.task === 'read a value')?.message, 'v2');
  assert.equal(readAhead!.stats.served, 1, 'only x\'s first read (the one that found the drift) came from the batch');
});

test('the store: a whole run replaces a host\'s record, a partial one adds to it; capped; kept only if private', async () => {
  const cache = path.join(dir, 'cache');
  const pe = (p: string): FactCall => ({ fact: 'pathExists', args: [`/${p}`] });
  const store = new ReadAheadStore({ inventory: '/i.yaml', playbook: '/p.yaml' }, cache);
  assert.deepEqual(await store.load(), new Map(), 'no record yet');
  await store.save(new Map(), [{ host: 'a', reads: [pe('r1'), pe('r2')], whole: true }, { host: 'b', reads: [pe('s1')], whole: true }]);
  let m = await store.load();
  assert.deepEqual(Object.fromEntries(m), { a: [pe('r1'), pe('r2')], b: [pe('s1')] });
  await store.save(m, [{ host: 'a', reads: [pe('r3')], whole: false }]);
  m = await store.load();
  assert.deepEqual(m.get('a'), [pe('r3'), pe('r1'), pe('r2')], 'partial: added in front');
  assert.deepEqual(m.get('b'), [pe('s1')], 'a host not in the run keeps its record');
  await store.save(m, [{ host: 'a', reads: [pe('r4')], whole: true }]);
  assert.deepEqual((await store.load()).get('a'), [pe('r4')], 'whole: replaced');
  const many = Array.from({ length: MAX_READS_PER_HOST + 10 }, (_, i) => pe(`c${i}`));
  await store.save(new Map(), [{ host: 'a', reads: many, whole: true }]);
  assert.equal((await store.load()).get('a')!.length, MAX_READS_PER_HOST);
  // Its facts run as root on the hosts: a record others could write is not used.
  const other = new ReadAheadStore({ inventory: '/i.yaml', playbook: '/other.yaml' }, cache);
  await other.save(new Map(), [{ host: 'a', reads: [pe('id')], whole: true }]);
  chmodSync(other.file, 0o666);
  const warnings: string[] = [];
  assert.deepEqual(await other.load((w) => warnings.push(w)), new Map());
  assert.match(warnings.join('\n'), /writable by others \(mode 666\)/);
  chmodSync(other.file, 0o600);
  chmodSync(path.dirname(other.file), 0o770);
  assert.deepEqual(await other.load((w) => warnings.push(w)), new Map());
  assert.match(warnings[1], /read-ahead is writable by others \(mode 770\)/);
  // Keys differ per inventory, playbook and tag selection (the order of the tags aside).
  assert.notEqual(store.file, other.file);
  const tagged = (tags?: string[], skipTags?: string[]) => new ReadAheadStore({ inventory: '/i.yaml', playbook: '/p.yaml', tags, skipTags }, cache).file;
  assert.notEqual(tagged(undefined, ['verify']), store.file);
  assert.notEqual(tagged(['verify']), tagged(undefined, ['verify']));
  assert.equal(tagged(['a', 'b']), tagged(['b', 'a']));
  assert.equal(tagged([], []), store.file);
});

test('a record holds facts and arguments, never command text: appended commands are dropped, arguments stay quoted, --check writes nothing', async () => {
  const cache = path.join(dir, 'cache-forged');
  const store = new ReadAheadStore({ inventory: path.join(dir, 'inventory.yaml'), playbook: path.join(dir, 'site.yaml') }, cache);
  const x = path.join(dir, 'x');
  await store.save(new Map(), [{ host: 'x', reads: [{ fact: 'file', args: [path.join(x, 'a.conf')] }], whole: true }]);
  const pwned = path.join(dir, 'pwned');
  // The same user edits the record as issue 19 finding 8 did: command text, an unknown fact, a
  // fact with a shell payload as its argument, and a fact with the wrong number of arguments.
  const rec = JSON.parse(readFileSync(store.file, 'utf8'));
  rec.hosts.x.push(`touch ${pwned}`, { fact: 'command', args: [`touch ${pwned}`] }, { fact: 'pathExists', args: [`$(touch ${pwned})`] }, { fact: 'file', args: ['/a', `; touch ${pwned}`] });
  writeFileSync(store.file, JSON.stringify(rec));
  const loaded = await store.load();
  assert.deepEqual(loaded.get('x'), [{ fact: 'file', args: [path.join(x, 'a.conf')] }, { fact: 'pathExists', args: [`$(touch ${pwned})`] }]);
  const inv = await loadInventory(path.join(dir, 'inventory.yaml'));
  const playbook = await loadPlaybook(path.join(dir, 'site.yaml'));
  const t = new LocalTransport('x');
  rmSync(path.join(x, 'a.conf'), { force: true });
  const report = await runPlaybook({
    inventory: inv,
    playbook,
    selectHosts: () => [inv.hosts.get('x')!],
    connect: async () => t,
    gatherFacts: async () => emptyFacts(),
    readAhead: new ReadAhead(loaded),
    prefetch: true,
    check: true,
  });
  assert.equal(report.hosts.x.status, 'ok', JSON.stringify(report.tasks));
  assert.ok(!existsSync(pwned), 'no recorded text ran');
  assert.ok(!existsSync(path.join(x, 'a.conf')), '--check wrote nothing');
  assert.ok(t.commands.every((c) => !c.includes(`touch ${pwned}`) || c.includes(`'$(touch ${pwned})'`)), t.commands.join('\n'));
});

test('saving never follows a planted symlink, and refuses a cache directory others can write (also the --json report)', async () => {
  const victim = path.join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  const cache = path.join(dir, 'cache-planted');
  const store = new ReadAheadStore({ inventory: '/i.yaml', playbook: '/planted.yaml' }, cache);
  mkdirSync(path.dirname(store.file), { recursive: true, mode: 0o700 });
  // The names the old code used for its temp file (pid-based): symlinks to the victim.
  symlinkSync(victim, `${store.file}.${process.pid}.tmp`);
  await store.save(new Map(), [{ host: 'a', reads: [{ fact: 'pathExists', args: ['/x'] }], whole: true }]);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  assert.equal((await store.load()).get('a')!.length, 1);
  // A cache directory others may write is refused for saving, not only for loading.
  chmodSync(path.dirname(store.file), 0o777);
  await assert.rejects(store.save(new Map(), [{ host: 'a', reads: [], whole: true }]), /writable by others \(mode 777\)/);
  chmodSync(path.dirname(store.file), 0o700);
  // The --json report: a symlink planted where the old code put its temp file is not followed.
  const json = path.join(dir, 'report.json');
  symlinkSync(victim, `${json}.tmp-${process.pid}`);
  await writeJsonReport(json, { duration: 0, interrupted: false, hosts: {}, tasks: [] } as never);
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  assert.equal(statSync(json).mode & 0o777, 0o600);
  assert.equal(JSON.parse(readFileSync(json, 'utf8')).duration, 0);
});
