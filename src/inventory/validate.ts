// The connection variables of an inventory, checked before anything connects: an address that is
// not a host name or IP, a port that is not a port, a user name with shell characters, a key file
// that does not exist. Each error names the file, line and column where the value was written
// (inventory, group_vars/ or host_vars/), like every other input error.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileKind } from '../input-file.js';
import type { InputError } from '../errors.js';
import { parseAddress } from './hostpattern.js';
import { varError } from './load.js';
import type { Host, Inventory } from './types.js';

export interface ConnectionVarsOptions {
  /** Also require explicit private key files to exist (a run; `provision check` skips this). */
  files?: boolean;
  /** Home directory for `~` in key paths (default: os.homedir()). */
  home?: string;
}

const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}\$?$/;

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return JSON.stringify(s !== undefined && s.length > 60 ? s.slice(0, 60) + '…' : s);
};

/** The first problem of one host's connection variables, or undefined. */
export function connectionVarsError(inv: Inventory, host: Host, opts: ConnectionVarsOptions = {}): InputError | undefined {
  const v = host.vars;
  const at = (key: string, message: string) => varError(inv, [host.name, key], `host ${host.name}: ${message}`);

  for (const key of ['ansible_host', 'ansible_ssh_host']) {
    const a = v[key];
    if (a === undefined || a === null) continue;
    if (typeof a !== 'string') return at(key, `${key} must be a host name or an IP address, not ${show(a)}`);
    const parsed = parseAddress(a);
    if (!parsed || parsed.host !== a) {
      const hint = parsed && parsed.port !== undefined ? ' (put the port in ansible_port)' : '';
      return at(key, `${key} ${show(a)} is not a host name or an IP address${hint}`);
    }
  }

  for (const key of ['ansible_port', 'ansible_ssh_port']) {
    const p = v[key];
    if (p === undefined || p === null) continue;
    const n = typeof p === 'number' ? p : typeof p === 'string' && /^\s*\d+\s*$/.test(p) ? Number(p) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535) return at(key, `${key} must be a port number (1-65535), not ${show(p)}`);
  }

  for (const key of ['ansible_user', 'ansible_ssh_user', 'ansible_become_user']) {
    const u = v[key];
    if (u === undefined || u === null) continue;
    if (typeof u !== 'string' || !USER_RE.test(u)) {
      return at(key, `${key} ${show(u)} is not a user name (letters, digits, '_', '.', '@' and '-', at most 64)`);
    }
  }

  for (const key of ['ansible_ssh_private_key_file', 'ansible_private_key_file', 'provision_known_hosts_file']) {
    const f = v[key];
    if (f === undefined || f === null) continue;
    if (typeof f !== 'string' || f === '' || /[\0\n\r]/.test(f)) return at(key, `${key} must be a file path, not ${show(f)}`);
    if (!opts.files || f.includes('%')) continue;
    const home = opts.home ?? homedir();
    const full = f === '~' ? home : f.startsWith('~/') ? path.join(home, f.slice(2)) : path.resolve(f);
    const knownHosts = key === 'provision_known_hosts_file';
    // A missing known_hosts file is an empty one; a FIFO or a device would hang or flood the read.
    if (!existsSync(full)) {
      if (knownHosts) continue;
      return at(key, `private key file ${full} does not exist`);
    }
    const st = statSync(full);
    if (!st.isFile()) return at(key, `${knownHosts ? 'known_hosts' : 'private key'} file ${full} is ${fileKind(st)}, not a regular file`);
  }
  return undefined;
}

/** Throw the first connection-variable error of the given hosts (default: every host). */
export function validateConnectionVars(inv: Inventory, opts: ConnectionVarsOptions & { hosts?: Host[] } = {}): void {
  for (const h of opts.hosts ?? inv.hosts.values()) {
    const e = connectionVarsError(inv, h, opts);
    if (e) throw e;
  }
}

/**
 * A connection-setting error raised without a position (by the transport layer, which knows
 * hosts but not files): placed at the variable it names when the host has it, else at the host.
 */
export function placeHostError(inv: Inventory, host: Host, err: InputError): InputError {
  if (err.pos) return err;
  const keys = Object.keys(host.vars).filter((k) => /^(ansible|provision)_/.test(k));
  // The variable the message names, else one whose value holds the ssh option it names (ProxyCommand).
  const options = err.message.match(/\b[A-Z][a-z]+[A-Z]\w*\b/g) ?? [];
  const named =
    keys.filter((k) => err.message.includes(k)).sort((a, b) => b.length - a.length)[0] ??
    keys.find((k) => typeof host.vars[k] === 'string' && options.some((o) => (host.vars[k] as string).toLowerCase().includes(o.toLowerCase())));
  return varError(inv, named ? [host.name, named] : [host.name], err.message);
}
