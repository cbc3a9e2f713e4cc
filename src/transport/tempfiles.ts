// Upload temp files: the one namer (`.<name>.provision-tmp-<random>` next to the target, used by
// every upload and by validated writes) and the leftovers of interrupted ones (e.g. after a SIGKILL).
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { HostError } from '../errors.js';
import { sh } from './quote.js';
import type { Transport } from './types.js';

/** The `find -name` pattern of upload temp files. */
export const TEMP_FILE_GLOB = '.*.provision-tmp-*';

/** The temp file an upload writes before the rename: `.<name>.provision-tmp-<random>` next to the target. */
export function tempPathFor(target: string): string {
  const dir = posix.dirname(target);
  const base = posix.basename(target).slice(0, 180);
  return posix.join(dir, `.${base}.provision-tmp-${randomBytes(6).toString('hex')}`);
}

export interface StaleTempOptions {
  /** Look (and remove) as root. */
  sudo?: boolean;
  /** Only files older than this many minutes (so a concurrent run's upload is left alone). Default 0. */
  olderThanMinutes?: number;
}

function findCommand(dir: string, opts: StaleTempOptions, remove: boolean) {
  if (!dir.startsWith('/') || dir.includes('\0')) throw new Error(`stale temp lookup needs an absolute directory, got ${JSON.stringify(dir)}`);
  const age = opts.olderThanMinutes ? sh`-mmin +${Math.floor(opts.olderThanMinutes)}` : sh``;
  // -maxdepth 1: only the directory itself, never a walk of the tree.
  return remove
    ? sh`find ${dir} -maxdepth 1 -type f -name ${TEMP_FILE_GLOB} ${age} -print -exec rm -f {} +`
    : sh`find ${dir} -maxdepth 1 -type f -name ${TEMP_FILE_GLOB} ${age} -print`;
}

async function run(t: Transport, dir: string, opts: StaleTempOptions, remove: boolean): Promise<string[]> {
  const r = await t.exec(findCommand(dir, opts, remove), { sudo: opts.sudo ?? false });
  if (r.code !== 0) {
    const msg = r.stderr.trim().split('\n')[0] || `exit ${r.code}`;
    throw new HostError(t.host, 'failed', `cannot ${remove ? 'clean' : 'list'} upload temp files in ${dir}: ${msg}`);
  }
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Upload temp files left in `dir` (not recursive). */
export function findStaleTemps(t: Transport, dir: string, opts: StaleTempOptions = {}): Promise<string[]> {
  return run(t, dir, opts, false);
}

/** Remove upload temp files left in `dir`; returns the paths removed. */
export function removeStaleTemps(t: Transport, dir: string, opts: StaleTempOptions = {}): Promise<string[]> {
  return run(t, dir, opts, true);
}
