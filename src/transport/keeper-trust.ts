// What the CLI and its connection keeper trust of each other (see ./persist.ts).
//
// The keeper's directory must be this user's own: a real directory (not a symlink), owned by
// this uid, closed to everyone else (0700). It is checked on the opened directory (fstat of an
// O_NOFOLLOW descriptor) before anything in it is used, and on Linux the socket and the key are
// reached through that descriptor (/proc/self/fd/N/...), so the checked directory is the one used.
// The kernel then lets no other user connect to the socket (connect needs search permission on
// the directory): node has no SO_PEERCRED, and this is the same protection OpenSSH's ControlPath
// relies on.
//
// On top, both ends prove knowledge of one secret, the keeper key (ed25519, 0600 in that
// directory, written by the CLI that starts the keeper): the keeper presents it as its SSH host
// key (the CLI pins it: a socket that answers with any other key is refused before anything is
// sent), and the CLI authenticates with it (publickey: the keeper accepts no other client).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';

/** Bumped whenever the CLI and the keeper would no longer understand each other. */
export const PERSIST_PROTOCOL = 3;
const KEY_FILE = 'keeper.key';
const MAX_KEY_BYTES = 16 * 1024;

const myUid = (): number => (typeof process.getuid === 'function' ? process.getuid() : -1);

/** The directory of the keeper's socket: private to this user. */
export function persistDir(): string {
  return process.env.PROVISION_PERSIST_DIR || path.join(os.tmpdir(), `provision-ssh-${myUid() < 0 ? 0 : myUid()}`);
}

export function socketName(): string {
  return `keeper-v${PERSIST_PROTOCOL}.sock`;
}

export function socketPath(dir: string): string {
  return path.join(dir, socketName());
}

/** Create the directory (0700) if missing, then check it (see checkedDir). */
export function ensurePrivateDir(dir: string): CheckedDir {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return checkedDir(dir)!;
}

/** An opened, checked keeper directory; `at(name)` is the path to use for a file in it. */
export interface CheckedDir {
  dir: string;
  at(name: string): string;
  close(): void;
}

/**
 * Open the directory without following a symlink and check the opened one: a directory, owned
 * by this user, mode 0700 (nothing for group and others). Undefined when it does not exist;
 * throws when it is not safe (then no keeper is used: the transport connects directly).
 */
export function checkedDir(dir: string): CheckedDir | undefined {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw new Error(`${dir} is not a directory (a symlink or a file)`);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
    if (myUid() >= 0 && st.uid !== myUid()) throw new Error(`${dir} belongs to uid ${st.uid}, not to this user (uid ${myUid()})`);
    if (st.mode & 0o077) throw new Error(`${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}); expected 700`);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  // Through the descriptor where the OS offers it (Linux); the path name otherwise.
  const viaFd = existsSync(`/proc/self/fd/${fd}`);
  return {
    dir,
    at: (name) => (viaFd ? `/proc/self/fd/${fd}/${name}` : path.join(dir, name)),
    close: () => closeSync(fd),
  };
}

/** The keeper key: parsed, and its file's bytes (what ssh2's server takes as a host key). */
export interface KeeperKey {
  parsed: ParsedKey;
  raw: Buffer;
}

/** The keeper key, checked on its descriptor: a regular file of this user's, 0600 or stricter. Undefined if missing. */
export function readKeeperKey(d: CheckedDir): KeeperKey | undefined {
  let fd: number;
  try {
    fd = openSync(d.at(KEY_FILE), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    const where = path.join(d.dir, KEY_FILE);
    if (!st.isFile() || st.size > MAX_KEY_BYTES) throw new Error(`${where} is not a key file`);
    if (myUid() >= 0 && st.uid !== myUid()) throw new Error(`${where} belongs to uid ${st.uid}, not to this user`);
    if (st.mode & 0o077) throw new Error(`${where} is readable by other users (mode ${(st.mode & 0o777).toString(8)})`);
    const raw = readFileSync(fd);
    const parsed = ssh2.utils.parseKey(raw);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error || !key?.isPrivateKey()) throw new Error(`${where} is not a private key`);
    return { parsed: key, raw };
  } finally {
    closeSync(fd);
  }
}

/** A new keeper key, written 0600 (a new file, then renamed over the old). */
export function writeKeeperKey(d: CheckedDir): void {
  const privateKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  const tmp = `${KEY_FILE}.${randomBytes(6).toString('hex')}`;
  const fd = openSync(d.at(tmp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, privateKey);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(d.at(tmp), d.at(KEY_FILE));
  } catch (e) {
    unlinkSync(d.at(tmp));
    throw e;
  }
}

/** Is `blob` (an SSH public key blob) the public half of `key`? Constant time. */
export function isKey(key: ParsedKey, blob: Buffer): boolean {
  const mine = key.getPublicSSH();
  return blob.length === mine.length && timingSafeEqual(blob, mine);
}
