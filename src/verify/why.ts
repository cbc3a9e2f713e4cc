// Why a remote command or a step failed, in one line, for the verify reports.
import type { ExecResult } from '../transport/types.js';

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** A failed command's stderr (else stdout, else its signal or exit code) on one line. */
export const why = (r: ExecResult) => oneLine(r.stderr) || oneLine(r.stdout).slice(0, 200) || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);

export const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));
