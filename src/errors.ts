// Errors the user sees, and the exit codes the CLI maps them to (documented in README.md).

export const EXIT = {
  OK: 0,
  /** One or more hosts failed or were unreachable. */
  HOST_FAILED: 2,
  /** Bad input (inventory, playbook, arguments) found before any connection was made. */
  BAD_INPUT: 3,
  /** `provision check` found errors in the HA topology. */
  CHECK_FAILED: 4,
  /** `provision verify` ran but the cluster did not pass. */
  VERIFY_FAILED: 5,
  /** Interrupted (SIGINT). */
  INTERRUPTED: 130,
} as const;

export interface SourcePos {
  file: string;
  line?: number; // 1-based
  col?: number; // 1-based
}

/**
 * Bad input found before connecting to anything: an inventory, playbook, vars file or CLI argument.
 * The message names the file, line and column, with a short excerpt of the offending text.
 */
export class InputError extends Error {
  readonly pos?: SourcePos;
  readonly excerpt?: string;
  constructor(message: string, pos?: SourcePos, excerpt?: string) {
    super(message);
    this.name = 'InputError';
    this.pos = pos;
    this.excerpt = excerpt;
  }
  /** One or more lines for a terminal: "file:line:col: message" then the excerpt. */
  format(): string {
    const where = this.pos
      ? `${this.pos.file}${this.pos.line ? `:${this.pos.line}` : ''}${this.pos.line && this.pos.col ? `:${this.pos.col}` : ''}: `
      : '';
    return `${where}${this.message}${this.excerpt ? `\n${this.excerpt}` : ''}`;
  }
}

/** Build a short excerpt (the line and a caret under the column) from source text. */
export function excerptAt(text: string, line: number, col?: number): string {
  const lines = text.split('\n');
  const src = lines[line - 1];
  if (src === undefined) return '';
  const shown = src.length > 160 ? src.slice(0, 160) + '…' : src;
  const gutter = `${String(line).padStart(4)} | `;
  const caret = col ? `\n${' '.repeat(gutter.length + Math.max(0, Math.min(col - 1, 160)))}^` : '';
  return `${gutter}${shown.replace(/\t/g, '→')}${caret}`;
}

/** A failure tied to one host (connection, command, validation); the run goes on for other hosts. */
export class HostError extends Error {
  readonly host: string;
  readonly kind: 'unreachable' | 'failed';
  constructor(host: string, kind: 'unreachable' | 'failed', message: string) {
    super(message);
    this.name = 'HostError';
    this.host = host;
    this.kind = kind;
  }
}
