// The two reply formats of D-Bus's command-line clients, as firewalld's facts read them
// (./firewalld.ts): busctl's `--json=short` (one JSON value per call) and dbus-send's
// `--print-reply` text, turned into the same shape busctl's JSON has. Pure functions.

export type BusValue = { type?: string; data?: unknown };

/** One `busctl --json=short call` reply: the method's first (only) out-argument. */
export function busData(line: string): unknown {
  const v = JSON.parse(line) as BusValue;
  return Array.isArray(v.data) ? v.data[0] : undefined;
}

/**
 * One `dbus-send --print-reply` reply: its first value, in the shape busctl's JSON gives
 * (a variant as {type, data}, a struct as a list, a dict as an object; an empty dict is an
 * empty list). One value per line as dbus-send prints it (`string "..."`, the text between the
 * first and the last quote); a line it does not know throws (the caller then asks otherwise).
 */
export function dbusSendReply(text: string): unknown {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!lines[0]?.startsWith('method return')) throw new Error(`not a method return: ${lines[0] ?? ''}`);
  let i = 1;
  const next = (): string => {
    if (i >= lines.length) throw new Error('reply cut short');
    return lines[i++];
  };
  const value = (s: string): unknown => {
    let m: RegExpExecArray | null;
    if ((m = /^(?:string|object path|signature) "(.*)"$/.exec(s))) return m[1];
    if ((m = /^(?:u?int(?:16|32|64)|byte|double) (\S+)$/.exec(s))) return Number(m[1]);
    if ((m = /^boolean (true|false)$/.exec(s))) return m[1] === 'true';
    if ((m = /^variant\s+(.*)$/.exec(s))) return { type: 'v', data: value(m[1]) };
    if (s === 'array [') return items(']');
    if (s === 'struct {') return items('}');
    throw new Error(`unknown reply line: ${s.slice(0, 80)}`);
  };
  const items = (close: string): unknown => {
    const list: unknown[] = [];
    let dict: Map<string, unknown> | undefined;
    for (let s = next(); s !== close; s = next()) {
      if (s === 'dict entry(') {
        const k = value(next());
        const v = value(next());
        if (next() !== ')') throw new Error('dict entry not closed');
        (dict ??= new Map()).set(String(k), v);
      } else list.push(value(s));
    }
    return dict ? Object.fromEntries(dict) : list;
  };
  return value(next());
}

/** dbus-send replies, each after its line `@@<key>`: key -> reply text. */
export function replies(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let key: string | undefined;
  let body: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('@@')) {
      if (key !== undefined) out.set(key, body.join('\n'));
      key = line.slice(2);
      body = [];
    } else body.push(line);
  }
  if (key !== undefined) out.set(key, body.join('\n'));
  return out;
}
