// src/lab/cli.ts without a lab: clear one-line errors and exit codes (no root needed to run this).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(repo, 'src', 'lab', 'cli.ts');
const isRoot = process.getuid?.() === 0;

function run(args: string[], asNobody = false) {
  const cmd = asNobody ? 'setpriv' : process.execPath;
  const argv = asNobody
    ? ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '--import', 'tsx', cli, ...args]
    : ['--import', 'tsx', cli, ...args];
  return spawnSync(cmd, argv, { cwd: repo, encoding: 'utf8', env: { ...process.env, TSX_DISABLE_CACHE: '1' } });
}

test('not root: a clear message and exit 2, nothing touched', { skip: process.platform !== 'linux' ? 'Linux only' : false }, () => {
  const r = run(['status'], isRoot);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim(), 'error: `provision lab status` must run as root (network namespaces, mounts, systemd-nspawn): try sudo');
});

test('usage errors exit 3; an unknown host is named with the list of lab hosts', () => {
  const none = run([]);
  assert.equal(none.status, 3);
  assert.match(none.stderr, /^usage: .*up\|down\|status\|ssh HOST/);
  const bad = run(['ssh', 'nope']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), 'error: unknown lab host "nope" (hosts: ka67, ka68, web1, web2, client-int, client-ext)');
});
