// get_url: a file downloaded by the host itself (curl, else wget) into a temp file beside
// dest, its checksum verified before the rename. unarchive: an archive (on the host with
// remote_src, else the controller's, uploaded) extracted unless its members are all there.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readInputFile, MAX_UPLOAD_BYTES } from '../input-file.js';
import { sh } from '../transport/quote.js';
import type { OpContext, Plan } from './types.js';
import { OpError } from './types.js';
import { run, chownArg } from './remote.js';
import { remoteStat } from './files.js';
import { sourceFile } from './source.js';
import { defineOperation } from './operation.js';
import { t, required } from './schema.js';

const ALGOS = ['sha256', 'sha1', 'sha512', 'md5'] as const;

/** "sha256:<hex>" into its algorithm and digest. */
export function parseChecksum(checksum: string): { algo: (typeof ALGOS)[number]; digest: string } {
  const m = /^(\w+):([0-9a-fA-F]+)$/.exec(checksum);
  const algo = m?.[1] as (typeof ALGOS)[number];
  if (!m || !ALGOS.includes(algo)) throw new OpError(`checksum ${JSON.stringify(checksum)} is not "<${ALGOS.join('|')}>:<hex digest>"`);
  return { algo, digest: m[2].toLowerCase() };
}

async function digestOf(ctx: OpContext, algo: string, file: string, read: boolean): Promise<string | undefined> {
  const cmd = sh`${algo === 'sha256' ? 'sha256sum' : `${algo}sum`} -- ${file}`;
  const r = read ? await ctx.read(cmd) : await ctx.transport.exec(cmd);
  return r.code === 0 ? r.stdout.split(/\s+/)[0] : undefined;
}

const tempBeside = (p: string) => path.posix.join(path.posix.dirname(p), `.${path.posix.basename(p)}.provision-tmp-${randomBytes(4).toString('hex')}`);

export const getUrl = defineOperation({
  summary: 'A file downloaded by the host from a URL, checked against a checksum.',
  ansible: 'ansible.builtin.get_url',
  options: {
    url: required(t.string('http(s):// or file:// URL, fetched by the host (curl, else wget)')),
    dest: required(t.string('path on the host; a directory gets the URL\'s file name')),
    checksum: t.string('"sha256:<hex>" (also sha1, sha512, md5): verified after download; a dest that matches is not downloaded again'),
    force: t.boolean('download again even when dest exists (without checksum)', { default: 'false' }),
    mode: t.mode('file mode', { default: '"0644"' }),
    owner: t.string('owner'),
    group: t.string('group'),
    timeout: t.number('seconds for the download', { default: '10' }),
  },
  reads: "dest's type, mode, owner and sha256 (one stat); the digest with another algorithm",
  changes: 'downloads to a temp file beside dest, verifies the checksum, sets mode/owner, renames over dest',
  checkMode: '--check says it would download; no diff',
  example: `await r.getUrl('tool', { url: 'https://example.org/tool.tgz', dest: '/opt/tool.tgz', checksum: 'sha256:...' });`,
  async run(ctx, spec): Promise<Plan> {
    const sum = spec.checksum ? parseChecksum(spec.checksum) : undefined;
    let dest = spec.dest;
    let st = await remoteStat(ctx, dest);
    if (st.type === 'directory') {
      const base = path.posix.basename(new URL(spec.url).pathname);
      if (!base) throw new OpError(`get_url: ${spec.url} names no file to put in the directory ${dest}`);
      dest = path.posix.join(dest, base);
      st = await remoteStat(ctx, dest);
    }
    const have = !st.exists ? undefined : sum?.algo === 'sha256' ? st.sha256 : sum ? await digestOf(ctx, sum.algo, dest, true) : undefined;
    const fresh = st.exists && (sum ? have === sum.digest : !spec.force);
    const mode = spec.mode ? parseInt(spec.mode, 8) : undefined;
    const meta = fresh && ((mode !== undefined && st.mode !== mode) || (spec.owner && st.owner !== spec.owner) || (spec.group && st.group !== spec.group));
    if (fresh && !meta) return { changed: false };
    const chown = chownArg(spec.owner, spec.group);
    if (fresh) {
      return {
        changed: true,
        message: `mode/owner of ${dest}`,
        apply: async () => {
          if (spec.mode) await run(ctx, sh`chmod ${spec.mode} -- ${dest}`, 'chmod');
          if (chown) await run(ctx, sh`chown ${chown} -- ${dest}`, 'chown');
        },
      };
    }
    return {
      changed: true,
      message: `download ${spec.url} -> ${dest}`,
      apply: async () => {
        const tmp = tempBeside(dest);
        const secs = String(spec.timeout ?? 10);
        try {
          await run(ctx, sh`if command -v curl >/dev/null 2>&1; then curl -fsSL --max-time ${secs} -o ${tmp} -- ${spec.url}; else wget -q -T ${secs} -O ${tmp} -- ${spec.url}; fi`, `download ${spec.url}`);
          if (sum) {
            const got = await digestOf(ctx, sum.algo, tmp, false);
            if (got !== sum.digest) throw new OpError(`${spec.url}: ${sum.algo} is ${got}, expected ${sum.digest}; ${dest} left alone`);
          }
          await run(ctx, sh`chmod ${spec.mode ?? '0644'} -- ${tmp}`, 'chmod');
          if (chown) await run(ctx, sh`chown ${chown} -- ${tmp}`, 'chown');
          await run(ctx, sh`mv -f -- ${tmp} ${dest}`, `activate ${dest}`);
        } catch (e) {
          await ctx.transport.exec(sh`rm -f -- ${tmp}`);
          throw e;
        }
      },
    };
  },
});

const isZip = (p: string) => /\.zip$/i.test(p);

/** The member names of a controller archive (tar auto-detects gzip, bzip2, xz). */
async function localMembers(file: string): Promise<string[]> {
  const r = await promisify(execFile)(isZip(file) ? 'unzip' : 'tar', isZip(file) ? ['-Z1', file] : ['-tf', file], { maxBuffer: 64 << 20 });
  return r.stdout.split('\n').filter(Boolean);
}

export const unarchive = defineOperation({
  summary: 'An archive (tar, tar.gz/bz2/xz, zip) extracted into a directory unless its members are all there.',
  ansible: 'ansible.builtin.unarchive',
  options: {
    src: required(t.string('the archive: on the host with remote_src, else a controller file (role files/)')),
    dest: required(t.string('existing directory on the host')),
    remote_src: t.boolean('src is already on the host', { default: 'false' }),
    creates: t.string('skip when this path exists on the host'),
  },
  reads: '`creates`; else the archive\'s member list (tar -tf / unzip -Z1) checked against dest (one command)',
  changes: 'tar -xf / unzip -o into dest (a controller archive is uploaded to a temp file first and removed after)',
  checkMode: '--check says it would extract; members already present are not compared by content',
  example: `await r.unarchive('app', { src: '/tmp/app.tar.gz', dest: '/opt/app', remote_src: true });`,
  async run(ctx, spec): Promise<Plan> {
    if (spec.creates && (await ctx.read(sh`test -e ${spec.creates}`)).code === 0) return { changed: false, message: `${spec.creates} exists` };
    const local = spec.remote_src ? undefined : sourceFile(ctx, 'files', spec.src);
    const zip = isZip(spec.src);
    const dest = spec.dest.replace(/\/+$/, '') || '/';
    const missing = `while IFS= read -r m; do [ -e "$1/$m" ] || [ -L "$1/$m" ] || { echo "missing: $m"; exit 0; }; done`;
    let r;
    if (local) r = await ctx.read(sh`test -d ${dest} && printf '%s\n' ${await localMembers(local)} | sh -c ${missing} _ ${dest}`);
    else r = await ctx.read(sh`test -d ${dest} && test -f ${spec.src} && ${zip ? sh`unzip -Z1 -- ${spec.src}` : sh`tar -tf ${spec.src}`} | sh -c ${missing} _ ${dest}`);
    if (r.code !== 0) throw new OpError(`unarchive: ${dest} must be an existing directory and ${spec.src} a readable archive${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`);
    if (!r.stdout.includes('missing: ')) return { changed: false };
    return {
      changed: true,
      message: `extract ${spec.src} into ${dest} (${r.stdout.trim()})`,
      apply: async () => {
        const archive = local ? tempBeside(`${dest}/${path.basename(local)}`) : spec.src;
        if (local) await ctx.transport.put(archive, await readInputFile(local, { what: 'archive', maxBytes: MAX_UPLOAD_BYTES }), { mode: '0600' });
        try {
          await run(ctx, zip ? sh`unzip -o -q -- ${archive} -d ${dest}` : sh`tar -xf ${archive} -C ${dest}`, `extract ${spec.src}`);
        } finally {
          if (local) await ctx.transport.exec(sh`rm -f -- ${archive}`);
        }
      },
    };
  },
});
