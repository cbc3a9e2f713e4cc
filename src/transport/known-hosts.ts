// known_hosts: parsing (plain, hashed, [host]:port, markers), lookup, fingerprints, policy.
// Format reference: sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT".
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { readInputText, type InputFileError } from '../input-file.js';
import { dirname } from 'node:path';

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker?: 'cert-authority' | 'revoked';
  /** Host patterns of a plain entry (comma-separated list split), lower-cased. */
  patterns?: string[];
  /** Salt and HMAC-SHA1 of a hashed entry (`|1|salt|hash`). */
  hashed?: { salt: Buffer; hash: Buffer };
  /** Key type as written in the file (e.g. `ssh-ed25519`). */
  keyType: string;
  /** The public key blob (SSH wire format), as ssh2 hands it to `hostVerifier`. */
  key: Buffer;
  comment?: string;
}

export interface KnownHostsProblem {
  file: string;
  line: number;
  message: string;
}

/** Parse known_hosts text. Malformed lines are skipped and reported, as OpenSSH does. */
export function parseKnownHosts(
  text: string,
  file = 'known_hosts',
): { entries: KnownHostEntry[]; problems: KnownHostsProblem[] } {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const lineNo = i + 1;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@cert-authority') marker = 'cert-authority';
      else if (m === '@revoked') marker = 'revoked';
      else {
        problems.push({ file, line: lineNo, message: `unknown marker ${m}` });
        return;
      }
    }
    if (fields.length < 3) {
      problems.push({ file, line: lineNo, message: 'expected "hosts keytype key [comment]"' });
      return;
    }
    const [hostField, keyType, keyB64, ...rest] = fields;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyB64)) {
      problems.push({ file, line: lineNo, message: 'key is not base64' });
      return;
    }
    const key = Buffer.from(keyB64, 'base64');
    let blobType: string;
    try {
      blobType = keyTypeOf(key);
    } catch {
      problems.push({ file, line: lineNo, message: 'key blob is malformed' });
      return;
    }
    if (blobType !== keyType) {
      problems.push({ file, line: lineNo, message: `key type ${keyType} does not match the key (${blobType})` });
      return;
    }
    const entry: KnownHostEntry = { file, line: lineNo, keyType, key };
    if (marker) entry.marker = marker;
    if (rest.length) entry.comment = rest.join(' ');
    if (hostField.startsWith('|1|')) {
      const parts = hostField.split('|'); // ['', '1', salt, hash]
      if (parts.length !== 4) {
        problems.push({ file, line: lineNo, message: 'malformed hashed host' });
        return;
      }
      const salt = Buffer.from(parts[2], 'base64');
      const hash = Buffer.from(parts[3], 'base64');
      if (salt.length !== 20 || hash.length !== 20) {
        problems.push({ file, line: lineNo, message: 'malformed hashed host' });
        return;
      }
      entry.hashed = { salt, hash };
    } else if (hostField.startsWith('|')) {
      problems.push({ file, line: lineNo, message: 'unsupported hashed host format' });
      return;
    } else {
      entry.patterns = hostField.toLowerCase().split(',').filter((p) => p !== '');
    }
    entries.push(entry);
  });
  return { entries, problems };
}

/** Read and parse known_hosts files; missing files are simply empty. */
export async function loadKnownHosts(
  files: string[],
): Promise<{ entries: KnownHostEntry[]; problems: KnownHostsProblem[] }> {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readInputText(file, { what: 'known_hosts file' });
    } catch (e) {
      if ((e as InputFileError).code === 'ENOENT') continue;
      problems.push({ file, line: 0, message: (e as Error).message });
      continue;
    }
    const parsed = parseKnownHosts(text, file);
    entries.push(...parsed.entries);
    problems.push(...parsed.problems);
  }
  return { entries, problems };
}

/** The name a host is filed under: `host` on port 22, `[host]:port` otherwise (lower-cased). */
export function knownHostsName(address: string, port = 22): string {
  const a = address.toLowerCase();
  return port === 22 ? a : `[${a}]:${port}`;
}

/** The key type written at the start of a public key blob (`ssh-ed25519`, `ssh-rsa`, ...). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) throw new Error('key blob too short');
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) throw new Error('key blob malformed');
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function fingerprintSha256(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** Glob match as OpenSSH's match_pattern: `*` and `?`, nothing else special. */
function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
    's',
  );
  return re.test(s);
}

/** Does this entry's host field match `name` (as built by `knownHostsName`)? */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  const n = name.toLowerCase();
  if (entry.hashed) {
    const h = createHmac('sha1', entry.hashed.salt).update(n).digest();
    return timingSafeEqual(h, entry.hashed.hash);
  }
  let positive = false;
  for (const p of entry.patterns ?? []) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), n)) return false; // a negated match vetoes the whole line
    } else if (globMatch(p, n)) {
      positive = true;
    }
  }
  return positive;
}

/** Hash a host name the way `ssh-keygen -H` does (`|1|salt|hash`). */
export function hashHostName(name: string, salt: Buffer): string {
  const h = createHmac('sha1', salt).update(name.toLowerCase()).digest();
  return `|1|${salt.toString('base64')}|${h.toString('base64')}`;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** The host is filed with a key of the same type and none of its keys matches. */
  | { status: 'changed'; expected: KnownHostEntry[] }
  /** The host is not filed with a key of this type (`otherTypes`: types it is filed with). */
  | { status: 'unknown'; otherTypes: string[] };

/** Look up `key` offered by the host filed under any of `names`. */
export function checkHostKey(entries: KnownHostEntry[], names: string[], key: Buffer): HostKeyVerdict {
  const type = keyTypeOf(key);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  // @revoked applies to matching hosts; OpenSSH files it usually under `*`.
  if (revoked && names.some((n) => entryMatchesHost(revoked, n))) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => !e.marker && names.some((n) => entryMatchesHost(e, n)));
  const match = forHost.find((e) => e.key.equals(key));
  if (match) return { status: 'known', entry: match };
  const sameType = forHost.filter((e) => e.keyType === type);
  if (sameType.length) return { status: 'changed', expected: sameType };
  return { status: 'unknown', otherTypes: [...new Set(forHost.map((e) => e.keyType))] };
}

/** Key types known for a host, in file order (used to prefer them during key exchange). */
export function knownKeyTypes(entries: KnownHostEntry[], names: string[]): string[] {
  const types: string[] = [];
  for (const e of entries) {
    if (!e.marker && names.some((n) => entryMatchesHost(e, n)) && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/** A known_hosts line for `name` and `key` (plain, not hashed). */
export function knownHostsLine(name: string, key: Buffer): string {
  return `${name} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** Append a line to a known_hosts file, creating it (0600) and its directory (0700) if needed. */
export async function appendKnownHost(file: string, name: string, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, knownHostsLine(name, key) + '\n', { mode: 0o600 });
}

export interface HostKeyDecision {
  accept: boolean;
  /** accept-new: write the key to the first known_hosts file. */
  record?: boolean;
  /** Why it was refused: one line naming the host, port and offered fingerprint. */
  reason?: string;
}

/**
 * Apply the policy to a verdict.
 *   strict:     only known keys.
 *   accept-new: known keys, and unknown hosts (recorded); a changed key is refused.
 *   off:        everything except a key marked @revoked.
 */
export function decideHostKey(
  policy: HostKeyPolicy,
  verdict: HostKeyVerdict,
  ctx: { address: string; port: number; name: string; key: Buffer; files: string[] },
): HostKeyDecision {
  const fp = `${keyTypeOf(ctx.key)} ${fingerprintSha256(ctx.key)}`;
  const where = `${ctx.address} port ${ctx.port}`;
  switch (verdict.status) {
    case 'known':
      return { accept: true };
    case 'revoked':
      return {
        accept: false,
        reason: `host key for ${where} is revoked: offered ${fp} is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}`,
      };
    case 'changed': {
      if (policy === 'off') return { accept: true };
      const e = verdict.expected[0];
      return {
        accept: false,
        reason:
          `host key mismatch for ${where}: offered ${fp} is not the key in ${e.file}:${e.line} ` +
          `(possible man-in-the-middle; if the host was reinstalled, run: ssh-keygen -f ${e.file} -R '${ctx.name}')`,
      };
    }
    case 'unknown':
      if (policy === 'off') return { accept: true };
      if (policy === 'accept-new') return { accept: true, record: true };
      return {
        accept: false,
        reason:
          `host key for ${ctx.name} not in known_hosts (${ctx.files.join(', ') || 'no known_hosts file'}; ` +
          `offered ${fp}` +
          (verdict.otherTypes.length ? `; known with other key types: ${verdict.otherTypes.join(', ')}` : '') +
          `; check it and add it, or use StrictHostKeyChecking=accept-new)`,
      };
  }
}

/** Host key algorithms (ssh2 names) to try first for the given known key types. */
export function hostKeyAlgorithmsFor(keyTypes: string[]): string[] {
  const out: string[] = [];
  for (const t of keyTypes) {
    if (t === 'ssh-rsa') out.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else if (t === 'ssh-ed25519' || t.startsWith('ecdsa-sha2-')) out.push(t);
  }
  return out;
}
