// The bounded input reader: type and size checked on the opened descriptor before reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readInputFile, readInputFileSync, readInputText, InputFileError } from '../../src/input-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provision-input-file-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('a regular file is read whole; a byte-order mark is dropped from text', async () => {
  const f = path.join(dir, 'a.yaml');
  writeFileSync(f, '\ufeffa: 1\n');
  assert.equal(await readInputText(f), 'a: 1\n');
  assert.equal(readInputFileSync(f).length, 8);
});

test('the limit: exactly maxBytes is read, one more byte is refused without reading', async () => {
  const f = path.join(dir, 'b');
  writeFileSync(f, 'x'.repeat(100));
  assert.equal((await readInputFile(f, { maxBytes: 100 })).length, 100);
  await assert.rejects(readInputFile(f, { maxBytes: 99, what: 'vars file' }), /vars file is 100 bytes, larger than the 99-byte limit/);
  assert.throws(() => readInputFileSync(f, { maxBytes: 99 }), /file is 100 bytes/);
});

test('a symlink to a FIFO is refused (the type is that of the opened file), the open does not block', async () => {
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const link = path.join(dir, 'link.yaml');
  symlinkSync(fifo, link);
  await assert.rejects(readInputFile(link), (e: InputFileError) => e.pos?.file === link && /FIFO/.test(e.message));
  assert.throws(() => readInputFileSync(link), /FIFO/);
});

test('a missing file: InputFileError with code ENOENT (callers may treat it as empty)', async () => {
  await assert.rejects(readInputFile(path.join(dir, 'none'), { what: 'known_hosts file' }), (e: InputFileError) => e instanceof InputFileError && e.code === 'ENOENT' && e.message === 'known_hosts file not found');
});
