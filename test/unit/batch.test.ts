// Several commands in one round trip (src/transport/batch.ts), run by a real `sh` here: each
// command's stdout, stderr and exit code come back as if it had run alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalTransport } from '../helpers/local-transport.js';
import { batchOf, isSimpleCommand } from '../../src/transport/batch.js';
import { sh, raw } from '../../src/transport/quote.js';

const t = new LocalTransport();

async function both(cmds: string[]) {
  const b = batchOf(cmds);
  const r = await t.exec(b.script);
  const batched = b.parse(r.stdout, r.stderr);
  const alone = await Promise.all(cmds.map((c) => t.exec(raw(c))));
  return { batched, alone };
}

test('each command answers as it would alone: output with and without a final newline, stderr, exit codes', async () => {
  const cmds = [
    'echo one',
    'printf no-newline',
    'printf "two\\nlines\\n"; echo err >&2; exit 3',
    '',
    'true',
    sh`printf '%s' ${"it's quoted"}`.text,
    'cat', // stdin is /dev/null: cat ends at once
    'printf "\\n\\n"',
  ];
  const { batched, alone } = await both(cmds);
  assert.equal(batched.length, cmds.length);
  batched.forEach((b, i) => assert.deepEqual(b, { stdout: alone[i].stdout, stderr: alone[i].stderr, code: alone[i].code }, cmds[i]));
});

test('a command cannot reach the next one: exit, cd, variables and set -e stay inside it', async () => {
  const b = batchOf(['cd /; X=leaked; set -e; exit 7', 'pwd; echo "x=${X-unset}"', 'false', 'echo after']);
  const r = await t.exec(b.script);
  const [a, c, d, e] = b.parse(r.stdout, r.stderr);
  assert.equal(a!.code, 7);
  assert.equal(c!.stdout, `${process.cwd()}\nx=unset\n`);
  assert.equal(d!.code, 1);
  assert.deepEqual(e, { stdout: 'after\n', stderr: '', code: 0 });
});

test('a syntax error fails that command only', async () => {
  const b = batchOf(['echo before', 'if then fi (', 'echo after']);
  const r = await t.exec(b.script);
  const [x, bad, y] = b.parse(r.stdout, r.stderr);
  assert.equal(x!.stdout, 'before\n');
  assert.notEqual(bad!.code, 0);
  assert.match(bad!.stderr, /syntax|unexpected/i);
  assert.equal(y!.stdout, 'after\n');
});

test("output that imitates a frame line is data: the boundary is random per batch", async () => {
  const first = batchOf(['echo x']);
  const frameLike = first.script.text.match(/[0-9a-f]{32}/)![0];
  const b = batchOf([`printf '\\n%s:0:0\\n' ${frameLike}; echo real`, 'echo next']);
  const r = await t.exec(b.script);
  const [a, n] = b.parse(r.stdout, r.stderr);
  assert.equal(a!.stdout, `\n${frameLike}:0:0\nreal\n`);
  assert.equal(n!.stdout, 'next\n');
});

test('a batch cut short (its shell killed) has no answer for the commands it did not finish', async () => {
  // In a subshell $$ is still the batch's shell: killing it ends the batch there.
  const b = batchOf(['echo done', 'kill -9 $$; exit 0', 'echo never']);
  const r = await t.exec(b.script);
  const [a, k, n] = b.parse(r.stdout, r.stderr);
  assert.deepEqual(a, { stdout: 'done\n', stderr: '', code: 0 });
  assert.equal(k, undefined);
  assert.equal(n, undefined);
});

test('no commands: an empty batch parses to nothing', async () => {
  const b = batchOf([]);
  const r = await t.exec(b.script);
  assert.equal(r.code, 0);
  assert.deepEqual(b.parse(r.stdout, r.stderr), []);
});

test("provision's own snippets run last in the batch's shell itself (no subshell), their results after the commands'", async () => {
  const b = batchOf(['echo $$', 'exit 4'], ['sh -c "echo \\$PPID"; X=set-here']);
  const r = await t.exec(b.script);
  const [shellPid, four, own] = b.parse(r.stdout, r.stderr);
  assert.equal(four!.code, 4, 'a command exits its subshell only');
  assert.equal(own!.stdout, shellPid!.stdout, 'the snippet\'s child has the batch shell as its parent: no fork for the snippet');
  assert.equal(own!.code, 0);
});

test('a simple command runs without a subshell and answers as alone; anything that could change the shell keeps its subshell', async () => {
  // The 4th field of /proc/self/stat is the parent's pid: the batch's shell itself ($$) when
  // cat ran without a subshell.
  const cmds = ['cat /proc/self/stat', 'echo $$', 'X=leaked', 'cd /', 'set -e', 'exit 3', 'pwd; echo "x=${X-unset}"', "printf '%s\\n' 'a b' c", 'false', 'echo after'];
  const b = batchOf(cmds);
  const r = await t.exec(b.script);
  const res = b.parse(r.stdout, r.stderr);
  assert.equal(res[0]!.stdout.split(' ')[3], res[1]!.stdout.trim(), 'cat is a child of the batch shell: no subshell');
  assert.equal(res[5]!.code, 3);
  assert.equal(res[6]!.stdout, `${process.cwd()}\nx=unset\n`, 'assignment, cd and set stayed in their subshells');
  assert.deepEqual(res[7], { stdout: 'a b\nc\n', stderr: '', code: 0 });
  assert.equal(res[8]!.code, 1);
  assert.deepEqual(res[9], { stdout: 'after\n', stderr: '', code: 0 });
  // Simple commands give what they give alone, stderr and exit codes too.
  const { batched, alone } = await both(['cat /nonexistent', "printf '%s|' 'x y' z", 'test -e /', 'test -e /nonexistent', 'ls -d / /nonexistent']);
  batched.forEach((x, i) => assert.deepEqual(x, { stdout: alone[i].stdout, stderr: alone[i].stderr, code: alone[i].code }));
});

test('what counts as a simple command', () => {
  for (const c of ['cat -- /etc/hosts', "cat -- '/etc/a file'", 'test -e /x', 'nft list table inet provision', 'start-stop-daemon --status --pidfile /run/a.pid'])
    assert.ok(isSimpleCommand(c), c);
  for (const c of ['', 'X=1', 'X=1 cat f', 'cd /', 'exit 3', 'set -e', 'read x', 'export A', '. ./f', 'eval x', 'exec cat', 'cat $HOME', 'cat a; rm b', 'cat a && b', 'cat >x', 'cat <x', 'echo *', 'cat ~/x', 'cat `id`', "cat 'a'\\''b'", "'cat' x", 'cat  x', 'cat x\nrm y', 'cat "x"'])
    assert.ok(!isSimpleCommand(c), JSON.stringify(c));
});
