// Files a task takes from the controller: a template or a `copy` source, found under the
// role's (or playbook's) directory and never outside it.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { readInputText } from '../input-file.js';
import { renderString } from '../topology/render.js';
import type { OpContext } from './types.js';
import { OpError } from './types.js';

/**
 * The controller file `src` names: `<dir>/<sub>/<src>` (templates/, files/), else `<dir>/<src>`
 * (as Ansible looks in a role's templates/ or files/, then beside it). An absolute `src` is
 * taken as it is.
 */
export function sourceFile(ctx: OpContext, sub: 'templates' | 'files', src: string): string {
  if (path.isAbsolute(src)) return src;
  if (!ctx.dir) throw new OpError(`"${src}" is relative, and this task has no role or playbook directory to find it in`);
  const root = path.resolve(ctx.dir);
  for (const candidate of [path.resolve(root, sub, src), path.resolve(root, src)]) {
    if (!candidate.startsWith(root + path.sep)) throw new OpError(`"${src}" is outside ${root}`);
    if (existsSync(candidate)) return candidate;
  }
  throw new OpError(`"${src}" not found in ${path.join(root, sub)} nor in ${root}`);
}

const templateCache = new Map<string, Promise<string>>();

/** Render an ejs template file; escaping is off and `<%=` refused (see renderString). */
export async function renderTemplateFile(file: string, data: Record<string, unknown>): Promise<string> {
  let text = templateCache.get(file);
  if (!text) templateCache.set(file, (text = readInputText(file, { what: 'template' })));
  return renderString(await text, data, file);
}
