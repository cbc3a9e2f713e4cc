// Interruption against a real sshd, through the real process (bin/provision.js):
// - SIGINT during a run: exit 130, the output says what was done, the operation in flight
//   finishes (no half-written file: every target file is complete or absent), and a re-run
//   converges (exit 0, then nothing changed);
// - SIGKILL of the controller in the middle of a large upload: at most the upload's temp file
//   (`.<name>.provision-tmp-<random>`) is left, never a partial target file, and the next run
//   removes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSshd, sshdUnavailable, boxInventory, TEST_USER, type Sshd } from './helpers/sshd.js';
import { EXIT } from '../src/errors.js';
import { uploadContent, BEFORE, AFTER } from './fixtures/hostile/roles/slow_uploads/index.js';

const skip = sshdUnavailable();
const PLAYBOOK = path.resolve('test/fixtures/hostile/slow-uploads.yaml');
const TEMP_RE = /^\..+\.provision-tmp-[0-9a-f]+$/;

let sshd: Sshd;
let dir = '';

before(async () => {
  if (skip) return;
  sshd = await startSshd({ users: [TEST_USER] });
  dir = mkdtempSync(path.join(tmpdir(), 'provision-interrupt-'));
});

after(async () => {
  if (skip) return;
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function inventory(name: string, vars: Record<string, string | number>): { inv: string; root: string } {
  const user = vars.ansible_user ?? TEST_USER;
  const become = vars.ansible_become ?? 'true';
  const root = path.join(dir, name);
  mkdirSync(root, { recursive: true });
  const inv = path.join(dir, `${name}.yaml`);
  const extra = Object.fromEntries(Object.entries(vars).filter(([k]) => !k.startsWith('ansible_')));
  writeFileSync(inv, boxInventory(sshd, { su_root: root, ...extra }, { user, become }));
  return { inv, root };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Run the CLI; `when` decides (from the output so far) when to send `sig`, once. */
function runCli(args: string[], opts: { sig?: NodeJS.Signals; when?: (output: string) => boolean; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.resolve('bin/provision.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    let output = '';
    let sent = false;
    const check = () => {
      if (!sent && opts.sig && opts.when?.(output)) {
        sent = true;
        p.kill(opts.sig);
      }
    };
    const onData = (d: Buffer) => {
      output += d.toString();
      check();
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    const poll = opts.sig ? setInterval(check, 10) : undefined;
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`timed out:\n${output}`));
    }, opts.timeoutMs ?? 120_000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({ code, signal, output });
    });
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Each target file is absent or complete; returns the names present. No upload temp file is left. */
function assertNoHalfFiles(root: string, bigMb: number, opts: { tempsAllowed?: number } = {}): { present: string[]; temps: string[] } {
  const names = readdirSync(root);
  const temps = names.filter((n) => TEMP_RE.test(n));
  assert.ok(temps.length <= (opts.tempsAllowed ?? 0), `upload temp files left: ${temps.join(', ')}`);
  const present: string[] = [];
  for (const f of [...BEFORE, 'big.bin', ...AFTER]) {
    const p = path.join(root, f);
    if (!existsSync(p)) continue;
    const want = uploadContent(f, bigMb);
    const got = readFileSync(p);
    assert.equal(got.length, want.length, `${f}: ${got.length} of ${want.length} bytes: half-written`);
    assert.equal(sha(got), sha(want), `${f}: content differs`);
    present.push(f);
  }
  return { present, temps };
}

test('SIGINT during a run: exit 130, what was done is printed, the upload in flight completes, a re-run converges', { skip }, async () => {
  const { inv, root } = inventory('sigint', { su_big_mb: 48, su_sleep: 2 });
  const report = path.join(dir, 'sigint.json');
  // Ctrl-C as the large upload starts: it is the operation in flight.
  const r = await runCli([inv, PLAYBOOK, '-v', '--json', report], { sig: 'SIGINT', when: (o) => o.includes('box: slow_uploads : upload big.bin ...') });
  assert.equal(r.code, EXIT.INTERRUPTED, r.output);
  assert.match(r.output, /Interrupted: finishing the operations in flight/);
  // What was done: every completed task, and the recap.
  for (const f of [...BEFORE, 'big.bin']) assert.match(r.output, new RegExp(`changed box: slow_uploads : upload ${f.replace('.', '\\.')} \\(created\\)`), r.output);
  assert.doesNotMatch(r.output, /slow_uploads : slow command/, 'nothing started after the interrupt');
  assert.match(r.output, /PLAY RECAP \(interrupted\)/);
  assert.match(r.output, /box\s+: ok=0\s+changed=4\s+failed=0\s+skipped=0\s+unreachable=0\s+time=\S+\s+INTERRUPTED/, r.output);
  const j = JSON.parse(readFileSync(report, 'utf8')) as { interrupted: boolean; hosts: { box: { status: string; changed: number } }; tasks: Array<{ task: string; status: string }> };
  assert.equal(j.interrupted, true);
  assert.equal(j.hosts.box.status, 'interrupted');
  assert.deepEqual(j.tasks.map((t) => `${t.task}: ${t.status}`), [...BEFORE, 'big.bin'].map((f) => `upload ${f}: changed`));
  // On the target: the big upload finished (atomically), nothing after it ran, no temp files.
  const { present } = assertNoHalfFiles(root, 48);
  assert.deepEqual(present, [...BEFORE, 'big.bin']);
  assert.ok(!existsSync(path.join(root, 'slow.done')));

  const again = await runCli([inv, PLAYBOOK, '--json', report]);
  assert.equal(again.code, EXIT.OK, again.output);
  assert.equal(JSON.parse(readFileSync(report, 'utf8')).hosts.box.changed, 3, 'the slow command and the last two uploads');
  assert.deepEqual(assertNoHalfFiles(root, 48).present, [...BEFORE, 'big.bin', ...AFTER]);
  assert.ok(existsSync(path.join(root, 'slow.done')));
  const third = await runCli([inv, PLAYBOOK, '--json', report]);
  assert.equal(third.code, EXIT.OK, third.output);
  assert.equal(JSON.parse(readFileSync(report, 'utf8')).hosts.box.changed, 0, 'converged');
});

test('SIGINT during the slow command: it finishes, the run stops there, exit 130', { skip }, async () => {
  const { inv, root } = inventory('sigint-slow', { su_big_mb: 1, su_sleep: 2 });
  const t0 = Date.now();
  const r = await runCli([inv, PLAYBOOK, '-v'], { sig: 'SIGINT', when: (o) => o.includes('box: slow_uploads : slow command ...') });
  assert.equal(r.code, EXIT.INTERRUPTED, r.output);
  assert.match(r.output, /changed box: slow_uploads : slow command/, 'the command in flight ran to its end and is reported');
  assert.ok(existsSync(path.join(root, 'slow.done')));
  assert.ok(Date.now() - t0 >= 2000);
  assert.deepEqual(assertNoHalfFiles(root, 1).present, [...BEFORE, 'big.bin']);
  assert.match(r.output, /changed=5\s.*INTERRUPTED/);
});

for (const via of ['sudo', 'sftp'] as const) {
  test(`SIGKILL of the controller mid-upload (${via}): at most a temp file is left, never a partial file; the next run removes it`, { skip }, async () => {
    const MB = 384;
    // sudo: a non-root user with become (the upload is `cat` through sudo); sftp: a root login.
    const login: Record<string, string> = via === 'sudo' ? {} : { ansible_user: 'root', ansible_become: 'false' };
    const { inv, root } = inventory(`sigkill-${via}`, { su_big_mb: MB, su_sleep: 0, ...login });
    // Kill when the large upload's temp file exists and is partly written.
    const partial = () => {
      for (const n of readdirSync(root)) {
        if (n.startsWith('.big.bin.provision-tmp-')) {
          const size = statSync(path.join(root, n), { throwIfNoEntry: false })?.size ?? 0;
          if (size > 8 * 1024 * 1024 && size < MB * 1024 * 1024) return true;
        }
      }
      return false;
    };
    const r = await runCli([inv, PLAYBOOK, '-v'], { sig: 'SIGKILL', when: partial });
    assert.equal(r.signal, 'SIGKILL', `the controller was killed mid-upload:\n${r.output}`);
    // The remote side notices the lost connection; give it time to do whatever it would do.
    await new Promise((res) => setTimeout(res, 3000));
    const { present, temps } = assertNoHalfFiles(root, MB, { tempsAllowed: 1 });
    assert.ok(!present.includes('big.bin'), 'the large file was never completed, so it must not exist');
    assert.deepEqual(present, BEFORE, 'the uploads before it are complete');
    // sftp: nobody is left to remove the temp file. sudo: the remote script's size check fails and
    // it removes its temp file, unless the lost connection's SIGPIPE ends it first.
    if (via === 'sftp') assert.equal(temps.length, 1, temps.join(', '));

    const again = await runCli([inv, PLAYBOOK, '-v']);
    assert.equal(again.code, EXIT.OK, again.output);
    if (temps.length) assert.match(again.output, /changed box: slow_uploads : upload big\.bin \(created, 1 stale temp file\(s\) from an interrupted run removed\)/, again.output);
    const after = assertNoHalfFiles(root, MB);
    assert.deepEqual(after.temps, []);
    assert.deepEqual(after.present, [...BEFORE, 'big.bin', ...AFTER]);
  });
}
