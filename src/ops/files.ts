// Files, templates, directories, managed blocks and lines: remote state read in one command,
// written atomically (temp file in the target directory, then rename), validated before
// activation where a validator is given.
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { sh, raw, type Shell } from '../transport/quote.js';
import { tempPathFor } from '../transport/tempfiles.js';
import type { ExecResult } from '../transport/types.js';
import type { OpContext, Plan } from './types.js';
import { parseMode as parseFileMode } from '../transport/index.js';
import { OpError } from './types.js';
import { run, fact } from './remote.js';
import { file, fileContent, type RemoteStat } from '../facts/file.js';
import { unifiedDiff } from './diff.js';

export interface FileSpec {
  path: string;
  /** Desired content; omit with state 'absent'. */
  content?: string | Buffer;
  mode?: string;
  owner?: string;
  group?: string;
  state?: 'present' | 'absent';
  /** Build the validation command for a candidate file (e.g. p => sh`nginx -t -c ${p}`). */
  validate?: (candidatePath: string) => Shell;
}

/** One round trip (or a read-ahead answer): type, mode, owner, group, sha256 and stale temp files of a path. */
export function remoteStat(ctx: OpContext, p: string): Promise<RemoteStat> {
  return fact(ctx, file, p);
}

/** A file's content, null when it cannot be read. */
export function remoteRead(ctx: OpContext, p: string): Promise<string | null> {
  return fact(ctx, fileContent, p);
}

/** A file mode option ("0644") as a number: the transport's parser, failing as an operation does. */
export function parseMode(mode: string | undefined): number | undefined {
  if (mode === undefined) return undefined;
  try {
    return parseFileMode(mode);
  } catch {
    throw new OpError(`file mode ${JSON.stringify(mode)} is not an octal string like "0644"`);
  }
}

function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** What differs in metadata, as short words for the task message. */
function metaChanges(st: RemoteStat, spec: FileSpec): string[] {
  const out: string[] = [];
  const mode = parseMode(spec.mode);
  if (mode !== undefined && st.mode !== mode) out.push(`mode ${st.mode?.toString(8)} -> ${mode.toString(8)}`);
  if (spec.owner && st.owner !== spec.owner) out.push(`owner ${st.owner} -> ${spec.owner}`);
  if (spec.group && st.group !== spec.group) out.push(`group ${st.group} -> ${spec.group}`);
  return out;
}

export async function planFile(ctx: OpContext, spec: FileSpec): Promise<Plan> {
  const st = await remoteStat(ctx, spec.path);
  if (spec.state === 'absent') {
    if (!st.exists) return { changed: false, message: 'absent' };
    return {
      changed: true,
      message: `remove ${spec.path}`,
      diff: ctx.diff ? unifiedDiff(spec.path, await remoteRead(ctx, spec.path), null) : undefined,
      apply: async () => {
        await run(ctx, sh`rm -f -- ${spec.path}`, `remove ${spec.path}`);
      },
    };
  }
  if (spec.content === undefined) throw new OpError(`file ${spec.path}: no content given`);
  const content = spec.content;
  if (st.exists && st.type !== 'regular file' && st.type !== 'regular empty file') {
    throw new OpError(`${spec.path} exists and is a ${st.type}, not a regular file`);
  }
  const contentChanged = !st.exists || st.sha256 !== sha256(content);
  const meta = st.exists ? metaChanges(st, spec) : [];
  if (!contentChanged && meta.length === 0 && st.stale.length === 0) return { changed: false };
  const cleanStale = async () => {
    if (st.stale.length) await run(ctx, sh`rm -f -- ${st.stale}`, 'remove stale temp files');
  };
  let diff: string | undefined;
  if (ctx.diff && contentChanged) {
    const before = st.exists ? await remoteRead(ctx, spec.path) : null;
    diff = unifiedDiff(spec.path, before, content.toString());
  }
  const message = [
    !st.exists ? 'created' : contentChanged ? 'content' : '',
    ...meta,
    st.stale.length ? `${st.stale.length} stale temp file(s) from an interrupted run removed` : '',
  ].filter(Boolean).join(', ');
  return {
    changed: true,
    diff,
    message,
    apply: async () => {
      await cleanStale();
      if (!contentChanged && meta.length === 0) return;
      if (!contentChanged) {
        // Metadata only: no rewrite.
        if (spec.mode) await run(ctx, sh`chmod ${spec.mode} -- ${spec.path}`, 'chmod');
        if (spec.owner || spec.group) {
          await run(ctx, sh`chown ${`${spec.owner ?? ''}${spec.group ? ':' + spec.group : ''}`} -- ${spec.path}`, 'chown');
        }
        return;
      }
      await writeFile(ctx, spec);
    },
  };
}

/** Write (optionally validating a candidate first) so that the target is never half-written or invalid. */
export async function writeFile(ctx: OpContext, spec: FileSpec): Promise<void> {
  const opts = { mode: spec.mode ?? '0644', owner: spec.owner, group: spec.group };
  if (!spec.validate) {
    await ctx.transport.put(spec.path, spec.content!, opts);
    return;
  }
  const candidate = tempPathFor(spec.path);
  await ctx.transport.put(candidate, spec.content!, opts);
  const v = await ctx.transport.exec(spec.validate(candidate));
  if (v.code !== 0) {
    await ctx.transport.exec(sh`rm -f -- ${candidate}`);
    const out = `${v.stderr}\n${v.stdout}`.trim().split('\n').slice(-15).join('\n');
    throw new OpError(`validation of ${spec.path} failed (exit ${v.code ?? v.signal}); the live file was left alone:\n${out}`);
  }
  await run(ctx, sh`mv -f -- ${candidate} ${spec.path}`, `activate ${spec.path}`);
}

export interface DirectorySpec {
  path: string;
  mode?: string;
  owner?: string;
  group?: string;
}

export async function planDirectory(ctx: OpContext, spec: DirectorySpec): Promise<Plan> {
  const st = await remoteStat(ctx, spec.path);
  if (st.exists && st.type !== 'directory') throw new OpError(`${spec.path} exists and is a ${st.type}, not a directory`);
  const meta = st.exists ? metaChanges(st, { ...spec }) : [];
  if (st.exists && meta.length === 0) return { changed: false };
  return {
    changed: true,
    message: st.exists ? meta.join(', ') : 'created',
    apply: async () => {
      await run(ctx, sh`mkdir -p -- ${spec.path}`, `mkdir ${spec.path}`);
      if (spec.mode) await run(ctx, sh`chmod ${spec.mode} -- ${spec.path}`, 'chmod');
      if (spec.owner || spec.group) {
        await run(ctx, sh`chown ${`${spec.owner ?? ''}${spec.group ? ':' + spec.group : ''}`} -- ${spec.path}`, 'chown');
      }
    },
  };
}

export interface BlockSpec {
  path: string;
  /** Identifies the block: "# BEGIN <marker>" ... "# END <marker>". */
  marker: string;
  /** Lines of the block (without the markers). Empty removes the block. */
  block: string;
  mode?: string;
}

/** Replace (or append) the managed block in a text, leaving everything else byte for byte. */
export function withBlock(text: string, marker: string, block: string): string {
  const begin = `# BEGIN ${marker}`;
  const end = `# END ${marker}`;
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const b = lines.indexOf(begin);
  const e = b >= 0 ? lines.indexOf(end, b) : -1;
  const body = block.trim() === '' ? [] : [begin, ...block.replace(/\n$/, '').split('\n'), end];
  let out: string[];
  if (b >= 0 && e >= 0) out = [...lines.slice(0, b), ...body, ...lines.slice(e + 1)];
  else out = [...lines, ...body];
  return out.length ? out.join('\n') + '\n' : '';
}

/**
 * An edit of a text file's content (a block, a line): the plan that writes `after` over
 * `before`, keeping the file's mode and owner (a new file: `newMode`, root).
 */
async function planEdit(ctx: OpContext, path: string, edit: (before: string) => string, o: { message?: string; newMode?: string } = {}): Promise<Plan> {
  const before = (await remoteRead(ctx, path)) ?? '';
  const after = edit(before);
  if (before === after) return { changed: false };
  return {
    changed: true,
    message: o.message,
    diff: ctx.diff ? unifiedDiff(path, before, after) : undefined,
    apply: async () => {
      const st = await remoteStat(ctx, path);
      await ctx.transport.put(path, after, {
        mode: st.exists ? '0' + st.mode!.toString(8) : o.newMode ?? '0644',
        owner: st.owner ?? 'root',
        group: st.group ?? 'root',
      });
    },
  };
}

export function planBlock(ctx: OpContext, spec: BlockSpec): Promise<Plan> {
  return planEdit(ctx, spec.path, (before) => withBlock(before, spec.marker, spec.block), { message: `block ${spec.marker}`, newMode: spec.mode });
}

export interface LineSpec {
  path: string;
  /**
   * Which line is `line`'s: a RegExp, or a string (that exact line). The last match is replaced;
   * none: `line` is appended unless it is there already. Default: `line` itself.
   */
  regexp?: RegExp | string;
  /** Wanted with state 'present' (the default); with 'absent' every matching line goes. */
  line?: string;
  state?: 'present' | 'absent';
}

function lineMatcher(match: RegExp | string | undefined, line: string | undefined): (l: string) => boolean {
  if (match instanceof RegExp) {
    return (l) => {
      match.lastIndex = 0;
      return match.test(l);
    };
  }
  const exact = match ?? line;
  return (l) => l === exact;
}

export function withLine(text: string, regexp: RegExp | string | undefined, line: string | undefined, state: 'present' | 'absent' = 'present'): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const hit = lineMatcher(regexp, line);
  if (state === 'absent') {
    const kept = lines.filter((l) => !hit(l));
    return kept.length === lines.length ? text : kept.length ? kept.join('\n') + '\n' : '';
  }
  if (line === undefined) throw new OpError('line: "line" is required unless state is "absent"');
  let idx = -1;
  lines.forEach((l, i) => {
    if (hit(l)) idx = i;
  });
  if (idx >= 0) lines[idx] = line;
  else if (!lines.includes(line)) lines.push(line);
  return lines.join('\n') + '\n';
}

export function planLine(ctx: OpContext, spec: LineSpec): Promise<Plan> {
  return planEdit(ctx, spec.path, (before) => withLine(before, spec.regexp, spec.line, spec.state));
}
