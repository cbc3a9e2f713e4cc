// Uploads: write a temp file next to the target, set mode and owner, then rename it over the
// target, so a reader sees the old file or the new one, never half of one. As the login user
// through SFTP; as root through `sudo sh -c 'cat > tmp ...'` with the bytes on stdin.
import type { SFTPWrapper, Stats } from 'ssh2';
import { HostError } from '../errors.js';
import { errMessage, oneLine } from './channel.js';
import { sh, type Shell } from './quote.js';
import { tempPathFor } from './tempfiles.js';
import type { ExecResult, PutOptions } from './types.js';

/** What an upload needs from the transport. */
export interface UploadTarget {
  readonly host: string;
  sftp(): Promise<SFTPWrapper>;
  /** A command as the login user (its own channel). */
  run(cmd: Shell): Promise<ExecResult>;
  /** A command as root, with stdin. */
  runRoot(cmd: Shell, stdin: Buffer): Promise<ExecResult>;
  isRoot(): Promise<boolean>;
}

/** Write `content` to `path` atomically (see the header); `sudo`: as root. */
export async function upload(t: UploadTarget, path: string, content: string | Buffer, opts: PutOptions, sudo: boolean): Promise<void> {
  checkTargetPath(path);
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  const mode = opts.mode === undefined ? undefined : parseMode(opts.mode);
  const owner = ownerSpec(opts);
  const tmp = tempPathFor(path);
  if (sudo) await putSudo(t, path, tmp, data, mode, owner);
  else await putSftp(t, path, tmp, data, mode, owner);
}

async function putSftp(t: UploadTarget, path: string, tmp: string, data: Buffer, mode: number | undefined, owner: string | undefined): Promise<void> {
  const sftp = await t.sftp();
  const failed = (what: string, e: unknown): HostError => {
    const m = errMessage(e);
    const hint = /permission denied/i.test(m) ? ' (use sudo/become to write as root)' : '';
    return new HostError(t.host, 'failed', `cannot write ${path}: ${what}: ${m}${hint}`);
  };
  const existing = await sftpCall<Stats | undefined>((cb) => sftp.stat(path, (err, st) => (err && (err as { code?: number }).code === 2 ? cb(undefined, undefined) : cb(err, st)))).catch(() => undefined);
  let handle: Buffer;
  try {
    handle = await sftpCall<Buffer>((cb) => sftp.open(tmp, 'wx', { mode: 0o600 }, cb));
  } catch (e) {
    throw failed('creating a temporary file', e);
  }
  let created = true;
  try {
    try {
      await writeAll(sftp, handle, data);
      await fsyncIfSupported(sftp, handle);
    } finally {
      await sftpCall<void>((cb) => sftp.close(handle, (err) => cb(err))).catch(() => undefined);
    }
    await sftpCall<void>((cb) => sftp.chmod(tmp, mode ?? (existing ? existing.mode & 0o7777 : 0o644), (err) => cb(err)));
    if (owner) {
      const r = await t.run(sh`chown ${owner} ${tmp}`);
      if (r.code !== 0) throw new Error(`chown ${owner}: ${oneLine(r.stderr) || `exit ${r.code}`}`);
    } else if (existing && (await t.isRoot())) {
      await sftpCall<void>((cb) => sftp.chown(tmp, existing.uid, existing.gid, (err) => cb(err)));
    }
    await renameOver(t, sftp, tmp, path);
    created = false;
  } catch (e) {
    throw e instanceof HostError ? e : failed('writing', e);
  } finally {
    if (created) await sftpCall<void>((cb) => sftp.unlink(tmp, (err) => cb(err))).catch(() => undefined);
  }
}

async function renameOver(t: UploadTarget, sftp: SFTPWrapper, tmp: string, path: string): Promise<void> {
  let unsupported = false;
  try {
    await sftpCall<void>((cb) => {
      try {
        sftp.ext_openssh_rename(tmp, path, (err) => cb(err));
      } catch (e) {
        unsupported = true; // the server lacks posix-rename@openssh.com
        cb(e as Error);
      }
    });
    return;
  } catch (e) {
    if (!unsupported) throw e;
  }
  const r = await t.run(sh`mv -f ${tmp} ${path}`);
  if (r.code !== 0) throw new Error(`mv: ${oneLine(r.stderr) || `exit ${r.code}`}`);
}

async function putSudo(t: UploadTarget, path: string, tmp: string, data: Buffer, mode: number | undefined, owner: string | undefined): Promise<void> {
  const modeStep = mode !== undefined ? sh`chmod ${formatMode(mode)} ${tmp}` : sh`{ if [ -e ${path} ]; then chmod --reference=${path} ${tmp}; else chmod 0644 ${tmp}; fi; }`;
  const ownStep = owner ? sh`chown ${owner} ${tmp}` : sh`{ [ ! -e ${path} ] || chown --reference=${path} ${tmp}; }`;
  // All the bytes, or nothing: if the controller dies mid-upload, `cat` sees the end of its input
  // and exits 0 (no pty, no SIGHUP), so without this check the truncated file would be moved in.
  const sizeStep = sh`{ [ "$(stat -c %s -- ${tmp})" = ${String(data.length)} ] || { echo ${`upload incomplete: fewer than ${data.length} bytes arrived`} >&2; false; }; }`;
  // noclobber: the temp file must be new; any failure removes it and keeps the exit code.
  const script = sh`umask 077; set -C; cat > ${tmp} && ${sizeStep} && ${modeStep} && ${ownStep} && mv -f ${tmp} ${path} || { rc=$?; rm -f ${tmp}; exit $rc; }`;
  const r = await t.runRoot(script, data);
  if (r.code !== 0) {
    throw new HostError(t.host, 'failed', `cannot write ${path} (sudo): ${oneLine(r.stderr) || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`)}`);
  }
}

function checkTargetPath(path: string): void {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (!path.startsWith('/') || path.endsWith('/') || path.includes('\0') || base === '..' || base === '.') {
    throw new Error(`put() needs an absolute file path, got ${JSON.stringify(path)}`);
  }
}

/** "0644", "644", "0o644", "2755" → number. */
export function parseMode(mode: string): number {
  const m = /^(?:0o?)?([0-7]{3,4})$/.exec(mode.trim());
  if (!m) throw new Error(`invalid file mode ${JSON.stringify(mode)} (expected an octal string like "0644")`);
  return parseInt(m[1], 8);
}

function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

function ownerSpec(opts: PutOptions): string | undefined {
  for (const [k, v] of [['owner', opts.owner], ['group', opts.group]] as const) {
    if (v !== undefined && !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(v)) throw new Error(`invalid ${k} name ${JSON.stringify(v)}`);
  }
  if (opts.owner && opts.group) return `${opts.owner}:${opts.group}`;
  if (opts.owner) return opts.owner;
  if (opts.group) return `:${opts.group}`;
  return undefined;
}

function sftpCall<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** Write `data` with several requests in flight (SFTP is request/response per chunk). */
async function writeAll(sftp: SFTPWrapper, handle: Buffer, data: Buffer): Promise<void> {
  const CHUNK = 32 * 1024;
  const PARALLEL = 16;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < data.length) {
      const off = next;
      const len = Math.min(CHUNK, data.length - off);
      next += len;
      await sftpCall<void>((cb) => sftp.write(handle, data, off, len, off, (err) => cb(err)));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

async function fsyncIfSupported(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  await sftpCall<void>((cb) => {
    try {
      sftp.ext_openssh_fsync(handle, (err) => cb(err));
    } catch {
      cb(undefined); // fsync@openssh.com not offered
    }
  });
}
