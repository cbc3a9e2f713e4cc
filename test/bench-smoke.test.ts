// The scale benchmark's smoke variant (N=3 sshd targets in namespaces, both tools), so that
// CI keeps `npm run bench` working. Numbers are printed, not asserted: only that each tool
// converges the targets and then finds nothing to change.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ansible = (() => {
  try {
    return !!readFileSync('/usr/bin/ansible-playbook');
  } catch {
    return false;
  }
})();
const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'the target farm needs root on Linux (network namespaces)' : !ansible ? 'ansible-playbook is not installed' : false;

test('bench/scale.ts --smoke: both tools converge 3 targets, then a no-op changes nothing', { skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'provision-bench-smoke-'));
  try {
    const json = join(dir, 'scale.json');
    const r = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/scale.ts'), '--smoke', '--json', json], { cwd: repoRoot });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      p.stderr.on('data', (d: Buffer) => (err += d));
      p.on('close', (code) => res({ code, out, err }));
    });
    process.stderr.write(r.out.split('\n').map((l) => `# ${l}`).join('\n') + '\n');
    assert.equal(r.code, 0, r.err);
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ n: number; provision?: { converge: { changed: number }; noopChanged: number }; ansible?: { converge: { changed: number }; noopChanged: number } }> };
    assert.equal(results.length, 1);
    assert.equal(results[0].n, 3);
    for (const tool of ['provision', 'ansible'] as const) {
      const t = results[0][tool];
      assert.ok(t, `${tool} ran`);
      assert.ok(t.converge.changed > 0, `${tool} converged something`);
      assert.equal(t.noopChanged, 0, `${tool}: the second run changes nothing`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The rest of `npm run bench --smoke`: the lab part (provision's no-op, --check and new-connection
// runs, and the Ansible twin's) and the failover part (nginx killed on ka67, default profile),
// on the lab, which it brings up when it is down. Numbers are printed, not asserted.
test('npm run bench -- --smoke --no-scale: the lab and failover parts run end to end', { skip, timeout: 1_200_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'provision-bench-smoke-lab-'));
  try {
    const json = join(dir, 'bench.json');
    const r = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/run.ts'), '--smoke', '--no-scale', '--json', json], { cwd: repoRoot });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      p.stderr.on('data', (d: Buffer) => (err += d));
      p.on('close', (code) => res({ code, out, err }));
    });
    process.stderr.write(r.out.split('\n').filter((l) => /^(lab|no-op|--check|cold|twin|default|provision|goal|lab no-op|nginx)/.test(l)).map((l) => `# ${l}`).join('\n') + '\n');
    assert.equal(r.code, 0, r.err.slice(-3000) + r.out.slice(-3000));
    const b = JSON.parse(readFileSync(json, 'utf8')) as {
      errors: string[];
      lab?: { provision: { noop: { samples: number[] }; noopChanged: number; checkChanged: number }; ansible?: { noopChanged: number }; twin: { ansibleCheckDiffAfterProvision?: number } };
      failover?: { profiles: Array<{ profile: string; modes: Record<string, { summary?: { failoverMs: number[] } }> }> };
    };
    assert.deepEqual(b.errors, []);
    assert.ok(b.lab && b.lab.provision.noop.samples.length >= 1, 'provision no-op timed');
    assert.deepEqual([b.lab.provision.noopChanged, b.lab.provision.checkChanged], [0, 0]);
    if (b.lab.ansible) {
      assert.equal(b.lab.ansible.noopChanged, 0);
      assert.equal(b.lab.twin.ansibleCheckDiffAfterProvision, 0, 'the twin finds nothing to change after provision');
    }
    const nginx = b.failover?.profiles.find((p) => p.profile === 'default')?.modes.nginx?.summary;
    assert.ok(nginx && nginx.failoverMs.length > 0, 'the nginx-death gap was measured');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
