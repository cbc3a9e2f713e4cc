// The run's one fact cache (src/facts/cache.ts) over the real gather command (gatherFacts):
// per host each section gathered once, the planned ones together in the first round trip,
// shared by concurrent callers, retried after a failure; one Facts object per host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECTIONS, emptyFacts, factsSummary, gatherFacts, restrictFacts, splitSections, type SectionName } from '../../src/facts/index.js';
import { FactCache } from '../../src/facts/cache.js';
import type { Host } from '../../src/inventory/types.js';
import { HostError } from '../../src/errors.js';
import type { Shell } from '../../src/transport/quote.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'facts');
const CAPTURED = splitSections(readFileSync(path.join(FIX, 'debian12-controller.txt'), 'utf8'));

/**
 * A host that answers the gather script from the captured Debian sections: it prints a section
 * when the command asks for it (the script text holds `m <marker>`), and answers services
 * from `units` (unknown names: not-found). Tests change `sections`/`units` to simulate changes.
 */
class FakeHost implements Transport {
  readonly commands: string[] = [];
  readonly opts: ExecOptions[] = [];
  sections = new Map(CAPTURED);
  units: Record<string, [string, string]> = { nginx: ['active', 'enabled'], keepalived: ['inactive', 'disabled'] };
  delayMs = 5;
  fail: ((n: number) => ExecResult | Error | undefined) | undefined;
  constructor(readonly host = 'h1') {}
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  async put(): Promise<void> {}
  async exec(cmd: Shell, opts: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push(cmd.text);
    this.opts.push(opts);
    await new Promise((r) => setTimeout(r, this.delayMs));
    const f = this.fail?.(this.commands.length);
    if (f instanceof Error) throw f;
    if (f) return f;
    let out = '@@provision:begin@@\n';
    for (const [name, body] of this.sections) {
      if (name === 'begin' || name === 'end' || name === 'services' || name === 'init') continue;
      if (cmd.text.includes(`m ${name}`)) out += `@@provision:${name}@@\n${body}\n`;
    }
    if (cmd.text.includes('m services')) {
      out += '@@provision:init@@\nbooted=yes\npid1=systemd\n@@provision:services@@\n';
      const m = /for u in ([^;]*); do/.exec(cmd.text);
      // Units asked only for the firewall section's sake are not printed (case $u in a|b) x=1).
      const hidden = /case \$u in ([^)]*)\) x=1/.exec(cmd.text)?.[1].split('|') ?? [];
      for (const u of m ? m[1].split(' ').filter((x) => x && !hidden.includes(x)) : []) {
        const st = Object.hasOwn(this.units, u) ? this.units[u] : undefined;
        out += st ? `unit=${u}\nLoadState=loaded\nActiveState=${st[0]}\nUnitFileState=${st[1]}\n` : `unit=${u}\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n`;
      }
    }
    out += '@@provision:end@@\n';
    return { stdout: out, stderr: '', code: 0 };
  }
  /** Which sections a command asked for. */
  asked(i: number): string[] {
    return [...this.commands[i].matchAll(/\bm ([a-z-]+)/g)].map((m) => m[1]).filter((m) => m !== 'begin' && m !== 'end');
  }
}

const host = (name: string) => ({ name }) as Host;
const h1 = host('h1');
/** The cache as the CLI builds it: the real gather command, with these services. */
const newCache = (services: string[] = []) => new FactCache((t, _h, sections) => gatherFacts(t, { sections, services }));
const all = SECTIONS;

test('concurrent callers share one gather; later calls hit the cache', async () => {
  const t = new FakeHost();
  const cache = newCache(['nginx', 'keepalived']);
  const [a, b, c] = await Promise.all([cache.get(t, h1, all), cache.get(t, h1, all), cache.get(t, h1, ['os'])]);
  assert.equal(t.commands.length, 1);
  assert.equal(a, b);
  assert.equal(b, c);
  assert.equal(await cache.get(t, h1, all), a);
  assert.equal(t.commands.length, 1);
  assert.equal(a.os.id, 'debian');
  assert.deepEqual(a.services.nginx, { active: 'active', enabled: 'enabled', load: 'loaded' });
  assert.equal(a.missingSections, undefined);
});

test('gathers without sudo by default, with the timeout, in the persistent shell when free; options honoured', async () => {
  const t = new FakeHost();
  await gatherFacts(t);
  assert.deepEqual(t.opts[0], { sudo: false, timeoutMs: 60_000, reuseShell: true });
  const t2 = new FakeHost();
  await gatherFacts(t2, { sudo: true, timeoutMs: 5000 });
  assert.deepEqual(t2.opts[0], { sudo: true, timeoutMs: 5000, reuseShell: true });
});

test('hosts are cached separately', async () => {
  const cache = newCache();
  const t1 = new FakeHost('h1');
  const t2 = new FakeHost('h2');
  await Promise.all([cache.get(t1, h1, all), cache.get(t2, host('h2'), all), cache.get(t1, h1, all)]);
  assert.equal(t1.commands.length, 1);
  assert.equal(t2.commands.length, 1);
});

test('a failed gather rejects every caller that shared it; the next get tries again', async () => {
  const t = new FakeHost();
  t.fail = (n) => (n === 1 ? new Error('channel closed') : undefined);
  const cache = newCache();
  const results = await Promise.allSettled([cache.get(t, h1, all), cache.get(t, h1, all)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  assert.equal(t.commands.length, 1);
  const f = await cache.get(t, h1, all);
  assert.equal(f.os.id, 'debian');
  assert.equal(t.commands.length, 2);
});

test('no facts in the output, or a killed command -> HostError naming the host', async () => {
  const t = new FakeHost('web9');
  t.fail = () => ({ stdout: '', stderr: 'sh: 1: sh: not found', code: 127 });
  await assert.rejects(gatherFacts(t), (e: unknown) => {
    assert.ok(e instanceof HostError);
    assert.equal(e.host, 'web9');
    assert.match(e.message, /printed no facts \(exit 127\): sh: 1: sh: not found/);
    return true;
  });
  const k = new FakeHost();
  k.fail = () => ({ stdout: '@@provision:begin@@\n@@provision:os@@\nID=debian\n', stderr: '', code: null, signal: 'TIMEOUT' });
  await assert.rejects(gatherFacts(k), /killed \(TIMEOUT\)/);
});

test('the first gather of a host asks every planned section; one nobody planned is gathered alone later', async () => {
  const t = new FakeHost();
  const cache = newCache();
  cache.plan([h1], ['os', 'packages']);
  assert.deepEqual(cache.plannedFor('h1').sort(), ['os', 'packages']);
  const f = await cache.get(t, h1, ['os']);
  assert.deepEqual(t.asked(0).sort(), ['os', 'packages-dpkg', 'packages-rpm'], 'planned packages came along');
  assert.equal(Object.keys(f.packages).length, 783);
  await cache.get(t, h1, ['packages']);
  assert.equal(t.commands.length, 1);
  const g = await cache.get(t, h1, ['clock']);
  assert.deepEqual(t.asked(1), ['clock']);
  assert.equal(g, f, 'merged into the same facts object');
  assert.equal(g.os.id, 'debian');
});

test('a failed later gather: its sections are asked again next time, the earlier ones still served', async () => {
  const t = new FakeHost();
  const cache = newCache();
  await cache.get(t, h1, ['os']);
  t.fail = (n) => (n === 2 ? new Error('boom') : undefined);
  await assert.rejects(cache.get(t, h1, ['packages']), /boom/);
  assert.equal((await cache.get(t, h1, ['os'])).os.id, 'debian');
  assert.equal(t.commands.length, 2);
  const f = await cache.get(t, h1, ['packages']);
  assert.equal(t.commands.length, 3);
  assert.deepEqual(t.asked(2), ['packages-dpkg', 'packages-rpm']);
  assert.equal(Object.keys(f.packages).length, 783);
});

test('what an op records in the facts stays when later sections are merged', async () => {
  const t = new FakeHost();
  const cache = newCache(['nginx']);
  const f = await cache.get(t, h1, ['services']);
  f.services.nginx = { active: 'inactive', enabled: 'disabled', load: 'loaded' }; // as factsChanged does after a stop
  const g = await cache.get(t, h1, ['os', 'services']);
  assert.equal(t.commands.length, 2);
  assert.deepEqual(g.services.nginx, { active: 'inactive', enabled: 'disabled', load: 'loaded' }, 'services were not gathered again');
});

test('unit names are checked before anything runs', async () => {
  const t = new FakeHost();
  await assert.rejects(gatherFacts(t, { services: ['ok', 'not ok'] }), /not a systemd unit name/);
  assert.equal(t.commands.length, 0);
});

test('factsSummary: packages as a count, the full list only when verbose', async () => {
  const f = await gatherFacts(new FakeHost());
  const s = factsSummary(f);
  assert.deepEqual(s.packages, { count: 783 });
  assert.equal(s.os.id, 'debian');
  assert.ok(Array.isArray(s.interfaces));
  assert.ok(JSON.stringify(s).length < 4000);
  const v = factsSummary(f, { verbose: true });
  assert.equal(v.packages.count, 783);
  assert.equal(Object.keys(v.packages.installed ?? {}).length, 783);
});

test('only the sections asked for are gathered; a later call gathers just the missing ones', async () => {
  const t = new FakeHost();
  const cache = newCache(['nginx']);
  const a = await cache.get(t, h1, ['os', 'hostname']);
  assert.deepEqual(t.asked(0).sort(), ['hostname', 'os']);
  assert.equal(a.os.id, 'debian');
  assert.equal(await cache.get(t, h1, ['os']), a, 'covered: no round trip');
  assert.equal(t.commands.length, 1);
  const b = await cache.get(t, h1, ['os', 'packages', 'services']);
  assert.equal(t.commands.length, 2);
  assert.deepEqual(t.asked(1).sort(), ['init', 'packages-dpkg', 'packages-rpm', 'services'], 'only the missing sections');
  assert.equal(b.os.id, 'debian');
  assert.ok(Object.keys(b.packages).length > 100);
  assert.deepEqual(b.services.nginx, { active: 'active', enabled: 'enabled', load: 'loaded' });
  await cache.get(t, h1, all);
  assert.equal(t.commands.length, 3, 'everything else, once');
  assert.ok(!t.asked(2).includes('os') && t.asked(2).includes('firewall'));
  assert.equal(await cache.get(t, h1, []), b, 'no sections: the facts as they are');
  assert.equal(t.commands.length, 3);
});

test('no sections: no gather at all', async () => {
  const t = new FakeHost();
  const f = await newCache().get(t, h1, [] as SectionName[]);
  assert.equal(t.commands.length, 0);
  assert.equal(f.os.family, 'unknown');
  assert.equal((await gatherFacts(t, { sections: [] })).os.family, 'unknown');
  assert.equal(t.commands.length, 0);
});

test('restrictFacts: a role reads the sections it declares; any other field throws, naming the section', () => {
  const facts = { ...emptyFacts(), hostname: 'h1', packages: { nginx: '1.22' } };
  const r = restrictFacts(facts, ['hostname', 'os'], 'role demo');
  assert.equal(r.hostname, 'h1');
  assert.equal(r.os.family, 'unknown');
  assert.throws(() => r.packages, /role demo reads facts\.packages, but its facts: \['hostname', 'os'\] does not list 'packages'/);
  assert.throws(() => r.canSetClock, /does not list 'clock'/);
  assert.throws(() => r.container, /does not list 'virt'/);
  assert.equal(restrictFacts(facts, SECTIONS, 'role all'), facts, 'all sections: the facts themselves');
});
