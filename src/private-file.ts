// Writing a file of the user's (the read-ahead record, the --json report) where others may
// plant names: the content goes to a fresh temp file created with O_EXCL|O_NOFOLLOW under a
// random name (a planted file or symlink makes the open fail instead of being followed), mode
// 0600, then renamed over the target (rename replaces a symlink, never writes through it).
// A directory of our own (the cache) must also be the user's and writable by nobody else.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * 'missing' when a path does not exist; a reason when one is a symlink, is not the user's own,
 * or others may write it; undefined when all are fine.
 */
export async function untrustedPath(paths: readonly string[]): Promise<string | undefined> {
  const uid = process.getuid?.();
  for (const p of paths) {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return 'missing';
    if (st.isSymbolicLink()) return `${p} is a symlink`;
    if (uid !== undefined && st.uid !== uid) return `${p} belongs to uid ${st.uid}, not to you (uid ${uid})`;
    if (st.mode & 0o022) return `${p} is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
  }
  return undefined;
}

export interface PrivateFileOptions {
  /**
   * Directories (the file's own and those above it up to this one, inclusive) that must be the
   * user's and writable by nobody else; created 0700 when missing. Absent: the file's directory
   * is the user's choice (a --json path) and only the exclusive temp file protects the write.
   */
  privateRoot?: string;
}

/** Write `text` to `file` atomically through an exclusive temp file (see the header). */
export async function writePrivateFile(file: string, text: string, o: PrivateFileOptions = {}): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  if (o.privateRoot) {
    const root = path.resolve(o.privateRoot);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const chain: string[] = [];
    for (let d = dir; ; d = path.dirname(d)) {
      chain.push(d);
      if (d === root || d === path.dirname(d)) break;
    }
    const why = await untrustedPath(chain);
    if (why) throw new Error(`refusing to write ${file}: ${why}`);
  }
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(text);
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
}
