// Read the machine's own apt sources (one-line and deb822) and pick its Debian mirror, so the
// lab never carries a mirror host name of its own. Parsing is pure; reading is a thin wrapper.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface AptSource {
  type: string; // "deb" | "deb-src"
  uri: string;
  suite: string;
  components: string[];
  options: Record<string, string>;
  /** Where it came from, "file:line". */
  origin: string;
}

/** Parse `/etc/apt/sources.list`-style one-line entries: `deb [opt=val ...] uri suite comp...`. */
export function parseOneLine(text: string, file = 'sources.list'): AptSource[] {
  const out: AptSource[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/#.*$/, '').trim();
    if (!line) return;
    let rest = line;
    const typeMatch = /^(deb|deb-src)\s+/.exec(rest);
    if (!typeMatch) return;
    const type = typeMatch[1];
    rest = rest.slice(typeMatch[0].length);
    const options: Record<string, string> = {};
    if (rest.startsWith('[')) {
      const end = rest.indexOf(']');
      if (end < 0) return;
      for (const kv of rest.slice(1, end).trim().split(/\s+/)) {
        if (!kv) continue;
        const eq = kv.indexOf('=');
        if (eq > 0) options[kv.slice(0, eq).toLowerCase()] = kv.slice(eq + 1);
      }
      rest = rest.slice(end + 1).trim();
    }
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (!uri || !suite) return;
    out.push({ type, uri, suite, components, options, origin: `${file}:${i + 1}` });
  });
  return out;
}

/** Parse deb822 `.sources` stanzas (Types/URIs/Suites/Components, continuation lines, Enabled: no). */
export function parseDeb822(text: string, file = 'x.sources'): AptSource[] {
  const out: AptSource[] = [];
  const stanzas: Array<{ line: number; fields: Record<string, string> }> = [];
  let cur: { line: number; fields: Record<string, string> } | null = null;
  let lastKey: string | null = null;
  text.split('\n').forEach((rawLine, i) => {
    if (/^\s*#/.test(rawLine)) return; // comment lines do not end a stanza
    if (rawLine.trim() === '') {
      if (cur) stanzas.push(cur);
      cur = null;
      lastKey = null;
      return;
    }
    if (/^\s/.test(rawLine)) {
      if (cur && lastKey) cur.fields[lastKey] += '\n' + rawLine.trim();
      return;
    }
    const colon = rawLine.indexOf(':');
    if (colon <= 0) return;
    if (!cur) cur = { line: i + 1, fields: {} };
    lastKey = rawLine.slice(0, colon).trim().toLowerCase();
    cur.fields[lastKey] = rawLine.slice(colon + 1).trim();
  });
  if (cur) stanzas.push(cur);
  for (const st of stanzas) {
    const f = st.fields;
    if ((f['enabled'] ?? 'yes').toLowerCase() === 'no') continue;
    const words = (k: string) => (f[k] ?? '').split(/\s+/).filter(Boolean);
    const options: Record<string, string> = {};
    for (const [k, v] of Object.entries(f)) {
      if (!['types', 'uris', 'suites', 'components', 'enabled'].includes(k)) options[k] = v;
    }
    for (const type of words('types')) {
      for (const uri of words('uris')) {
        for (const suite of words('suites')) {
          out.push({ type, uri, suite, components: words('components'), options, origin: `${file}:${st.line}` });
        }
      }
    }
  }
  return out;
}

/** Every source of the machine: /etc/apt/sources.list, sources.list.d/*.list and *.sources. */
export function readAptSources(etcApt = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const main = join(etcApt, 'sources.list');
  if (existsSync(main)) out.push(...parseOneLine(readFileSync(main, 'utf8'), main));
  const dir = join(etcApt, 'sources.list.d');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name);
      if (name.endsWith('.list')) out.push(...parseOneLine(readFileSync(file, 'utf8'), file));
      else if (name.endsWith('.sources')) out.push(...parseDeb822(readFileSync(file, 'utf8'), file));
    }
  }
  return out;
}

export interface DebianMirror {
  /** The `<suite> main` archive (what debootstrap uses). */
  uri: string;
  suite: string;
  /** A keyring file for debootstrap/apt, when the source names one (Signed-By / signed-by). */
  keyring?: string;
  /** Every source for the package download: main, then -updates and -security when present. */
  sources: Array<{ uri: string; suite: string; keyring?: string }>;
}

function keyringOf(s: AptSource): string | undefined {
  const v = s.options['signed-by'];
  // Signed-By may hold an inline key block; only a path is useful to us.
  return v && v.startsWith('/') && !v.includes('\n') ? v : undefined;
}

/**
 * Pick the Debian entries for `<suite> main` (+ `-updates`, `-security`) among the machine's
 * sources. Throws a one-line error naming what is missing.
 */
export function pickDebianMirror(sources: AptSource[], suite = 'bookworm'): DebianMirror {
  const debs = sources.filter((s) => s.type === 'deb' && s.components.includes('main'));
  const main = debs.find((s) => s.suite === suite);
  if (!main) {
    throw new Error(
      `no "deb ... ${suite} main" entry in the machine's apt sources (/etc/apt/sources.list, sources.list.d/*.list, *.sources): the lab needs a Debian ${suite} mirror`,
    );
  }
  const entry = (s: AptSource) => ({ uri: s.uri, suite: s.suite, keyring: keyringOf(s) });
  const out: DebianMirror = {
    uri: main.uri,
    suite,
    keyring: keyringOf(main),
    sources: [entry(main)],
  };
  const updates = debs.find((s) => s.suite === `${suite}-updates` && s.uri === main.uri) ?? debs.find((s) => s.suite === `${suite}-updates`);
  if (updates) out.sources.push(entry(updates));
  const security = debs.find((s) => s.suite === `${suite}-security` || s.suite === `${suite}/updates`);
  if (security) out.sources.push(entry(security));
  return out;
}

/** One-line sources.list text for the download chroot (main components only). */
export function renderSourcesList(m: DebianMirror, keyringExists: (path: string) => boolean): string {
  return (
    m.sources
      .map((s) => {
        const opt = s.keyring && keyringExists(s.keyring) ? ` [signed-by=${s.keyring}]` : '';
        return `deb${opt} ${s.uri} ${s.suite} main`;
      })
      .join('\n') + '\n'
  );
}
