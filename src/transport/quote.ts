// The one quoting helper for remote commands. Every value that goes into a remote shell
// command passes through `q` (or the `sh` tagged template), never string pasting.

/** Quote one value for a POSIX shell: safe for any byte string except NUL. */
export function q(value: string | number): string {
  const s = String(value);
  if (s.includes('\0')) throw new Error('refusing to quote a value containing a NUL byte');
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A piece of shell text that must not be quoted again (built by `sh` or `raw`). */
export class Shell {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Mark trusted shell text (operators, redirections written in our own source code). */
export function raw(text: string): Shell {
  return new Shell(text);
}

type Interp = string | number | Shell | Array<string | number | Shell>;

function render(v: Interp): string {
  if (v instanceof Shell) return v.text;
  if (Array.isArray(v)) return v.map(render).join(' ');
  return q(v);
}

/**
 * Tagged template: literal parts are trusted shell text written in our source;
 * every interpolated value is quoted (arrays become space-separated quoted words).
 *   sh`test -e ${path} && sha256sum ${path}`
 */
export function sh(strings: TemplateStringsArray, ...values: Interp[]): Shell {
  let out = strings[0];
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1];
  });
  return new Shell(out);
}
