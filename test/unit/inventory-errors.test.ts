// Bad inventories: every error is an InputError naming file, line and column (where there is a
// line to name), with an excerpt, and never a stack trace.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/index.js';
import { InputError } from '../../src/errors.js';

const root = mkdtempSync(path.join(tmpdir(), 'provision-inv-err-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function write(text: string, files: Record<string, string> = {}): string {
  const dir = path.join(root, String(n++));
  mkdirSync(dir);
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), body);
  }
  const file = path.join(dir, 'hosts.yaml');
  writeFileSync(file, text);
  return file;
}

interface Want {
  msg: RegExp;
  line?: number;
  col?: number;
  /** The file the error must name (default: the inventory). */
  file?: string;
}

async function expectError(file: string, want: Want): Promise<InputError> {
  let err: unknown;
  try {
    await loadInventory(file);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof InputError, `expected an InputError, got ${err instanceof Error ? err.stack : String(err)}`);
  const shown = err.format();
  const where = want.file ?? file;
  assert.match(err.message, want.msg, shown);
  assert.equal(err.pos?.file, where, shown);
  assert.ok(shown.startsWith(where), `names the file: ${shown}`);
  if (want.line !== undefined) {
    assert.equal(err.pos?.line, want.line, `line: ${shown}`);
    assert.equal(err.pos?.col, want.col, `column: ${shown}`);
    assert.ok(shown.startsWith(`${where}:${want.line}:${want.col}: `), shown);
    assert.match(err.excerpt ?? '', new RegExp(`^\\s*${want.line} \\| .*\\n\\s*\\^$`), `excerpt with a caret: ${shown}`);
  }
  for (const text of [shown, err.message]) {
    assert.doesNotMatch(text, /\n\s+at .+[:(]/, `no stack trace: ${text}`);
    assert.doesNotMatch(text, /node_modules|\.ts:\d+/, `no source paths of ours: ${text}`);
  }
  return err;
}

test('YAML syntax error: line and column of the problem', async () => {
  const f = write('all:\n  hosts:\n    web1: [unclosed, list\n    web2:\n');
  await expectError(f, { msg: /YAML syntax error/, line: 4, col: 5 });
});

test('tab indentation', async () => {
  const f = write('all:\n  hosts:\n\tweb1:\n');
  await expectError(f, { msg: /tab character used for indentation/, line: 3, col: 1 });
});

test('duplicate key: position of the second one', async () => {
  const f = write('all:\n  hosts:\n    web1:\n    web2:\n    web1: {x: 1}\n');
  await expectError(f, { msg: /duplicate key 'web1' \(first at line 3, column 5\)/, line: 5, col: 5 });
});

test('duplicate group at top level', async () => {
  const f = write('web:\n  hosts: {a: }\ndb:\n  hosts: {b: }\nweb:\n  hosts: {c: }\n');
  await expectError(f, { msg: /duplicate key/, line: 5, col: 1 });
});

test('children cycle names the cycle', async () => {
  const f = write('all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            c:\n    c:\n      children:\n        a:\n');
  const e = await expectError(f, { msg: /children cycle: c -> a -> b -> c/, line: 10, col: 9 });
  assert.match(e.message, /group 'a' cannot be a child of 'c'/);
});

test('a group that is its own child', async () => {
  const f = write('web:\n  children:\n    web:\n');
  await expectError(f, { msg: /children cycle: web -> web/, line: 3, col: 5 });
});

test('`all` as a child is a cycle too', async () => {
  const f = write('web:\n  hosts: {w1: }\n  children:\n    all:\n');
  await expectError(f, { msg: /children cycle: web -> all/, line: 4, col: 5 });
});

test('hosts given as a list', async () => {
  const f = write('all:\n  children:\n    web:\n      hosts:\n        - web1\n        - web2\n');
  await expectError(f, { msg: /'hosts' of group 'web' must be a mapping of host names \(not a list\), found a list/, line: 5, col: 9 });
});

test('vars not a mapping', async () => {
  const f = write('web:\n  vars:\n    - a\n  hosts: {w1: }\n');
  await expectError(f, { msg: /'vars' of group 'web' must be a mapping, found a list/, line: 3, col: 5 });
  const g = write('web:\n  vars: http_port=80\n');
  await expectError(g, { msg: /'vars' of group 'web' must be a mapping, found a string/, line: 2, col: 9 });
});

test('a group that is a list or a scalar', async () => {
  await expectError(write('web:\n  - w1\n'), { msg: /group 'web' must be a mapping/, line: 2, col: 3 });
  await expectError(write('all:\n  children:\n    web: w1\n'), { msg: /group 'web' must be a mapping .* found a string \(w1\)/, line: 3, col: 10 });
});

test('a host whose value is not a mapping', async () => {
  const f = write('all:\n  hosts:\n    web1: 10.0.0.1\n');
  await expectError(f, { msg: /host 'web1' must have a mapping of variables or nothing, found a string/, line: 3, col: 11 });
});

test('unknown key in a group (a typo Ansible would only warn about)', async () => {
  const f = write('web:\n  host:\n    w1:\n');
  await expectError(f, { msg: /unexpected key 'host' in group 'web'/, line: 2, col: 3 });
});

test('non-string host and group names', async () => {
  await expectError(write('web:\n  hosts:\n    1:\n'), { msg: /host name must be a string, got 1 \(quote it\)/, line: 3, col: 5 });
  await expectError(write('yes:\n  hosts: {a: }\n'), { msg: /group name must be a string, got yes/, line: 1, col: 1 });
});

test('top level not a mapping, empty file, plugin config', async () => {
  await expectError(write('- all\n'), { msg: /must be a mapping of group names/, line: 1, col: 1 });
  await expectError(write('# nothing\n'), { msg: /inventory file is empty/ });
  await expectError(write('plugin: aws_ec2\n'), { msg: /plugin/, line: 1, col: 1 });
});

test('bad host ranges', async () => {
  await expectError(write('web:\n  hosts:\n    web[01:5]:\n'), { msg: /equal-length/, line: 3, col: 5 });
  await expectError(write('web:\n  hosts:\n    web[c:a]:\n'), { msg: /begin <= end/, line: 3, col: 5 });
  await expectError(write('web:\n  hosts:\n    web[5:1]:\n'), { msg: /expands to no host/, line: 3, col: 5 });
  await expectError(write('web:\n  hosts:\n    web[1:x]:\n'), { msg: /invalid end/, line: 3, col: 5 });
});

test('ansible_group_priority that is not an integer', async () => {
  const f = write('web:\n  vars:\n    ansible_group_priority: high\n');
  await expectError(f, { msg: /ansible_group_priority must be an integer/, line: 3, col: 29 });
});

test('missing inventory file, or a directory holding a file that is no inventory', async () => {
  const missing = path.join(root, 'nope', 'hosts.yaml');
  const e = await expectError(missing, { msg: /inventory file not found/ });
  assert.equal(e.pos?.line, undefined);
  const f = write('- a list\n');
  await expectError(path.dirname(f), { msg: /not a valid inventory: read as YAML, an inventory must be a mapping .* \(also tried as INI: .*hosts\.yaml:1:1: Expected key=value/, file: f, line: 1, col: 1 });
});

test('errors in group_vars / host_vars files name that file', async () => {
  const inv = 'web:\n  hosts:\n    w1:\n';
  let f = write(inv, { 'group_vars/web.yml': 'a: 1\nb: [\n' });
  await expectError(f, { msg: /YAML syntax error/, file: path.join(path.dirname(f), 'group_vars/web.yml'), line: 3, col: 1 });
  f = write(inv, { 'group_vars/web/10.yml': 'a: 1\n', 'group_vars/web/20.yml': '- a\n- b\n' });
  await expectError(f, { msg: /a vars file must be a mapping/, file: path.join(path.dirname(f), 'group_vars/web/20.yml'), line: 1, col: 1 });
  f = write(inv, { 'host_vars/w1.yml': 'x: 1\nx: 2\n' });
  await expectError(f, { msg: /duplicate key/, file: path.join(path.dirname(f), 'host_vars/w1.yml'), line: 2, col: 1 });
});

test('a merge key pointing at a scalar', async () => {
  const f = write('all:\n  vars:\n    <<: 5\n');
  await expectError(f, { msg: /merge key/, line: 3, col: 9 });
});
