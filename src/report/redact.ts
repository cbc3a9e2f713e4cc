// Secrets never leave the process in clear: every output path (progress, diffs, errors,
// the JSON report) passes its text through `redact`, which replaces each registered secret.

const secrets = new Set<string>();

export const REDACTED = '«redacted»';

/** Remember a secret value so that every later output hides it. Called when a secret is revealed. */
export function registerSecret(value: string): void {
  if (value.length > 0) secrets.add(value);
}

/**
 * Keys seen right before a registered secret (`auth_pass` in `auth_pass s3cret`), whose name says
 * secret. Their values are masked whatever they are: the old password in the diff of a rotated
 * keepalived.conf was never registered (it is no longer in the inventory), but it follows the
 * same key as the new one.
 */
const secretKeys = new Map<string, RegExp>();
const SECRETISH_KEY = /(?:pass(?:word|wd|phrase)?|secret|token)(?:[_.-][\w.-]*)?$/i;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Learn the keys that precede registered secrets in `text`. */
function learnKeys(text: string, secret: string): void {
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + secret.length)) {
    const lineStart = text.lastIndexOf('\n', at) + 1;
    const m = /(^|[^\w.-])([A-Za-z_][\w.-]*)([ \t]*[=:]?[ \t]*)["']?$/.exec(text.slice(lineStart, at));
    if (!m || !SECRETISH_KEY.test(m[2]) || secretKeys.has(m[2])) continue;
    secretKeys.set(m[2], new RegExp(`(^|[^\\w.-])(${escapeRe(m[2])}[ \\t]*[=:]?[ \\t]*)(?!${escapeRe(REDACTED)})("[^"\\n]*"|'[^'\\n]*'|[^\\s"';,}]+)`, 'gm'));
  }
}

export function redact(text: string): string {
  if (secrets.size === 0 || !text) return text;
  let out = text;
  // Longest first, so a secret that contains another is hidden whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) {
      learnKeys(out, s);
      out = out.split(s).join(REDACTED);
    }
  }
  for (const re of secretKeys.values()) out = out.replace(re, (_all, pre: string, key: string) => `${pre}${key}${REDACTED}`);
  return out;
}

/**
 * Values of keys that name a secret (password, passwd, pass, secret, token), in YAML or
 * `key = value` text such as an error excerpt quoting an input file: masked whatever they are,
 * since a file that failed to load has no resolved secrets to compare with. `{env: X}` and
 * `{file: x}` references are kept (they name where a secret is, not the secret).
 */
export function maskSecretValues(text: string): string {
  return text.replace(SECRET_ASSIGNMENT, (all, key: string, value: string) => (/^\{\s*(env|file)\s*:/.test(value) ? all : `${key}${REDACTED}`));
}
const SECRET_ASSIGNMENT = /((?:^|[\s{,"'-])[\w.-]*?(?:pass(?:word|wd|phrase)?|secret|token)(?:[_.-][\w.-]*)?["']?\s*[:=]\s*)((?:\{[^}\n]*\}?)|(?:"[^"\n]*"?)|(?:'[^'\n]*'?)|[^\s,}\n][^,}\n]*)/gi;

/** Deep-redact a JSON-able value (strings inside objects and arrays). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}

/** For tests only. */
export function clearSecretsForTest(): void {
  secrets.clear();
  secretKeys.clear();
}
