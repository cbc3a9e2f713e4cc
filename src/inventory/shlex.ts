// Python's shlex.split(line, comments=True) (POSIX mode), which Ansible's INI plugin uses to cut a
// host line into the host and its key=value pairs: quotes group words and are removed
// (`a="x y"` is one token `a=x y`), a backslash escapes outside quotes and before " or \ inside
// double quotes, and `#` starts a comment even in the middle of a word (`k=a#b` is `k=a`).

export class ShlexError extends Error {}

const WHITESPACE = ' \t\r\n';

export function shlexSplit(line: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let inToken = false; // a token has started (it may be empty: '' is a token)
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (WHITESPACE.includes(c)) {
      if (inToken) tokens.push(token);
      token = '';
      inToken = false;
      i++;
    } else if (c === '#') {
      break; // the rest of the line is a comment
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new ShlexError('No escaped character');
      token += line[i + 1];
      inToken = true;
      i += 2;
    } else if (c === '"' || c === "'") {
      inToken = true;
      i++;
      for (;;) {
        if (i >= line.length) throw new ShlexError('No closing quotation');
        const q = line[i]!;
        if (q === c) {
          i++;
          break;
        }
        if (c === '"' && q === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          token += line[i + 1];
          i += 2;
          continue;
        }
        token += q;
        i++;
      }
    } else {
      token += c;
      inToken = true;
      i++;
    }
  }
  if (inToken) tokens.push(token);
  return tokens;
}
