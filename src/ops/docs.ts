// docs/operations.md, written from the catalogue: every operation with its options (name,
// type, default), what it reads and changes, --check/--diff, its Ansible equivalent and an
// example. A test compares the file with this output; `node --import tsx src/ops/docs.ts`
// rewrites it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOGUE } from './catalogue.js';
import type { Operation } from './operation.js';
import type { Schema } from './schema.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function section(name: string, op: Operation<Schema>): string {
  const rows = Object.entries(op.options).map(
    ([k, f]) => `| \`${k}\`${f.required ? ' (required)' : ''} | \`${cell(f.type)}\` | ${f.default ? cell(f.default) : ''} | ${cell(f.doc)} |`,
  );
  return [
    `## r.${name}`,
    '',
    op.summary,
    '',
    '| option | type | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
    `- **Reads:** ${op.reads}`,
    `- **Changes:** ${op.changes}`,
    `- **--check / --diff:** ${op.checkMode}`,
    `- **Ansible:** ${op.ansible}`,
    '',
    '```ts',
    op.example,
    '```',
    '',
  ].join('\n');
}

export function operationsDoc(): string {
  const ops = Object.entries(CATALOGUE) as [string, Operation<Schema>][];
  return [
    '# Operations',
    '',
    'Every operation a TypeScript role calls as `r.<name>(task name, options, task options)`; YAML',
    "tasks call the same operations under their Ansible module names. Written from the catalogue",
    '(`src/ops/catalogue.ts`) by `node --import tsx src/ops/docs.ts`; a test keeps the two equal.',
    '',
    'Options are checked when a task is called, before anything is sent for it (an unknown option',
    'names the closest valid one); `provision check` type-checks a role against the same types.',
    'Task options (the third argument): `notify` (handler names), `tags`, `when` (false: skipped),',
    '`skipReason`.',
    '',
    ...ops.map(([name]) => `- [r.${name}](#r${name.toLowerCase()}) — ${CATALOGUE[name as keyof typeof CATALOGUE].ansible}`),
    '',
    ...ops.map(([name, op]) => section(name, op)),
  ].join('\n');
}

export const DOC_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'operations.md');

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) writeFileSync(DOC_FILE, operationsDoc());
