// How to reach a host: inventory vars (Ansible names) > ~/.ssh/config > caller defaults > built-ins.
import { existsSync } from 'node:fs';
import { readInputTextSync } from '../input-file.js';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import SSHConfig from 'ssh-config';
import { InputError } from '../errors.js';
import type { Host } from '../inventory/types.js';
import type { HostKeyPolicy } from './known-hosts.js';
import type { ConnectionSpec } from './types.js';

export interface ConnectionSpecOptions {
  /** Home directory for `~` and the default ~/.ssh files (default: os.homedir()). */
  home?: string;
  /** ssh client config to read (default: <home>/.ssh/config; a missing file is fine). */
  sshConfigPath?: string;
  /** Environment (default: process.env): SSH_AUTH_SOCK, PROVISION_BECOME_PASS, USER. */
  env?: NodeJS.ProcessEnv;
  /** Local user name, the default remote user (default: os.userInfo().username). */
  localUser?: string;
  /** Fallbacks used when neither the inventory nor the ssh config says otherwise. */
  user?: string;
  port?: number;
  become?: boolean;
  /** Become password (e.g. from an interactive prompt); PROVISION_BECOME_PASS is used if absent. */
  becomePassword?: string;
  /** SSH password (`-k/--ask-pass`); the inventory's ansible_password wins, as in Ansible. */
  password?: string;
  /**
   * Host key policy chosen for this run (a command-line flag): unlike the fallbacks above it
   * overrides StrictHostKeyChecking from the inventory and the ssh config. Default: from those, else strict.
   */
  hostKeyPolicy?: HostKeyPolicy;
  connectTimeoutMs?: number;
  /** System-wide known_hosts files read after the user's (default: /etc/ssh/ssh_known_hosts{,2}). */
  globalKnownHostsFiles?: string[];
  /** Warnings (e.g. a become password stored in the inventory). */
  warn?: (message: string) => void;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const MAX_JUMP_DEPTH = 8;

/** Resolve the ConnectionSpec of an inventory host. Throws InputError on invalid settings. */
export function connectionSpecFor(host: Host, opts: ConnectionSpecOptions = {}): ConnectionSpec {
  const ctx = makeContext(opts);
  const v = host.vars;
  const where = `host ${host.name}`;

  const sshArgs = [v.ansible_ssh_common_args, v.ansible_ssh_extra_args]
    .filter((a): a is string => typeof a === 'string')
    .map((a) => parseSshArgs(a, where))
    .reduce<SshArgOptions>((acc, o) => ({ ...acc, ...o, options: { ...acc.options, ...o.options } }), { options: {} });

  const target = str(v.ansible_host, 'ansible_host', where) ?? host.name;
  const over: Overrides = {
    port: int(v.ansible_port, 'ansible_port', where),
    user: str(v.ansible_user, 'ansible_user', where) ?? str(v.ansible_ssh_user, 'ansible_ssh_user', where),
    identityFiles: (() => {
      const k = str(v.ansible_ssh_private_key_file, 'ansible_ssh_private_key_file', where) ?? str(v.ansible_private_key_file, 'ansible_private_key_file', where);
      return [...(k ? [k] : []), ...sshArgs.identityFiles ?? []];
    })(),
    knownHostsFiles: (() => {
      const f = str(v.provision_known_hosts_file, 'provision_known_hosts_file', where);
      if (f) return [f];
      const o = sshArgs.options.userknownhostsfile;
      return o ? o.split(/\s+/).filter(Boolean) : undefined;
    })(),
    strictHostKeyChecking: sshArgs.options.stricthostkeychecking,
    proxyJump: sshArgs.jump ?? sshArgs.options.proxyjump,
    connectTimeoutS: int(v.ansible_timeout, 'ansible_timeout', where) ?? (sshArgs.options.connecttimeout ? int(sshArgs.options.connecttimeout, 'ConnectTimeout', where) : undefined),
  };
  if (sshArgs.options.port && over.port === undefined) over.port = int(sshArgs.options.port, 'Port', where);
  if (sshArgs.options.user && over.user === undefined) over.user = sshArgs.options.user;
  if (sshArgs.options.proxycommand) {
    throw new InputError(`${where}: ProxyCommand is not supported (use ProxyJump)`);
  }

  const spec = resolveSpec(host.name, target, over, ctx, 0, where);

  const becomeVar = v.ansible_become ?? v.become;
  spec.become = becomeVar === undefined ? (opts.become ?? false) : bool(becomeVar, 'ansible_become', where);
  const method = str(v.ansible_become_method, 'ansible_become_method', where);
  if (method && method !== 'sudo') throw new InputError(`${where}: ansible_become_method ${method} is not supported (only sudo)`);
  const becomeUser = str(v.ansible_become_user, 'ansible_become_user', where);
  if (becomeUser && becomeUser !== 'root') throw new InputError(`${where}: ansible_become_user ${becomeUser} is not supported (only root)`);
  const varPass = str(v.ansible_become_password, 'ansible_become_password', where) ?? str(v.ansible_become_pass, 'ansible_become_pass', where);
  if (varPass !== undefined) {
    opts.warn?.(`${where}: become password read from the inventory (ansible_become_password); prefer PROVISION_BECOME_PASS or the prompt`);
    spec.becomePassword = varPass;
  } else {
    const p = opts.becomePassword ?? ctx.env.PROVISION_BECOME_PASS;
    if (p !== undefined && p !== '') spec.becomePassword = p;
  }
  const password = str(v.ansible_password, 'ansible_password', where) ?? str(v.ansible_ssh_pass, 'ansible_ssh_pass', where) ?? opts.password;
  if (password !== undefined && password !== '') spec.password = password;
  return spec;
}

/** Resolve a destination given as on the ssh command line (`[user@]host[:port]`), e.g. a jump host. */
export function connectionSpecForDestination(dest: string, opts: ConnectionSpecOptions = {}): ConnectionSpec {
  const ctx = makeContext(opts);
  const d = parseDestination(dest, `destination ${dest}`);
  return resolveSpec(d.host, d.host, { user: d.user, port: d.port }, ctx, 0, `destination ${dest}`);
}

// ---------------------------------------------------------------------------------------------

interface Context {
  home: string;
  env: NodeJS.ProcessEnv;
  localUser: string;
  config: SSHConfig;
  opts: ConnectionSpecOptions;
}

interface Overrides {
  port?: number;
  user?: string;
  identityFiles?: string[];
  knownHostsFiles?: string[];
  strictHostKeyChecking?: string;
  proxyJump?: string;
  connectTimeoutS?: number;
  /** Ignore ProxyJump from the ssh config (a later hop of an explicit chain). */
  noJump?: boolean;
}

function makeContext(opts: ConnectionSpecOptions): Context {
  const home = opts.home ?? homedir();
  const env = opts.env ?? process.env;
  const localUser = opts.localUser ?? env.USER ?? userInfo().username;
  const configPath = opts.sshConfigPath ?? join(home, '.ssh', 'config');
  let config = new SSHConfig();
  if (existsSync(configPath)) {
    try {
      config = SSHConfig.parse(readInputTextSync(configPath, { what: 'ssh config' }));
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`cannot parse ssh config: ${(e as Error).message}`, { file: configPath });
    }
  }
  return { home, env, localUser, config, opts };
}

function resolveSpec(name: string, target: string, over: Overrides, ctx: Context, depth: number, where: string): ConnectionSpec {
  // Match exec criteria run commands: never evaluated here.
  const c = ctx.config.compute(target, { ignoreCase: true, matchExec: false });
  const one = (k: string): string | undefined => {
    const val = c[k];
    const s = Array.isArray(val) ? val[0] : val;
    return s === undefined || s === '' ? undefined : s;
  };
  const many = (k: string): string[] => {
    const val = c[k];
    if (val === undefined) return [];
    return (Array.isArray(val) ? val : [val]).flatMap((s) => s.split(/\s+/)).filter(Boolean);
  };

  const user = over.user ?? one('user') ?? ctx.opts.user ?? ctx.localUser;
  const hostName = one('hostname');
  const address = hostName ? expandTokens(hostName, { h: target, u: ctx.localUser, r: user, d: ctx.home }) : target;
  const port = over.port ?? (one('port') !== undefined ? int(one('port'), 'Port in ssh config', where) : undefined) ?? ctx.opts.port ?? 22;
  const tokens = { h: address, u: ctx.localUser, r: user, d: ctx.home, p: String(port) };
  const path = (p: string): string => {
    const e = expandTokens(p, tokens);
    const t = e === '~' ? ctx.home : e.startsWith('~/') ? join(ctx.home, e.slice(2)) : e;
    return isAbsolute(t) ? t : resolve(t);
  };

  let identityFiles = [...(over.identityFiles ?? []), ...many('identityfile')].map(path);
  if (identityFiles.length === 0) {
    identityFiles = DEFAULT_KEYS.map((k) => join(ctx.home, '.ssh', k)).filter((f) => existsSync(f));
  }
  identityFiles = [...new Set(identityFiles)];

  const userKnown = over.knownHostsFiles ?? (many('userknownhostsfile').length ? many('userknownhostsfile') : undefined);
  const knownHostsFiles = [
    ...(userKnown ? userKnown.filter((f) => f !== 'none').map(path) : [join(ctx.home, '.ssh', 'known_hosts')]),
    ...(ctx.opts.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
  ];

  const strict = over.strictHostKeyChecking ?? one('stricthostkeychecking');
  const hostKeyPolicy = ctx.opts.hostKeyPolicy ?? (strict !== undefined ? policyFrom(strict, where) : 'strict');

  const timeoutS = over.connectTimeoutS ?? (one('connecttimeout') ? int(one('connecttimeout'), 'ConnectTimeout in ssh config', where) : undefined);
  const connectTimeoutMs = timeoutS !== undefined ? timeoutS * 1000 : (ctx.opts.connectTimeoutMs ?? 10_000);

  const identityAgent = one('identityagent');
  let agent: string | undefined = ctx.env.SSH_AUTH_SOCK || undefined;
  if (identityAgent) {
    if (identityAgent === 'none') agent = undefined;
    else if (identityAgent !== 'SSH_AUTH_SOCK') agent = identityAgent.startsWith('$') ? ctx.env[identityAgent.slice(1)] : path(identityAgent);
  }

  const spec: ConnectionSpec = {
    host: name,
    address,
    port,
    user,
    privateKeyFiles: identityFiles,
    become: false,
    hostKeyPolicy,
    knownHostsFiles,
    connectTimeoutMs,
    keepaliveIntervalMs: 15_000,
  };
  if (agent) spec.agent = agent;
  const alias = one('hostkeyalias');
  if (alias) spec.hostKeyAlias = alias;
  const interval = one('serveraliveinterval');
  if (interval !== undefined) spec.keepaliveIntervalMs = int(interval, 'ServerAliveInterval in ssh config', where)! * 1000;
  if (one('proxycommand') && one('proxycommand') !== 'none' && !over.proxyJump && !over.noJump) {
    throw new InputError(`${where}: ProxyCommand in ssh config is not supported (use ProxyJump)`);
  }

  const jump = over.proxyJump ?? (over.noJump ? undefined : one('proxyjump'));
  if (jump && jump !== 'none') {
    if (depth >= MAX_JUMP_DEPTH) throw new InputError(`${where}: ProxyJump chain deeper than ${MAX_JUMP_DEPTH} (a loop?)`);
    spec.proxyJump = resolveJumpChain(jump, ctx, depth + 1, where);
  }
  return spec;
}

/**
 * `a,b,c`: connect to a, from a to b, from b to c, from c to the target.
 * The first hop uses its own ssh config (including its own ProxyJump); later hops are chained.
 */
function resolveJumpChain(chain: string, ctx: Context, depth: number, where: string): ConnectionSpec {
  const hops = chain.split(',').map((h) => h.trim()).filter(Boolean);
  let prev: ConnectionSpec | undefined;
  for (let i = 0; i < hops.length; i++) {
    const d = parseDestination(hops[i], `${where}: ProxyJump`);
    const over: Overrides = { user: d.user, port: d.port, noJump: prev !== undefined };
    const spec = resolveSpec(d.host, d.host, over, ctx, depth + i, where);
    if (prev) spec.proxyJump = prev; // later hops go through the previous one, whatever their config says
    prev = spec;
  }
  if (!prev) throw new InputError(`${where}: empty ProxyJump`);
  return prev;
}

/** `[user@]host[:port]`, `[user@][v6addr]:port`, or `ssh://[user@]host[:port]`. */
export function parseDestination(dest: string, where: string): { user?: string; host: string; port?: number } {
  let s = dest.trim();
  if (s.startsWith('ssh://')) s = s.slice(6).replace(/\/$/, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let host = s;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if (/^[^:]+:\d+$/.test(s)) {
    const i = s.lastIndexOf(':');
    host = s.slice(0, i);
    port = Number(s.slice(i + 1));
  }
  if (!host || (user !== undefined && user === '') || (port !== undefined && (port < 1 || port > 65535))) {
    throw new InputError(`${where}: invalid destination "${dest}" (expected [user@]host[:port])`);
  }
  return { user, host, port };
}

/** ssh_config tokens: %h %u %r %d %p %%. Unknown tokens are left as they are. */
function expandTokens(s: string, t: Record<string, string>): string {
  return s.replace(/%([%a-zA-Z])/g, (m, k: string) => (k === '%' ? '%' : (t[k] ?? m)));
}

function policyFrom(v: string, where: string): HostKeyPolicy {
  switch (v.toLowerCase()) {
    case 'yes':
    case 'ask': // no interactive prompt here: behave as yes
      return 'strict';
    case 'accept-new':
      return 'accept-new';
    case 'no':
    case 'off':
      return 'off';
    default:
      throw new InputError(`${where}: invalid StrictHostKeyChecking value "${v}" (yes, accept-new, no)`);
  }
}

interface SshArgOptions {
  /** `-o Key=Value` options, keys lower-cased. */
  options: Record<string, string>;
  identityFiles?: string[];
  jump?: string;
}

/** Pick the options we understand out of ansible_ssh_common_args / ansible_ssh_extra_args. */
export function parseSshArgs(args: string, where: string): SshArgOptions {
  const words = shellWords(args, where);
  const out: SshArgOptions = { options: {} };
  const setOption = (kv: string): void => {
    const m = /^([A-Za-z]+)(?:\s*=\s*|\s+)(.*)$/s.exec(kv.trim());
    if (!m) throw new InputError(`${where}: cannot parse ssh option "-o ${kv}"`);
    const key = m[1].toLowerCase();
    if (!(key in out.options)) out.options[key] = m[2].trim(); // first value wins, as in ssh
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const next = (): string => {
      const n = words[++i];
      if (n === undefined) throw new InputError(`${where}: ${w} needs a value in ssh args`);
      return n;
    };
    if (w === '-o') setOption(next());
    else if (w.startsWith('-o')) setOption(w.slice(2));
    else if (w === '-J') out.jump = next();
    else if (w.startsWith('-J')) out.jump = w.slice(2);
    else if (w === '-i') (out.identityFiles ??= []).push(next());
    else if (w.startsWith('-i')) (out.identityFiles ??= []).push(w.slice(2));
    else if (w === '-p') out.options.port = next();
    else if (w === '-l') out.options.user = next();
    // other flags (-A, -C, -v, ...) do not affect how we connect
  }
  return out;
}

/** Split like a POSIX shell: whitespace, single and double quotes, backslash escapes. */
function shellWords(s: string, where: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1])) cur += s[++i];
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new InputError(`${where}: unterminated quote in ssh args: ${s}`);
  if (inWord) words.push(cur);
  return words;
}

function str(v: unknown, name: string, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new InputError(`${where}: ${name} must be a string`);
}

function int(v: unknown, name: string, where: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || (name.toLowerCase().includes('port') && (n < 1 || n > 65535))) {
    throw new InputError(`${where}: ${name} must be ${name.toLowerCase().includes('port') ? 'a port number (1-65535)' : 'a non-negative integer'}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function bool(v: unknown, name: string, where: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['yes', 'true', 'on', '1', 'y'].includes(s)) return true;
    if (['no', 'false', 'off', '0', 'n', ''].includes(s)) return false;
  }
  if (v === 1) return true;
  if (v === 0) return false;
  throw new InputError(`${where}: ${name} must be a boolean, got ${JSON.stringify(v)}`);
}
