import { createTwoFilesPatch } from 'diff';
import { redact } from '../report/redact.js';

/** Unified diff of a file's old and new content, secrets redacted. Empty string when equal. */
export function unifiedDiff(path: string, before: string | null, after: string | null): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(
    before === null ? '/dev/null' : `${path} (before)`,
    after === null ? '/dev/null' : `${path} (after)`,
    before ?? '',
    after ?? '',
    '',
    '',
    { context: 3 },
  );
  // Drop the "Index:" / "=====" header jsdiff adds; keep ---/+++ and hunks.
  const body = patch.split('\n').filter((l, i) => !(i < 2 && (l.startsWith('Index:') || l.startsWith('===')))).join('\n');
  return redact(body.trimEnd());
}
