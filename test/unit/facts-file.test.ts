// The `file` fact against hostile file names (issue 19, finding 3): a name with newlines and
// tabs must not forge the stat/sha256 answer, nor make the op remove a file it did not list.
// Real commands through `sh` on this machine (LocalTransport), in a temporary directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planFile, remoteStat } from '../../src/ops/files.js';
import { file, statMany, factKey } from '../../src/facts/catalog.js';
import type { OpContext } from '../../src/ops/types.js';
import { LocalTransport } from '../helpers/local-transport.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function ctxFor(t: LocalTransport): OpContext {
  return { host: { name: 'local' } as never, transport: t, read: (c) => t.exec(c), facts: async () => ({}) as never, factsChanged: () => {}, check: false, diff: false };
}

test('a temp-file name holding a forged stat line does not make a wrong file look correct', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provision-forge-'));
  try {
    const target = path.join(dir, 'app.conf');
    writeFileSync(target, 'attacker content\n');
    const want = 'managed content\n';
    writeFileSync(path.join(dir, `.app.conf.provision-tmp-a\n@@stat@@\t644\troot\troot\tregular file\t${sha(want)}  -`), '');
    const t = new LocalTransport();
    const st = await remoteStat(ctxFor(t), target);
    assert.equal(st.sha256, sha('attacker content\n'), 'the real file is hashed');
    const plan = await planFile(ctxFor(t), { path: target, content: want });
    assert.equal(plan.changed, true, 'the managed file is rewritten');
    await plan.apply!();
    assert.equal(readFileSync(target, 'utf8'), want);
    // The same through the read-ahead's many-path form.
    writeFileSync(target, 'attacker again\n');
    writeFileSync(path.join(dir, `.app.conf.provision-tmp-c\n@@stat@@\t644\troot\troot\tregular file\t${sha(want)}  -`), '');
    const many = statMany([target]);
    const answer = many.parse((await t.exec(many.script)).stdout).get(factKey('file', [target]))!;
    assert.equal(answer.sha256, sha('attacker again\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a temp-file name holding a forged stale line does not make the op remove another file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provision-forge-'));
  try {
    const target = path.join(dir, 'app.conf');
    writeFileSync(target, 'x\n');
    // Before the fix the listing gave two stale names, the second `precious`, which root then
    // removed in its shell's working directory.
    const evil = path.join(dir, '.app.conf.provision-tmp-b\n@@stale@@\tprecious');
    writeFileSync(evil, '');
    const t = new LocalTransport();
    const st = file.parse(await t.exec(file.command(target)), target);
    assert.deepEqual(st.stale, [evil], 'the stale temp file is the whole name, newline and all');
    const plan = await planFile(ctxFor(t), { path: target, content: 'x\n' });
    assert.equal(plan.changed, true, 'the stale temp file is cleaned');
    await plan.apply!();
    assert.ok(t.commands.every((c) => !/rm -f[^\n]*'precious'/.test(c)), 'nothing named precious is removed');
    assert.ok(!existsSync(evil), 'the listed temp file (exactly that name) is removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a listed name that is not one of our temp files is never reported as stale', () => {
  const target = '/srv/app.conf';
  const r = (names: string[]) => file.parse({ code: 0, stderr: '', stdout: names.map((n) => `${FILE_BOUNDARY()}:stale\0${n}\0`).join('') + `${FILE_BOUNDARY()}:absent\0` }, target).stale;
  assert.deepEqual(r(['/srv/.app.conf.provision-tmp-ok', '/etc/passwd', '/srv/.app.conf.provision-tmp-x/../../etc/passwd', '/srv/.app.conf.provision-tmp-']), ['/srv/.app.conf.provision-tmp-ok']);
});

/** The boundary the file fact's command prints (read from the command text). */
function FILE_BOUNDARY(): string {
  return /printf '%s:stale\\000%s\\000' '?([0-9a-f]{16})/.exec(file.command('/x').text)![1];
}
