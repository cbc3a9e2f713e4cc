// FactCache: one gather per host per run, shared by concurrent callers; section refreshes in
// one small command; updates recorded by ops without a round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FactCache, SECTIONS, emptyFacts, factsSummary, restrictFacts, splitSections } from '../../src/facts/index.js';
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

test('concurrent callers share one gather; later calls hit the cache', async () => {
  const t = new FakeHost();
  const cache = new FactCache({ services: ['nginx', 'keepalived'] });
  const [a, b, c] = await Promise.all([cache.get(t), cache.get(t), cache.get(t)]);
  assert.equal(t.commands.length, 1);
  assert.equal(a, b);
  assert.equal(b, c);
  assert.equal(await cache.get(t), a);
  assert.equal(t.commands.length, 1);
  assert.equal(a.os.id, 'debian');
  assert.deepEqual(a.services.nginx, { active: 'active', enabled: 'enabled', load: 'loaded' });
  assert.equal(cache.peek('h1'), a);
  assert.equal(typeof cache.lastGatherMs('h1'), 'number');
});

test('gathers without sudo by default, with the timeout, in the persistent shell when free; options honoured', async () => {
  const t = new FakeHost();
  await new FactCache().get(t);
  assert.deepEqual(t.opts[0], { sudo: false, timeoutMs: 60_000, reuseShell: true });
  const t2 = new FakeHost();
  await new FactCache({ sudo: true, timeoutMs: 5000 }).get(t2);
  assert.deepEqual(t2.opts[0], { sudo: true, timeoutMs: 5000, reuseShell: true });
});

test('hosts are cached separately', async () => {
  const cache = new FactCache();
  const t1 = new FakeHost('h1');
  const t2 = new FakeHost('h2');
  await Promise.all([cache.get(t1), cache.get(t2), cache.get(t1)]);
  assert.equal(t1.commands.length, 1);
  assert.equal(t2.commands.length, 1);
});

test('a failed gather rejects every caller that shared it; the next get tries again', async () => {
  const t = new FakeHost();
  t.fail = (n) => (n === 1 ? new Error('channel closed') : undefined);
  const cache = new FactCache();
  const results = await Promise.allSettled([cache.get(t), cache.get(t)]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  assert.equal(t.commands.length, 1);
  const f = await cache.get(t);
  assert.equal(f.os.id, 'debian');
  assert.equal(t.commands.length, 2);
});

test('no facts in the output, or a killed command -> HostError naming the host', async () => {
  const t = new FakeHost('web9');
  t.fail = () => ({ stdout: '', stderr: 'sh: 1: sh: not found', code: 127 });
  await assert.rejects(new FactCache().get(t), (e: unknown) => {
    assert.ok(e instanceof HostError);
    assert.equal(e.host, 'web9');
    assert.match(e.message, /printed no facts \(exit 127\): sh: 1: sh: not found/);
    return true;
  });
  const k = new FakeHost();
  k.fail = () => ({ stdout: '@@provision:begin@@\n@@provision:os@@\nID=debian\n', stderr: '', code: null, signal: 'TIMEOUT' });
  await assert.rejects(new FactCache().get(k), /killed \(TIMEOUT\)/);
});

test('invalidate(host, packages): the next get re-gathers only packages, in one command', async () => {
  const t = new FakeHost();
  const cache = new FactCache({ services: ['nginx'] });
  const before = await cache.get(t);
  t.sections.set('packages-dpkg', 'bash\t5.2.15-2+b2\tii \nnginx\t1.22.1-9\tii \n');
  cache.invalidate('h1', 'packages');
  const after = await cache.get(t);
  assert.equal(t.commands.length, 2);
  assert.deepEqual(t.asked(1), ['packages-dpkg', 'packages-rpm']);
  assert.deepEqual(after.packages, { bash: '5.2.15-2+b2', nginx: '1.22.1-9' });
  assert.equal(after.interfaces, before.interfaces, 'other facts kept as they were');
  assert.equal(Object.keys(before.packages).length, 783, 'the old snapshot is not mutated');
});

test('invalidate(host) drops everything: the next get is a full gather', async () => {
  const t = new FakeHost();
  const cache = new FactCache();
  await cache.get(t);
  cache.invalidate('h1');
  assert.equal(cache.peek('h1'), undefined);
  await cache.get(t);
  assert.equal(t.commands.length, 2);
  assert.ok(t.asked(1).includes('ip-json'));
  cache.invalidate('nobody-here', 'packages'); // unknown host: no-op
});

test('gatherSection(packages) and (services, names) run one small command and merge', async () => {
  const t = new FakeHost();
  const cache = new FactCache({ services: ['nginx'] });
  await cache.get(t);
  t.sections.set('packages-dpkg', 'keepalived\t1:2.2.7-1+b2\tii \n');
  const pk = await cache.gatherSection(t, 'packages');
  assert.deepEqual(pk, { keepalived: '1:2.2.7-1+b2' });
  t.units.nginx = ['failed', 'enabled'];
  const sv = await cache.gatherSection(t, 'services', ['nginx', 'chronyd']);
  assert.deepEqual(sv, {
    nginx: { active: 'failed', enabled: 'enabled', load: 'loaded' },
    chronyd: { active: 'unknown', enabled: 'unknown', load: 'not-found' },
  });
  assert.equal(t.commands.length, 3);
  assert.deepEqual(t.asked(2), ['init', 'services']);
  const f = await cache.get(t);
  assert.equal(t.commands.length, 3);
  assert.deepEqual(f.packages, { keepalived: '1:2.2.7-1+b2' });
  assert.equal(f.services.nginx.active, 'failed');
  assert.ok('chronyd' in f.services);
  // A refreshed services section keeps asking about every unit the cache knows.
  await cache.refresh(t, 'services');
  assert.match(t.commands[3], /for u in nginx chronyd; do|for u in nginx chronyd firewalld nftables iptables; do/);
  await assert.rejects(cache.gatherSection(t, 'services', ['bad name']), /not a systemd unit name/);
});

test('service(): cached units cost nothing; an unknown unit costs one small command, once', async () => {
  const t = new FakeHost();
  const cache = new FactCache({ services: ['nginx'] });
  assert.deepEqual(await cache.service(t, 'nginx'), { active: 'active', enabled: 'enabled', load: 'loaded' });
  assert.equal(t.commands.length, 1);
  assert.deepEqual(await cache.service(t, 'keepalived'), { active: 'inactive', enabled: 'disabled', load: 'loaded' });
  assert.equal(t.commands.length, 2);
  assert.match(t.commands[1], /for u in (nginx )?keepalived( firewalld nftables iptables)?; do/);
  assert.deepEqual(t.asked(1), ['init', 'services']);
  await cache.service(t, 'keepalived');
  assert.equal(t.commands.length, 2);
  const both = await cache.servicesOf(t, ['nginx', 'keepalived', 'sshd']);
  assert.equal(both.sshd.load, 'not-found');
  assert.equal(t.commands.length, 3);
});

test('recordPackages/recordService update the cache without a round trip', async () => {
  const t = new FakeHost();
  const cache = new FactCache({ services: ['nginx'] });
  const before = await cache.get(t);
  cache.recordPackages('h1', { psmisc: '23.6-1', bash: null });
  cache.recordService('h1', 'nginx', { active: 'inactive' });
  cache.recordService('h1', 'keepalived', { active: 'active', enabled: 'enabled' });
  const f = await cache.get(t);
  assert.equal(t.commands.length, 1);
  assert.equal(f.packages.psmisc, '23.6-1');
  assert.equal('bash' in f.packages, false);
  assert.ok('bash' in before.packages, 'earlier snapshots are not mutated');
  assert.deepEqual(f.services.nginx, { active: 'inactive', enabled: 'enabled', load: 'loaded' });
  assert.deepEqual(f.services.keepalived, { active: 'active', enabled: 'enabled', load: 'loaded' });
  cache.recordPackages('nobody-here', { x: '1' }); // unknown host: no-op
});

test('recording a keepalived install re-reads only the keepalived version on the next get', async () => {
  const t = new FakeHost();
  const cache = new FactCache();
  await cache.get(t);
  t.sections.set('keepalived', 'Keepalived v2.2.8 (04/04,2023)');
  cache.recordPackages('h1', { keepalived: '1:2.2.8-1' });
  const f = await cache.get(t);
  assert.equal(t.commands.length, 2);
  assert.deepEqual(t.asked(1), ['keepalived']);
  assert.equal(f.keepalivedVersion, '2.2.8');
  assert.equal(f.packages.keepalived, '1:2.2.8-1');
});

test('a record made while the gather is in flight is applied after it', async () => {
  const t = new FakeHost();
  t.delayMs = 30;
  const cache = new FactCache();
  const p = cache.get(t);
  await new Promise((r) => setTimeout(r, 5));
  cache.recordPackages('h1', { newpkg: '1.0' });
  await p;
  const f = await cache.get(t);
  assert.equal(f.packages.newpkg, '1.0');
  assert.equal(t.commands.length, 1);
});

test('a section gathered before anything else: get() then fetches the rest', async () => {
  const t = new FakeHost();
  const cache = new FactCache();
  const pk = await cache.gatherSection(t, 'packages');
  assert.equal(Object.keys(pk).length, 783);
  const f = await cache.get(t);
  assert.equal(t.commands.length, 2);
  assert.equal(t.asked(1).includes('packages-dpkg'), false);
  assert.ok(t.asked(1).includes('os'));
  assert.equal(f.os.id, 'debian');
  assert.equal(Object.keys(f.packages).length, 783);
});

test('a failed refresh leaves the sections stale: the next get retries them', async () => {
  const t = new FakeHost();
  const cache = new FactCache();
  await cache.get(t);
  cache.invalidate('h1', 'packages');
  t.fail = (n) => (n === 2 ? new Error('boom') : undefined);
  await assert.rejects(cache.get(t), /boom/);
  await cache.get(t);
  assert.equal(t.commands.length, 3);
  assert.deepEqual(t.asked(2), ['packages-dpkg', 'packages-rpm']);
});

test('unit names are checked when the cache is made', () => {
  assert.throws(() => new FactCache({ services: ['ok', 'not ok'] }), /not a systemd unit name/);
});

test('factsSummary: packages as a count, the full list only when verbose', async () => {
  const f = await new FactCache().get(new FakeHost());
  const s = factsSummary(f);
  assert.deepEqual(s.packages, { count: 783 });
  assert.equal(s.os.id, 'debian');
  assert.ok(Array.isArray(s.interfaces));
  assert.ok(JSON.stringify(s).length < 4000);
  const v = factsSummary(f, { verbose: true });
  assert.equal(v.packages.count, 783);
  assert.equal(Object.keys(v.packages.installed ?? {}).length, 783);
});

test('a unit called "constructor" is not mistaken for a cached one', async () => {
  const t = new FakeHost();
  const cache = new FactCache();
  const st = await cache.service(t, 'constructor');
  assert.equal(st.load, 'not-found');
  assert.equal(t.commands.length, 2);
  cache.recordPackages('h1', { __proto__: '1.0' } as Record<string, string>);
});

test('only the sections asked for are gathered; a later call gathers just the missing ones', async () => {
  const t = new FakeHost();
  const cache = new FactCache({ services: ['nginx'] });
  const a = await cache.get(t, ['os', 'hostname']);
  assert.deepEqual(t.asked(0).sort(), ['hostname', 'os']);
  assert.equal(a.os.id, 'debian');
  assert.equal(await cache.get(t, ['os']), a, 'covered: no round trip');
  assert.equal(t.commands.length, 1);
  const b = await cache.get(t, ['os', 'packages', 'services']);
  assert.equal(t.commands.length, 2);
  assert.deepEqual(t.asked(1).sort(), ['init', 'packages-dpkg', 'packages-rpm', 'services'], 'only the missing sections');
  assert.equal(b.os.id, 'debian');
  assert.ok(Object.keys(b.packages).length > 100);
  assert.deepEqual(b.services.nginx, { active: 'active', enabled: 'enabled', load: 'loaded' });
  await cache.get(t);
  assert.equal(t.commands.length, 3, 'everything else, once');
  assert.ok(!t.asked(2).includes('os') && t.asked(2).includes('firewall'));
  assert.deepEqual(await cache.get(t, []), await cache.get(t), 'no sections: the cache as it is');
  assert.equal(t.commands.length, 3);
});

test('no sections: no gather at all', async () => {
  const t = new FakeHost();
  const f = await new FactCache().get(t, []);
  assert.equal(t.commands.length, 0);
  assert.equal(f.os.family, 'unknown');
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
