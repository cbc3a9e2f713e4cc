// The harness of the hostile-input tests: a TCP listener on 127.0.0.1 that counts the connections
// it sees (every host of the corpus points at it), the CLI run in-process, and the shape every
// bad-input report must have (exit 3, file:line, one short paragraph, no stack, nothing sent).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { main } from '../../src/cli/main.js';
import { EXIT } from '../../src/errors.js';

export interface Result {
  code: number;
  out: string;
  err: string;
  connections: number;
  /** Wall time of the run, ms. */
  ms: number;
  /** How far the process's peak resident memory rose during the run, bytes. */
  peakGrowth: number;
}

/** A listener that is not an SSH server: whoever connects fails at once, and is counted. */
export class CountingListener {
  connections = 0;
  port = 0;
  private server?: Server;
  async start(): Promise<void> {
    this.server = createServer((socket) => {
      this.connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
  /** Run the CLI in this process; connections counted are those made during the run. */
  async provision(args: string[]): Promise<Result> {
    const out: string[] = [];
    const err: string[] = [];
    const before = this.connections;
    const rssBefore = process.memoryUsage().rss;
    const t0 = Date.now();
    const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
    const ms = Date.now() - t0;
    const peakGrowth = Math.max(0, process.resourceUsage().maxRSS * 1024 - rssBefore);
    // A connection attempt may still be on its way: give the listener a moment to see it.
    await new Promise((r) => setTimeout(r, 20));
    return { code, out: out.join('\n'), err: err.join('\n'), connections: this.connections - before, ms, peakGrowth };
  }
}

/** The shape every bad-input report must have. */
export function assertBadInput(r: Result, want: { msg: RegExp; at?: string }, label: string): void {
  const shown = `${label}\n--- stderr\n${r.err}\n--- stdout\n${r.out}`;
  assert.equal(r.code, EXIT.BAD_INPUT, `exit code: ${shown}`);
  assert.equal(r.connections, 0, `nothing may be sent to any host: ${shown}`);
  assert.equal(r.out, '', `no run output before the error (no play started): ${shown}`);
  assert.ok(r.err.startsWith('provision: '), shown);
  assert.match(r.err, want.msg, shown);
  if (want.at) assert.ok(r.err.startsWith(`provision: ${want.at}: `), `names ${want.at}: ${shown}`);
  assert.doesNotMatch(r.err, /\n\s+at /, `no stack trace: ${shown}`);
  assert.doesNotMatch(r.err, /node_modules|\.ts:\d+|(?:Type|Range|Reference)Error/, `no internals: ${shown}`);
  assert.doesNotMatch(r.err, /\n\s*\n/, `one paragraph (no blank line): ${shown}`);
  assert.ok(r.err.length < 1200, `short: ${r.err.length} characters: ${shown}`);
}

/** assertBadInput, and the bounds of the hostile corpus: under 2 s, under 200 MB of memory. */
export function assertBoundedBadInput(r: Result, want: { msg: RegExp; at?: string }, label: string): void {
  assertBadInput(r, want, label);
  assert.ok(r.ms < 2000, `${label}: refused in ${r.ms} ms (limit 2000)`);
  assert.ok(r.peakGrowth < 200 * 1024 * 1024, `${label}: peak memory grew ${Math.round(r.peakGrowth / 1048576)} MB (limit 200)`);
}
