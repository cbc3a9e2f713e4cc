// Several commands in one round trip: each runs in a subshell of the batch's shell,
// `( eval '<command>' ) </dev/null`, one after the other; their stdout, stderr and exit codes
// come back framed by lines that carry a random boundary (128 bits per batch, so no command's
// output can forge one).
// A subshell keeps each command's exit, cd, set, traps and variables to itself as `sh -c` does,
// and costs a fork instead of a fork plus a new shell (exec, dynamic linking): on the lab's
// containers that is most of what a short read costs. The batch defines nothing a command
// could see (no functions, no variables besides the shell's own).
// A simple command (one program and plain or single-quoted words: no expansion, redirection,
// operator or assignment, and not a builtin that changes the shell) cannot change the shell
// that starts it, so it runs without the subshell: `cat -- /etc/hosts` then costs one fork and
// exec instead of two forks and an exec, about half the time of a read.
//
//   stdout: <out 0>\n<B>:0:<code>\n<out 1>\n<B>:1:<code>\n ...
//   stderr: <err 0>\n<B>:0\n<err 1>\n<B>:1\n ...
//
// The leading newline of a frame line is ours and removed, as in ./shell.ts. A command the
// batch never finished (the shell was killed) has no frame and no result.
import { randomBytes } from 'node:crypto';
import { q, raw, type Shell } from './quote.js';
import type { ExecResult } from './types.js';

export interface Batch {
  script: Shell;
  /** Split the batch's output into one result per command (undefined: it did not finish). */
  parse(stdout: string, stderr: string): (ExecResult | undefined)[];
}

/**
 * `commands` run each in a subshell; `ownLast` (trusted snippets of provision's own, e.g. the
 * stats of src/ops/files.ts statMany) run after them in the batch's shell itself, one fork
 * fewer each: nothing runs after them that could see what they set. Results come in that
 * order: commands, then ownLast.
 */
export function batchOf(commands: readonly string[], ownLast: readonly string[] = []): Batch {
  const b = randomBytes(16).toString('hex');
  const frame = (i: number) => `printf '\\n%s:%s:%s\\n' ${b} ${i} "$?"; printf '\\n%s:%s\\n' ${b} ${i} >&2`;
  const lines = [
    ...commands.map((c, i) => (isSimpleCommand(c) ? `{ eval ${q(c)}; }` : `( eval ${q(c)} )`) + ` </dev/null; ${frame(i)}`),
    ...ownLast.map((c, j) => `{ eval ${q(c)}; } </dev/null; ${frame(commands.length + j)}`),
  ];
  const all = [...commands, ...ownLast];
  return {
    script: raw(lines.join('\n') + '\nexit 0'),
    parse(stdout, stderr) {
      const outs = frames(stdout, new RegExp(`\\n${b}:(\\d+):(\\d+)\\n`, 'g'));
      const errs = frames(stderr, new RegExp(`\\n${b}:(\\d+)\\n`, 'g'));
      return all.map((_, i) => {
        const o = outs.get(i);
        const e = errs.get(i);
        return o && e ? { stdout: o.body, stderr: e.body, code: Number(o.code) } : undefined;
      });
    },
  };
}

/** A word: unquoted characters that no shell expands or treats as syntax, or '...' parts. */
const WORD = String.raw`(?:[A-Za-z0-9_./:=,+@%-]|'[^']*')+`;
const SIMPLE = new RegExp(`^${WORD}(?: ${WORD})*$`);
/** The first word: a program's name or path (no quotes, no `=`: not an assignment). */
const PROGRAM = /^[A-Za-z0-9_./-]+(?= |$)/;
/** Keywords and builtins (dash, bash) that are syntax or can change the shell they run in. */
const SHELL_OWN = new Set(
  ('. alias bg bind break builtin caller case cd chdir command compgen complete compopt continue declare dirs disown do done elif else ' +
    'enable esac eval exec exit export fc fg fi for function getopts hash help history if in jobs let local logout mapfile popd pushd read ' +
    'readarray readonly return select set shift shopt source suspend then time trap typeset ulimit umask unalias unset until wait while').split(' '),
);

/** True when `cmd` runs one program with plain words: it cannot change the shell that starts it. */
export function isSimpleCommand(cmd: string): boolean {
  const program = PROGRAM.exec(cmd)?.[0];
  return program !== undefined && !SHELL_OWN.has(program) && SIMPLE.test(cmd);
}

/** The bodies between frame lines, by command index (a frame line ends the body before it). */
function frames(text: string, frame: RegExp): Map<number, { body: string; code?: string }> {
  const out = new Map<number, { body: string; code?: string }>();
  // Each body starts right after the previous frame line; a frame line begins with our newline,
  // so the text gets one in front for a first command that printed nothing.
  const s = '\n' + text;
  let from = 1;
  for (const m of s.matchAll(frame)) {
    out.set(Number(m[1]), { body: s.slice(from, m.index), code: m[2] });
    from = m.index! + m[0].length;
  }
  return out;
}
