// Facts about paths on the host: `file(path)` (type, mode, owner, group, sha256 and the temp
// files an interrupted upload left beside it), `fileContent(path)`, `fileText(path)`, `pathExists(path)`,
// `linkState(path)`, `pathOwner(path)`.
// Every name the host prints is NUL-terminated and every marker carries a random boundary, so a
// file name (which may hold newlines and tabs, but never NUL) cannot forge an answer; a stale
// temp file is reported only when its name is exactly `<dir>/.<base>.provision-tmp-<suffix>`.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sh, raw, type Shell } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';
import { defineFact, factKey } from './fact.js';

export interface RemoteStat {
  exists: boolean;
  mode?: number;
  owner?: string;
  group?: string;
  /** stat's %F: "regular file", "regular empty file", "directory", "symbolic link", ... */
  type?: string;
  sha256?: string;
  /** Temp files of an earlier upload to this path that never got renamed (a killed run). */
  stale: string[];
}

/** The prefix every temp file of an upload to `p` has (src/transport/tempfiles.ts names them so). */
function tempPrefix(p: string): string {
  return `${path.posix.dirname(p)}/.${path.posix.basename(p)}.provision-tmp-`;
}

/** A listed name is one of ours only when it is the prefix plus a suffix without a slash. */
function isTempOf(p: string, name: string): boolean {
  const prefix = tempPrefix(p);
  return name.startsWith(prefix) && name.length > prefix.length && !name.slice(prefix.length).includes('/');
}

/** `<b>:stale\0<name>\0` per temp file beside `p` (shell builtins only). */
function staleTemps(p: string, b: string): Shell {
  return sh`for f in ${path.posix.dirname(p)}/.${path.posix.basename(p)}.provision-tmp-*; do [ -e "$f" ] && printf '%s:stale\\000%s\\000' ${b} "$f"; done`;
}

const SHA = /^([0-9a-f]{64})\b/;
/** Random per process: whoever names a file before the run cannot know it. */
const BOUNDARY = randomBytes(8).toString('hex');

export const file = defineFact({
  name: 'file',
  arity: 1,
  command(p: string): Shell {
    const b = BOUNDARY;
    return sh`${staleTemps(p, b)}; if [ -e ${p} ]; then printf '%s:stat\\000' ${b}; stat --printf '%a\\t%U\\t%G\\t%F\\000' -- ${p}; if [ -f ${p} ]; then sha256sum < ${p}; fi; else printf '%s:absent\\000' ${b}; fi`;
  },
  parse(r: ExecResult, p: string): RemoteStat {
    if (r.code !== 0) throw new Error(`cannot read ${p}: ${r.stderr.trim()}`);
    const t = r.stdout.split('\0');
    const stale: string[] = [];
    for (let i = 0; i < t.length; i++) {
      if (t[i] === `${BOUNDARY}:stale`) {
        const name = t[++i];
        if (name !== undefined && isTempOf(p, name)) stale.push(name);
      } else if (t[i] === `${BOUNDARY}:absent`) return { exists: false, stale };
      else if (t[i] === `${BOUNDARY}:stat`) {
        const [mode, owner, group, type] = (t[i + 1] ?? '').split('\t');
        const sha = SHA.exec(t[i + 2] ?? '')?.[1];
        return { exists: true, mode: parseInt(mode, 8), owner, group, type, sha256: sha, stale };
      }
    }
    return { exists: false, stale }; // no marker at all: nothing there to report (as before)
  },
  many: (lists) => statMany(lists.map((l) => l[0])),
});

/** What the `file` command prints for this answer (for tests that script a host). */
export function fileAnswer(st: Omit<RemoteStat, 'stale'> & { stale?: string[] }): string {
  const stale = (st.stale ?? []).map((n) => `${BOUNDARY}:stale\0${n}\0`).join('');
  if (!st.exists) return `${stale}${BOUNDARY}:absent\0`;
  return `${stale}${BOUNDARY}:stat\0${(st.mode ?? 0o644).toString(8)}\t${st.owner}\t${st.group}\t${st.type ?? 'regular file'}\0${st.sha256 ? `${st.sha256}  -\n` : ''}`;
}

/**
 * The `file` fact of many paths as one command: one `stat` and one `sha256sum` for all of them
 * instead of one each per path (process starts are most of what a check costs). A path whose
 * answer is not certain (it changed under the command, or could not be read) has none, and is
 * asked on its own.
 */
export function statMany(paths: readonly string[]): { script: Shell; parse(stdout: string): Map<string, RemoteStat> } {
  const b = randomBytes(8).toString('hex');
  const all = [...paths];
  const heads = paths.map((p, i) => sh`if [ -f ${p} ]; then h=f; elif [ -e ${p} ]; then h=e; else h=a; fi; printf '%s:%s:%s\\000' ${b} ${i} "$h"; ${staleTemps(p, b)}`.text);
  const script = raw(
    [
      ...heads,
      sh`printf '%s:stat\\000' ${b}; set --; for p in ${all}; do [ -e "$p" ] && set -- "$@" "$p"; done; [ $# -eq 0 ] || stat --printf '%n\\0%a\t%U\t%G\t%F\\0' -- "$@"`.text,
      sh`printf '%s:sha\\000' ${b}; set --; for p in ${all}; do [ -f "$p" ] && set -- "$@" "$p"; done; [ $# -eq 0 ] || sha256sum -z -- "$@"`.text,
      sh`printf '%s:end\\000' ${b}`.text,
    ].join('\n'),
  );
  return {
    script,
    parse(stdout) {
      const out = new Map<string, RemoteStat>();
      const t = stdout.split('\0');
      const iStat = t.indexOf(`${b}:stat`);
      const iSha = t.indexOf(`${b}:sha`);
      const iEnd = t.indexOf(`${b}:end`);
      if (iStat < 0 || iSha < iStat || iEnd < iSha) return out; // cut short: no answers
      const heads = new Map<number, { kind: string; stale: string[] }>();
      let cur: { kind: string; stale: string[] } | undefined;
      for (let i = 0; i < iStat; i++) {
        const m = new RegExp(`^${b}:(\\d+):([efa])$`).exec(t[i]);
        if (m) heads.set(Number(m[1]), (cur = { kind: m[2], stale: [] }));
        else if (t[i] === `${b}:stale` && cur) cur.stale.push(t[++i] ?? '');
      }
      const stats = new Map<string, string>();
      for (let i = iStat + 1; i + 1 < iSha; i += 2) stats.set(t[i], t[i + 1]);
      const shas = new Map<string, string>();
      for (const rec of t.slice(iSha + 1, iEnd)) {
        const m = /^([0-9a-f]{64}) {2}([\s\S]*)$/.exec(rec);
        if (m) shas.set(m[2], m[1]);
      }
      paths.forEach((p, i) => {
        const h = heads.get(i);
        if (!h) return;
        const stale = h.stale.filter((n) => isTempOf(p, n));
        const meta = stats.get(p);
        if (h.kind === 'a') return out.set(factKey('file', [p]), { exists: false, stale });
        if (meta === undefined) return; // it exists, stat could not say: asked on its own
        const [mode, owner, group, type] = meta.split('\t');
        const sha = shas.get(p);
        if (h.kind === 'f' && !sha) return; // unreadable: asked on its own, which reports why
        out.set(factKey('file', [p]), { exists: true, mode: parseInt(mode, 8), owner, group, type, sha256: sha, stale });
      });
      return out;
    },
  };
}

/** A file's content, or null when it cannot be read (absent, a directory, no permission). */
export const fileContent = defineFact({
  name: 'fileContent',
  arity: 1,
  command: (p: string) => sh`cat -- ${p}`,
  parse: (r: ExecResult) => (r.code === 0 ? r.stdout : null),
});

/** Whether a path exists (`test -e`, following symlinks). */
export const pathExists = defineFact({
  name: 'pathExists',
  arity: 1,
  command: (p: string) => sh`test -e ${p}`,
  parse: (r: ExecResult) => r.code === 0,
});

export type LinkState = { kind: 'absent' } | { kind: 'link'; target: string } | { kind: 'other'; type: string };

/** What is at a path, for a link: nothing, a link (and its target, as stored), or something else (stat's %F). */
export const linkState = defineFact({
  name: 'linkState',
  arity: 1,
  command: (p: string) => sh`if [ -L ${p} ]; then printf 'link\t'; readlink -- ${p}; elif [ -e ${p} ]; then printf 'other\t'; stat -c %F -- ${p}; else echo absent; fi`,
  parse(r: ExecResult, p: string): LinkState {
    if (r.code !== 0) throw new Error(`cannot read ${p}: ${r.stderr.trim()}`);
    const [kind, ...rest] = r.stdout.replace(/\n$/, '').split('\t');
    if (kind === 'link') return { kind, target: rest.join('\t') };
    if (kind === 'other') return { kind, type: rest.join('\t') };
    return { kind: 'absent' };
  },
});

/** The owner and group of a path itself (a link's own, not its target's). */
export const pathOwner = defineFact({
  name: 'pathOwner',
  arity: 1,
  command: (p: string) => sh`stat -c '%U:%G' -- ${p}`,
  parse(r: ExecResult): { owner: string; group: string } {
    const [owner = '', group = ''] = r.stdout.trim().split(':');
    return { owner, group };
  },
});

/** A file's text, '' when nothing is at the path; a file that cannot be read throws. */
export const fileText = defineFact({
  name: 'fileText',
  arity: 1,
  command: (p: string) => sh`if [ -e ${p} ]; then cat -- ${p}; fi`,
  parse(r: ExecResult, p: string): string {
    if (r.code !== 0) throw new Error(`cannot read ${p}: ${r.stderr.trim()}`);
    return r.stdout;
  },
});
