// The one reader for files the CLI takes from its input (extra vars, playbooks, inventories,
// group/host vars, known_hosts, keys, templates, `{file:}` secrets, read-ahead records).
// The file is opened first (non-blocking, so a FIFO cannot hang the open), then its type and
// size are checked on that descriptor (fstat: no race with a rename) before a byte is read:
// a FIFO, a device such as /dev/zero, a socket or a directory is refused with a message naming
// the path, and a file over the limit is refused without reading it. Reading stops at the limit
// too, in case the file grows after the check.
import { constants, openSync, fstatSync, readSync, closeSync, type Stats } from 'node:fs';
import { InputError } from './errors.js';

/** The default limit: far above any inventory, playbook or vars file, far below memory trouble. */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;
/** Files copied to hosts (copy sources, archives): held in memory for the upload. */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

export interface InputFileOptions {
  /** What the file is, for the message ("extra-vars file", "known_hosts file"). Default "file". */
  what?: string;
  /** Refuse files larger than this many bytes. Default MAX_INPUT_BYTES. */
  maxBytes?: number;
}

// O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** What a non-regular file is, in words. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function checked(file: string, st: Stats, o: InputFileOptions): number {
  const what = o.what ?? 'file';
  const max = o.maxBytes ?? MAX_INPUT_BYTES;
  if (st.isDirectory()) throw new InputFileError(`${what} is a directory, not a file`, file);
  if (!st.isFile()) throw new InputFileError(`${what} is ${fileKind(st)}, not a regular file; refusing to read it`, file);
  if (st.size > max) throw new InputFileError(`${what} is ${st.size} bytes, larger than the ${max}-byte limit for inputs`, file);
  return max;
}

function tooBig(file: string, o: InputFileOptions, max: number): InputError {
  return new InputFileError(`${o.what ?? 'file'} grew past the ${max}-byte limit for inputs while being read`, file);
}

/** A refused or failed read; `code` is the errno of a failed open (ENOENT: callers may skip missing files). */
export class InputFileError extends InputError {
  readonly code?: string;
  constructor(message: string, file: string, code?: string) {
    super(message, { file });
    this.code = code;
  }
}

/** An InputError for a failed open, in words (not found, permission denied, ...). */
function openFailure(file: string, e: unknown, what = 'file'): InputError {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? `${what} not found`
    : code === 'EACCES' ? `${what} is not readable (permission denied)`
    : code === 'ELOOP' ? `${what} is a symlink loop`
    : code === 'ENXIO' ? `${what} is a socket, not a regular file` // open(2) of a Unix socket
    : code === 'ENOTDIR' ? `${what}: a part of the path is not a directory`
    : `cannot read ${what} (${code ?? String(e)})`;
  return new InputFileError(why, file, code);
}

/**
 * Read a regular file of bounded size. Throws InputError (exit 3) naming the path otherwise.
 * Synchronous: inputs are small and read once, and the non-blocking open means nothing waits.
 */
export function readInputFileSync(file: string, o: InputFileOptions = {}): Buffer {
  let fd: number;
  try {
    fd = openSync(file, FLAGS);
  } catch (e) {
    throw openFailure(file, e, o.what);
  }
  try {
    const max = checked(file, fstatSync(fd), o);
    const buf = Buffer.allocUnsafe(Math.min(max + 1, 64 * 1024));
    const parts: Buffer[] = [];
    let total = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      total += n;
      if (total > max) throw tooBig(file, o, max);
      parts.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(parts, total);
  } catch (e) {
    throw openFailure(file, e, o.what);
  } finally {
    closeSync(fd);
  }
}

/** readInputFileSync for async callers. */
export async function readInputFile(file: string, o: InputFileOptions = {}): Promise<Buffer> {
  return readInputFileSync(file, o);
}

/** The file as UTF-8 text, without a byte-order mark. */
export async function readInputText(file: string, o: InputFileOptions = {}): Promise<string> {
  return stripBom((await readInputFile(file, o)).toString('utf8'));
}

/** readInputText, synchronously. */
export function readInputTextSync(file: string, o: InputFileOptions = {}): string {
  return stripBom(readInputFileSync(file, o).toString('utf8'));
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
