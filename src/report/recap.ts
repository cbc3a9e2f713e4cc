// The recap at the end of a run, and the JSON report (same numbers, plus every task).
import { writePrivateFile } from '../private-file.js';
import type { RunReport } from '../runner/recorder.js';
import { redactDeep } from './redact.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function recapTable(report: RunReport): string {
  const names = Object.keys(report.hosts);
  const w = Math.max(4, ...names.map((n) => n.length));
  const lines = [`PLAY RECAP${report.check ? ' (check mode: nothing was changed)' : ''}${report.interrupted ? ' (interrupted)' : ''}`];
  for (const n of names) {
    const h = report.hosts[n];
    const cols = [
      `ok=${h.ok}`,
      `changed=${h.changed}`,
      `failed=${h.failed}`,
      `skipped=${h.skipped}`,
      `unreachable=${h.unreachable}`,
      `time=${(h.time / 1000).toFixed(2)}s`,
    ].map((c) => pad(c, 13));
    lines.push(`${pad(n, w)} : ${cols.join(' ')}${h.status !== 'ok' ? ` ${h.status.toUpperCase()}` : ''}`);
    if (h.message && h.status !== 'ok') lines.push(`${' '.repeat(w)}   ${h.message.split('\n')[0]}`);
  }
  lines.push(`total ${(report.duration / 1000).toFixed(2)}s`);
  return lines.join('\n');
}

/** Write the JSON report atomically (exclusive temp file + rename, 0600), secrets redacted. */
export async function writeJsonReport(file: string, report: RunReport): Promise<void> {
  await writePrivateFile(file, JSON.stringify(redactDeep(report), null, 2) + '\n');
}
