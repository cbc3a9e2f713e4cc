// Host keys in a YAML inventory: `web1`, `web1:2222`, `web[1:3]`, `db-[a:c]`, `node[01:10:2]`,
// `10.0.0.[1:4]`, `[2001:db8::1]:22`. A port of ansible-core 2.14's parse_address() and
// expand_hostname_range() (ansible/parsing/utils/addresses.py, ansible/plugins/inventory/__init__.py).

const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const NUM_RANGE = String.raw`\[[0-9]+:[0-9]+(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]`;
// Python's \w under re.UNICODE: letters, digits and underscore of any script.
const W = String.raw`[\p{L}\p{N}_]`;
const LABEL = String.raw`(?:${W}|${ALNUM_RANGE})(?:${W}|[_-]|${ALNUM_RANGE})*(?<![_-])`;
const I4 = String.raw`(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUM_RANGE})`;
const I6 = String.raw`(?:[0-9a-f]{1,4}|${HEX_RANGE})`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
const IPV4 = new RegExp(String.raw`^(?:${I4}\.){3}${I4}$`, 'i');
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${I6}:){7}${I6}`,
      `(?:${I6}:){1,6}:`,
      `(?:${I6}:)(?::${I6}){1,6}`,
      `(?:${I6}:){2}(?::${I6}){1,5}`,
      `(?:${I6}:){3}(?::${I6}){1,4}`,
      `(?:${I6}:){4}(?::${I6}){1,3}`,
      `(?:${I6}:){5}(?::${I6}){1,2}`,
      `(?:${I6}:){6}(?::${I6})`,
      `:(?::${I6}){1,6}`,
      `${I6}?::`,
      String.raw`(?:0:){6}(?:${I6}\.){3}${I6}`,
      String.raw`::(?:ffff:)?(?:${I6}\.){3}${I6}`,
      String.raw`(?:0:){5}ffff:(?:${I6}\.){3}${I6}`,
    ].join('|') +
    ')$',
  'i',
);
const HOSTNAME = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*$`, 'iu');
// The usual name, in ASCII and without ranges: a match here is a match of HOSTNAME, whose
// Unicode classes cost ~8 ms to compile on first use (most runs never need them).
const ASCII_LABEL = String.raw`[A-Za-z0-9_][A-Za-z0-9_-]*(?<![_-])`;
const ASCII_HOSTNAME = new RegExp(String.raw`^${ASCII_LABEL}(?:\.${ASCII_LABEL})*$`);

const ASCII_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export class HostPatternError extends Error {}

/** Most host names one range pattern may stand for (`h[0:9999999]` would be ten million). */
export const MAX_RANGE_HOSTS = 100_000;

/** parse_address(allow_ranges=True): host and optional port, or null if not an address. */
export function parseAddress(address: string): { host: string; port?: number } | null {
  let port: number | undefined;
  let addr = address;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(addr);
    if (m) {
      addr = m[1]!;
      port = Number(m[2]);
    }
  }
  // Names first: the usual case, and the large IPv6 expression is then rarely compiled at all.
  if (ASCII_HOSTNAME.test(addr) || HOSTNAME.test(addr) || IPV4.test(addr) || IPV6.test(addr)) return { host: addr, port };
  return null;
}

function pyInt(s: string, what: string, line: string): number {
  if (!/^\s*[-+]?[0-9]+(?:_[0-9]+)*\s*$/.test(s)) {
    throw new HostPatternError(`invalid ${what} "${s}" in host range ${line}`);
  }
  return parseInt(s.replace(/_/g, ''), 10);
}

/** expand_hostname_range(): `db[01:03]-x` → db01-x, db02-x, db03-x; nested ranges expand left to right. */
export function expandHostRange(line: string, budget = { left: MAX_RANGE_HOSTS }): string[] {
  const parts = line.replace('[', '|').replace(']', '|').split('|');
  if (parts.length !== 3) throw new HostPatternError(`malformed host range in ${line}`);
  const [head, nrange, tail] = parts as [string, string, string];
  const bounds = nrange.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) {
    throw new HostPatternError(`host range must be begin:end or begin:end:step, got [${nrange}] in ${line}`);
  }
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const step = bounds.length === 3 ? pyInt(bounds[2]!, 'step', line) : 1;
  if (!end) throw new HostPatternError(`host range must specify an end value: ${line}`);
  if (step <= 0) throw new HostPatternError(`host range step must be positive: ${line}`);
  let fill = (x: string | number) => String(x);
  if (beg[0] === '0' && beg.length > 1) {
    const rlen = beg.length;
    if (rlen !== end.length) {
      throw new HostPatternError(`host range must specify equal-length begin and end formats: ${line}`);
    }
    fill = (x) => {
      const s = String(x);
      return s.startsWith('-') ? '-' + s.slice(1).padStart(rlen - 1, '0') : s.padStart(rlen, '0');
    };
  }
  const seq: Array<string | number> = [];
  // Python: string.ascii_letters.index(beg) — a substring search, falling back to numbers.
  const iBeg = ASCII_LETTERS.indexOf(beg);
  const iEnd = ASCII_LETTERS.indexOf(end);
  if (iBeg >= 0 && iEnd >= 0) {
    if (iBeg > iEnd) throw new HostPatternError(`host range must have begin <= end: ${line}`);
    for (let i = iBeg; i <= iEnd; i += step) seq.push(ASCII_LETTERS[i]!);
  } else {
    const b = pyInt(beg, 'begin', line);
    const e = pyInt(end, 'end', line);
    const count = e >= b ? Math.floor((e - b) / step) + 1 : 0;
    if (count > budget.left) throw tooMany(line, count);
    for (let i = b; i <= e; i += step) seq.push(i);
  }
  const out: string[] = [];
  for (const r of seq) {
    const name = head + fill(r) + tail;
    if (name.includes('[')) out.push(...expandHostRange(name, budget));
    else {
      if (--budget.left < 0) throw tooMany(line, out.length + 1);
      out.push(name);
    }
  }
  return out;
}

function tooMany(line: string, count: number): HostPatternError {
  return new HostPatternError(`host range ${line} stands for ${count > MAX_RANGE_HOSTS ? count : 'more than ' + MAX_RANGE_HOSTS} hosts, more than the limit of ${MAX_RANGE_HOSTS} per pattern; split it or list fewer hosts`);
}

/** _expand_hostpattern(): the host names a YAML inventory key stands for, and its port if any. */
export function expandHostPattern(pattern: string): { names: string[]; port?: number } {
  const parsed = parseAddress(pattern);
  const base = parsed ? parsed.host : pattern;
  const port = parsed?.port ? parsed.port : undefined;
  const names = base.includes('[') ? expandHostRange(base) : [base];
  if (names.length === 0) throw new HostPatternError(`host range ${pattern} expands to no host`);
  return { names, port };
}
