// RecordingTransport: a Transport for unit tests. It records every command and upload and
// answers commands from scripted rules (first matching rule wins) or a fallback callback.
import { Shell } from './quote.js';
import type { ExecOptions, ExecResult, PutOptions, Transport } from './types.js';

/** A substring of the command, a RegExp tested against it, or a predicate. */
export type CommandMatcher = string | RegExp | ((cmd: string, opts: ExecOptions) => boolean);

/** A result (missing fields: code 0, empty output), or a function computing one. */
export type ScriptedAnswer =
  | Partial<ExecResult>
  | ((cmd: string, opts: ExecOptions) => Partial<ExecResult> | Promise<Partial<ExecResult>>);

export interface RecordedExec {
  kind: 'exec';
  cmd: string;
  opts: ExecOptions;
  result: ExecResult;
}

export interface RecordedPut {
  kind: 'put';
  path: string;
  content: Buffer;
  /** `content` decoded as UTF-8. */
  text: string;
  opts: PutOptions;
}

interface Rule {
  matcher: CommandMatcher;
  answer: ScriptedAnswer;
  /** Remaining uses (Infinity for `on`). */
  times: number;
}

export interface RecordingTransportOptions {
  /** Rules as [matcher, answer] pairs (like `on`), checked in order. */
  answers?: Array<[CommandMatcher, ScriptedAnswer]>;
  /** Answer for commands no rule matches (default: code 0, empty output). */
  fallback?: ScriptedAnswer;
  /** Make put() fail for paths matching this (to test error handling). */
  failPut?: (path: string) => string | undefined;
  /** reconnect() rejects this many times first (a host still rebooting). */
  reconnectFailures?: number;
}

export class RecordingTransport implements Transport {
  readonly host: string;
  /** Every exec and put, in call order. */
  readonly log: Array<RecordedExec | RecordedPut> = [];
  /** Last content written to each path by put(). */
  readonly files = new Map<string, Buffer>();
  connected = false;
  closed = false;
  /** reconnect() calls so far (failed ones included). */
  reconnects = 0;

  private readonly rules: Rule[] = [];
  private readonly fallback?: ScriptedAnswer;
  private readonly failPut?: (path: string) => string | undefined;
  private reconnectFailures: number;

  constructor(host = 'test-host', opts: RecordingTransportOptions = {}) {
    this.host = host;
    for (const [m, a] of opts.answers ?? []) this.on(m, a);
    this.fallback = opts.fallback;
    this.failPut = opts.failPut;
    this.reconnectFailures = opts.reconnectFailures ?? 0;
  }

  /** Answer every matching command with `answer`. */
  on(matcher: CommandMatcher, answer: ScriptedAnswer): this {
    this.rules.push({ matcher, answer, times: Infinity });
    return this;
  }

  /** Answer the next matching command (only one) with `answer`; `once` rules are checked before `on` rules. */
  once(matcher: CommandMatcher, answer: ScriptedAnswer): this {
    this.rules.push({ matcher, answer, times: 1 });
    return this;
  }

  /** Text of every command run, in order. */
  get commands(): string[] {
    return this.execs.map((e) => e.cmd);
  }

  get execs(): RecordedExec[] {
    return this.log.filter((e): e is RecordedExec => e.kind === 'exec');
  }

  get puts(): RecordedPut[] {
    return this.log.filter((e): e is RecordedPut => e.kind === 'put');
  }

  /** Commands whose text matches. */
  ran(matcher: CommandMatcher): RecordedExec[] {
    return this.execs.filter((e) => matches(matcher, e.cmd, e.opts));
  }

  async connect(): Promise<void> {
    this.connected = true;
  }

  async exec(cmd: Shell, opts: ExecOptions = {}): Promise<ExecResult> {
    if (!(cmd instanceof Shell)) throw new TypeError('exec() takes a Shell built with sh`...` or raw()');
    if (this.closed) throw new Error('RecordingTransport: exec after close');
    const text = cmd.text;
    const rule =
      this.rules.find((r) => r.times !== Infinity && r.times > 0 && matches(r.matcher, text, opts)) ??
      this.rules.find((r) => r.times === Infinity && matches(r.matcher, text, opts));
    if (rule) rule.times--;
    const answer = rule ? rule.answer : this.fallback;
    const partial = typeof answer === 'function' ? await answer(text, opts) : (answer ?? {});
    const result: ExecResult = { stdout: '', stderr: '', code: 0, ...partial };
    this.log.push({ kind: 'exec', cmd: text, opts: { ...opts }, result });
    return result;
  }

  async put(path: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    if (this.closed) throw new Error('RecordingTransport: put after close');
    const buf = Buffer.isBuffer(content) ? Buffer.from(content) : Buffer.from(content, 'utf8');
    const failure = this.failPut?.(path);
    this.log.push({ kind: 'put', path, content: buf, text: buf.toString('utf8'), opts: { ...opts } });
    if (failure) throw new Error(failure);
    this.files.set(path, buf);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async reconnect(): Promise<void> {
    this.reconnects++;
    if (this.reconnectFailures > 0) {
      this.reconnectFailures--;
      throw new Error('RecordingTransport: connection refused (scripted)');
    }
    this.connected = true;
  }
}

function matches(m: CommandMatcher, cmd: string, opts: ExecOptions): boolean {
  if (typeof m === 'string') return cmd.includes(m);
  if (m instanceof RegExp) {
    m.lastIndex = 0;
    return m.test(cmd);
  }
  return m(cmd, opts);
}
