// A secret value (a VRRP password) that cannot leak by accident: printing it, interpolating
// it, JSON.stringify-ing it or util.inspect-ing it all give «redacted». Only `.reveal()`
// returns the value, and only templates call it. Revealing registers the value with
// src/report/redact.ts, so a revealed value that reaches a diff or log is masked there.
import { readInputTextSync, type InputFileError } from '../input-file.js';
import { isAbsolute, resolve } from 'node:path';
import { inspect } from 'node:util';
import { REDACTED, registerSecret } from '../report/redact.js';

/** How an inventory names a secret: inline string, `{env: NAME}` or `{file: path}` (relative to the inventory's dir). */
export type SecretSpec = string | { env: string } | { file: string };

export interface SecretOptions {
  /** Directory that `{file: path}` is relative to (the inventory file's directory). Default: cwd. */
  baseDir?: string;
  /** Environment to read `{env: NAME}` from. Default: process.env. */
  env?: Record<string, string | undefined>;
}

/** Largest `{file: path}` secret read (a password, not a document). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** A secret that could not be resolved (missing variable or file). The message names it, never a value. */
export class SecretError extends Error {
  readonly spec: string;
  constructor(message: string, spec: string) {
    super(message);
    this.name = 'SecretError';
    this.spec = spec;
  }
}

export class Secret {
  readonly #value: string;
  /** Where the value came from, safe to print: "inline", "env PROVISION_VRRP_PASS", "file secrets/vrrp.txt". */
  readonly source: string;

  constructor(value: string, source = 'inline') {
    this.#value = value;
    this.source = source;
  }

  /** Whether `spec` has the shape of a secret spec (string, {env}, {file}). */
  static isSpec(spec: unknown): spec is SecretSpec {
    if (typeof spec === 'string') return true;
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return false;
    const keys = Object.keys(spec);
    if (keys.length !== 1) return false;
    const v = (spec as Record<string, unknown>)[keys[0]];
    return (keys[0] === 'env' || keys[0] === 'file') && typeof v === 'string' && v.length > 0;
  }

  /** Resolve a spec now. Throws SecretError naming the variable or file when it is missing or empty. */
  static resolve(spec: SecretSpec, opts: SecretOptions = {}): Secret {
    if (typeof spec === 'string') return new Secret(spec, 'inline');
    if ('env' in spec) {
      const env = opts.env ?? process.env;
      const v = env[spec.env];
      if (v === undefined) throw new SecretError(`environment variable ${spec.env} is not set`, `env ${spec.env}`);
      if (v === '') throw new SecretError(`environment variable ${spec.env} is empty`, `env ${spec.env}`);
      return new Secret(v, `env ${spec.env}`);
    }
    if ('file' in spec) {
      const path = isAbsolute(spec.file) ? spec.file : resolve(opts.baseDir ?? process.cwd(), spec.file);
      let text: string;
      try {
        // A regular file of sane size only: /dev/zero or a FIFO would never end.
        text = readInputTextSync(path, { what: `secret file ${path}`, maxBytes: MAX_SECRET_FILE_BYTES });
      } catch (e) {
        const missing = (e as InputFileError).code === 'ENOENT';
        throw new SecretError(missing ? `secret file ${path} does not exist` : (e as Error).message, `file ${spec.file}`);
      }
      // One trailing newline is the file's, not the secret's (echo pw > file).
      const v = text.replace(/\r?\n$/, '');
      if (v === '') throw new SecretError(`secret file ${path} is empty`, `file ${spec.file}`);
      return new Secret(v, `file ${spec.file}`);
    }
    throw new SecretError('a secret must be a string, {env: NAME} or {file: path}', 'invalid');
  }

  /** The value. For templates only. */
  reveal(): string {
    registerSecret(this.#value);
    return this.#value;
  }

  /** Length of the value (for checks that must not reveal it). */
  get length(): number {
    return this.#value.length;
  }

  /** Whether the value matches a pattern (for checks that must not reveal it). */
  matches(re: RegExp): boolean {
    return re.test(this.#value);
  }

  /** Whether two secrets hold the same value. */
  equals(other: Secret): boolean {
    return other.#value === this.#value;
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}
