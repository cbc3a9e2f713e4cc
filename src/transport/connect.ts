// Connecting and authenticating one SSH connection: the host key checked against known_hosts
// (strict, accept-new or off), then the agent, the key files and the password, as OpenSSH tries
// them. Failures come back as one line that names the host, never a stack trace or a secret.
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ConnectConfig, NextAuthHandler, ParsedKey } from 'ssh2';
import { readInputFile, type InputFileError } from '../input-file.js';
import { appendKnownHost, checkHostKey, decideHostKey, fingerprintSha256, hostKeyAlgorithmsFor, keyTypeOf, knownHostsName, knownKeyTypes, loadKnownHosts } from './known-hosts.js';
import { errMessage, oneLine, type SshClient } from './channel.js';
import type { ConnectionSpec } from './types.js';

export interface ConnectOptions {
  /** A stream to the server (a jump host's forwarded channel) instead of a TCP connection. */
  sock?: Duplex;
  /** Host key checking is off: called before the key is accepted. */
  onCheckingOff?: () => void;
  debug?: (message: string) => void;
}

/** Connect and authenticate. Rejects with an Error whose message is describeConnectError's line. */
export async function connectSsh(spec: ConnectionSpec, opts: ConnectOptions = {}): Promise<SshClient> {
  const known = await loadKnownHosts(spec.knownHostsFiles);
  const name = spec.hostKeyAlias ? spec.hostKeyAlias.toLowerCase() : knownHostsName(spec.address, spec.port);
  const preferred = hostKeyAlgorithmsFor(knownKeyTypes(known.entries, [name]));
  const { methods, skipped } = await authMethods(spec);
  const auth = authHandler(methods);
  const hostKey = hostVerifier(spec, known.entries, name, opts.onCheckingOff);

  const cfg: ConnectConfig = {
    port: spec.port,
    username: spec.user,
    readyTimeout: spec.connectTimeoutMs,
    keepaliveInterval: spec.keepaliveIntervalMs ?? 15_000,
    keepaliveCountMax: 3,
    hostVerifier: hostKey.verify,
    authHandler: auth.handler,
  };
  if (opts.sock) cfg.sock = opts.sock;
  else cfg.host = spec.address;
  if (preferred.length) cfg.algorithms = { serverHostKey: { remove: preferred, prepend: preferred } as never };
  if (opts.debug) cfg.debug = opts.debug;

  const client = new ssh2.Client();
  try {
    await handshake(client, cfg);
  } catch (e) {
    client.on('error', () => undefined); // late errors of a dead client must not crash the process
    client.end();
    opts.sock?.destroy();
    const label = `${spec.user}@${spec.address}:${spec.port}`;
    const ctx = { label, address: spec.address, port: spec.port, timeoutMs: spec.connectTimeoutMs, tried: auth.tried, skipped, serverAllows: auth.serverAllows(), hostKeyFailure: hostKey.failure() };
    throw new Error(describeConnectError(e, ctx));
  }
  return client;
}

function handshake(client: SshClient, cfg: ConnectConfig): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('close', onClose);
    };
    const onReady = (): void => (cleanup(), resolve());
    const onError = (err: Error): void => (cleanup(), reject(err));
    const onClose = (): void => (cleanup(), reject(new Error('connection closed during the handshake')));
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('close', onClose);
    client.connect(cfg);
    // Small SSH packets must not wait for the peer's delayed ACK (Nagle): without this every
    // command costs ~40 ms of idle waiting (sshd does not set TCP_NODELAY for exec sessions).
    client.setNoDelay(true);
  });
}

/** The methods to offer, in OpenSSH's order: agent, key files, password (and keyboard-interactive). */
async function authMethods(spec: ConnectionSpec): Promise<{ methods: AnyAuthMethod[]; skipped: string[] }> {
  const methods: AnyAuthMethod[] = [];
  const skipped: string[] = [];
  if (spec.agent) methods.push({ type: 'agent', username: spec.user, agent: spec.agent });
  for (const file of spec.privateKeyFiles) {
    let data: Buffer;
    try {
      data = await readInputFile(file, { what: 'private key file' });
    } catch (e) {
      skipped.push(`${file}: ${(e as InputFileError).code === 'ENOENT' ? 'missing' : errMessage(e)}`);
      continue;
    }
    const parsed = ssh2.utils.parseKey(data) as ParsedKey | ParsedKey[] | Error;
    if (parsed instanceof Error) {
      skipped.push(`${file}: ${/passphrase|encrypted/i.test(parsed.message) ? 'encrypted (load it into ssh-agent)' : parsed.message}`);
      continue;
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || !key.isPrivateKey()) {
      skipped.push(`${file}: not a private key`);
      continue;
    }
    methods.push({ type: 'publickey', username: spec.user, key });
  }
  const password = spec.password;
  if (password !== undefined) {
    methods.push({ type: 'password', username: spec.user, password });
    // sshd with PAM asks through keyboard-interactive: every prompt gets the password.
    methods.push({ type: 'keyboard-interactive', username: spec.user, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)) });
  }
  return { methods, skipped };
}

/** Offer the methods the server still allows, one at a time; remember what was tried. */
function authHandler(methods: AnyAuthMethod[]) {
  const tried: string[] = [];
  let allows: string[] | undefined;
  const handler = (left: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler): void => {
    if (left) allows = left;
    while (methods.length) {
      const m = methods.shift()!;
      const kind = m.type === 'agent' ? 'publickey' : m.type;
      if (left && !left.includes(kind)) continue;
      if (!tried.includes(kind)) tried.push(kind);
      next(m);
      return;
    }
    (next as unknown as (v: false) => void)(false); // "no more methods" (documented, not in the types)
  };
  return { handler, tried, serverAllows: () => allows };
}

/** The host key check (./known-hosts.ts decides; accept-new records the key before accepting). */
function hostVerifier(spec: ConnectionSpec, entries: Parameters<typeof checkHostKey>[0], name: string, onOff?: () => void) {
  let failure: string | undefined;
  const verify = (key: Buffer, done: (ok: boolean) => void): void => {
    const refuse = (why: string): void => {
      failure = why;
      done(false);
    };
    let decision;
    try {
      decision = decideHostKey(spec.hostKeyPolicy, checkHostKey(entries, [name], key), { address: spec.address, port: spec.port, name, key, files: spec.knownHostsFiles });
    } catch (e) {
      return refuse(`cannot check the host key of ${spec.address} port ${spec.port}: ${errMessage(e)}`);
    }
    if (!decision.accept) return refuse(decision.reason ?? `host key of ${name} refused`);
    if (spec.hostKeyPolicy === 'off') onOff?.();
    if (!decision.record) return done(true);
    const file = spec.knownHostsFiles[0];
    if (!file) return refuse(`host key for ${name} is new (${keyTypeOf(key)} ${fingerprintSha256(key)}) and there is no known_hosts file to record it in`);
    appendKnownHost(file, name, key).then(
      () => done(true),
      (e: unknown) => refuse(`cannot record the host key of ${name} in ${file}: ${errMessage(e)}`),
    );
  };
  return { verify, failure: () => failure };
}

export interface ConnectErrorContext {
  label: string; // user@address:port
  address: string;
  port: number;
  timeoutMs: number;
  tried: string[];
  skipped?: string[];
  serverAllows?: string[];
  hostKeyFailure?: string;
}

/** One line, tied to the host, for a failed connection attempt. Never a stack trace. */
export function describeConnectError(err: unknown, ctx: ConnectErrorContext): string {
  if (ctx.hostKeyFailure) return ctx.hostKeyFailure;
  const e = err as { code?: string; level?: string; message?: string };
  const where = `${ctx.address}:${ctx.port}`;
  if (e.level === 'client-authentication') {
    let m = `authentication failed for ${ctx.label} (tried: ${ctx.tried.join(', ') || 'none'})`;
    if (ctx.serverAllows?.length && ctx.tried.length === 0) m += `; server allows: ${ctx.serverAllows.join(', ')}`;
    if (ctx.skipped?.length) m += `; skipped ${ctx.skipped.join(', ')}`;
    return m;
  }
  if (e.level === 'client-timeout' || e.code === 'ETIMEDOUT') {
    return `connection to ${where} timed out after ${Math.round(ctx.timeoutMs / 100) / 10} s`;
  }
  switch (e.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return `cannot resolve host name ${ctx.address} (DNS ${e.code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where}`;
    case 'ECONNRESET':
      return `connection to ${where} reset by peer`;
  }
  const msg = oneLine(e.message ?? String(err));
  if (e.level === 'protocol' || e.level === 'handshake') return `SSH handshake with ${where} failed: ${msg}`;
  return `cannot connect to ${where}: ${msg}`;
}
