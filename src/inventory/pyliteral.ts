// Python's ast.literal_eval() for the values of an INI inventory, as Ansible's INI plugin uses it:
// `port=22` is the int 22, `on=True` a bool, `x=None` null, `l=[1,'a']` a list, `d={'k': 1}` a
// dict, `'007'` the string 007 and `007` (a syntax error in Python) stays the string "007".
// A value that is not a Python literal (a name, an expression, a syntax error) is kept as the
// text it was: literalEval() returns undefined and the caller keeps the raw string.
//
// Covered: int (decimal, 0x, 0o, 0b, underscores), float (1.5, 1., .5, 1e3), str and bytes
// (quotes ' " ''' """, prefixes r b u, escapes, adjacent literals joined), True/False/None,
// list, tuple (as a list), dict, set (as a list), a single unary sign on a number, `#` comments.
// Complex numbers (`1j`) are not: such a value stays a string.

const MAX_DEPTH = 100;

/** Thrown (without a stack: it is common and cheap to make) when the text is not a literal. */
const NOT_LITERAL = Symbol('not a literal');

const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][-+]?[0-9](?:_?[0-9])*)?)/;
const NAME = /^[\p{L}_][\p{L}\p{N}_]*/u;
const STRING_START = /^([rRbBuU]|[rR][bB]|[bB][rR])?('''|"""|'|")/;

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '' };

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  private skip(): void {
    for (;;) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\f' || c === '\n' || c === '\r') this.i++;
      else if (c === '#') while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
      else if (c === '\\' && this.s[this.i + 1] === '\n') this.i += 2;
      else return;
    }
  }

  private peek(): string | undefined {
    this.skip();
    return this.s[this.i];
  }

  private expect(c: string): void {
    if (this.peek() !== c) throw NOT_LITERAL;
    this.i++;
  }

  parseAll(): unknown {
    const v = this.value(0);
    if (this.peek() !== undefined) throw NOT_LITERAL;
    return v;
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw NOT_LITERAL;
    const c = this.peek();
    if (c === undefined) throw NOT_LITERAL;
    if (c === '[') return this.seq(']', depth);
    if (c === '(') return this.paren(depth);
    if (c === '{') return this.brace(depth);
    if (c === '+' || c === '-') {
      this.i++;
      const n = this.number();
      return c === '-' ? -n : n;
    }
    const rest = this.s.slice(this.i);
    if (STRING_START.test(rest)) return this.strings();
    if (/^[0-9.]/.test(rest)) return this.number();
    const name = NAME.exec(rest)?.[0];
    if (name === undefined) throw NOT_LITERAL;
    this.i += name.length;
    if (name === 'True') return true;
    if (name === 'False') return false;
    if (name === 'None') return null;
    throw NOT_LITERAL;
  }

  private number(): number {
    this.skip();
    const rest = this.s.slice(this.i);
    const m = NUMBER.exec(rest);
    if (!m || m[0] === '.') throw NOT_LITERAL;
    const text = m[0];
    this.i += text.length;
    // A letter, digit or quote right after a number is a syntax error in Python (1abc, 1j is complex).
    if (/^[\p{L}\p{N}_'"]/u.test(this.s.slice(this.i))) throw NOT_LITERAL;
    const t = text.replace(/_/g, '');
    if (/^0[xX]/.test(t)) return parseInt(t.slice(2), 16);
    if (/^0[oO]/.test(t)) return parseInt(t.slice(2), 8);
    if (/^0[bB]/.test(t)) return parseInt(t.slice(2), 2);
    if (/[.eE]/.test(t)) return parseFloat(t);
    // Leading zeros are allowed only in zero itself (Python: "leading zeros in decimal integer literals are not permitted").
    if (/^0+[1-9]/.test(t)) throw NOT_LITERAL;
    return parseInt(t, 10);
  }

  /** One or more adjacent string literals, joined (str and bytes cannot mix). */
  private strings(): string {
    let out = '';
    let kind: 'str' | 'bytes' | undefined;
    for (;;) {
      this.skip();
      const m = STRING_START.exec(this.s.slice(this.i));
      if (!m) break;
      const prefix = (m[1] ?? '').toLowerCase();
      const k = prefix.includes('b') ? 'bytes' : 'str';
      if (kind && kind !== k) throw NOT_LITERAL;
      kind = k;
      this.i += m[0].length;
      out += this.stringBody(m[2]!, prefix.includes('r'));
    }
    return out;
  }

  private stringBody(quote: string, raw: boolean): string {
    let out = '';
    const triple = quote.length === 3;
    for (;;) {
      if (this.i >= this.s.length) throw NOT_LITERAL;
      if (this.s.startsWith(quote, this.i)) {
        this.i += quote.length;
        return out;
      }
      const c = this.s[this.i]!;
      if (c === '\n' && !triple) throw NOT_LITERAL;
      if (c !== '\\') {
        out += c;
        this.i++;
        continue;
      }
      const n = this.s[this.i + 1];
      if (n === undefined) throw NOT_LITERAL;
      if (raw) {
        out += c + n;
        this.i += 2;
        continue;
      }
      this.i += 2;
      out += this.escape(n);
    }
  }

  private escape(n: string): string {
    if (n in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[n]!;
    const hexLen = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0;
    if (hexLen) {
      const hex = this.s.slice(this.i, this.i + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) throw NOT_LITERAL;
      this.i += hexLen;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw NOT_LITERAL;
      return String.fromCodePoint(cp);
    }
    if (/[0-7]/.test(n)) {
      const oct = n + (/^[0-7]{0,2}/.exec(this.s.slice(this.i))?.[0] ?? '');
      this.i += oct.length - 1;
      return String.fromCodePoint(parseInt(oct, 8));
    }
    return '\\' + n; // Python keeps an unknown escape as it is
  }

  private items(close: string, depth: number, item: () => void): void {
    this.i++; // the opening bracket
    for (;;) {
      if (this.peek() === close) break;
      item();
      if (this.peek() === ',') this.i++;
      else break;
    }
    this.expect(close);
    void depth;
  }

  private seq(close: string, depth: number): unknown[] {
    const out: unknown[] = [];
    this.items(close, depth, () => out.push(this.value(depth + 1)));
    return out;
  }

  /** ( ) is an empty tuple, (x) is x, (x,) and (x, y) tuples. */
  private paren(depth: number): unknown {
    this.i++;
    if (this.peek() === ')') {
      this.i++;
      return [];
    }
    const first = this.value(depth + 1);
    if (this.peek() === ')') {
      this.i++;
      return first;
    }
    this.expect(',');
    this.i--; // let items() treat the rest as a tuple
    const out = [first];
    this.items(')', depth, () => out.push(this.value(depth + 1)));
    return out;
  }

  /** {k: v, ...} a dict, {a, b} a set (as a list). */
  private brace(depth: number): unknown {
    const save = this.i;
    this.i++;
    if (this.peek() === '}') {
      this.i++;
      return {};
    }
    this.value(depth + 1);
    const isDict = this.peek() === ':';
    this.i = save;
    if (!isDict) return this.seq('}', depth);
    const out: Record<string, unknown> = {};
    this.items('}', depth, () => {
      const k = this.value(depth + 1);
      if (typeof k === 'object' && k !== null) throw NOT_LITERAL; // unhashable
      this.expect(':');
      Object.defineProperty(out, keyString(k), { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
    });
    return out;
  }
}

/** A dict key as json.dumps writes it. */
function keyString(k: unknown): string {
  if (k === null) return 'null';
  if (typeof k === 'boolean') return k ? 'true' : 'false';
  return String(k);
}

/** ast.literal_eval(text) (after its lstrip of spaces and tabs), or undefined when text is not a literal. */
export function literalEval(text: string): unknown {
  const src = text.replace(/^[ \t]+/, '');
  if (src === '') return undefined;
  // A name that is not True/False/None and not a string prefix (web1, /etc/x is not a name but
  // fails the same way): never a literal, and the most common value; no parse needed.
  if (/^[A-Za-z_]/.test(src) && !STRING_START.test(src) && !/^(?:True|False|None)(?![\p{L}\p{N}_])/u.test(src)) return undefined;
  try {
    return new Parser(src).parseAll();
  } catch (e) {
    if (e === NOT_LITERAL) return undefined;
    throw e;
  }
}

/** An INI inventory value: the Python literal it spells, else the text itself (Ansible's _parse_value). */
export function iniValue(text: string): unknown {
  const v = literalEval(text);
  return v === undefined ? text : v;
}
