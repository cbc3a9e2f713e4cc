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
 * (as Ansible looks in a role's templates/ or files/, then beside it). A path that leaves that
 * directory (absolute, or through "..") is refused: a variable naming a template must not read
 * the controller's other files.
 */
export function sourceFile(ctx: OpContext, sub: 'templates' | 'files', src: string): string {
  if (!ctx.dir) throw new OpError(`"${src}": this task has no role or playbook directory to find it in`);
  const root = path.resolve(ctx.dir);
  const inside = (p: string, d: string) => p.startsWith(d + path.sep);
  if (path.isAbsolute(src) || src.split(/[\\/]/).includes('..') || !inside(path.resolve(root, sub, src), path.join(root, sub))) {
    throw new OpError(`"${src}" is outside the role's ${sub} directory`);
  }
  for (const candidate of [path.resolve(root, sub, src), path.resolve(root, src)]) if (existsSync(candidate)) return candidate;
  throw new OpError(`"${src}" not found in ${path.join(root, sub)} nor in ${root}`);
}

const templateCache = new Map<string, Promise<string>>();

/** Render an ejs template file; escaping is off and `<%=` refused (see renderString). */
export async function renderTemplateFile(file: string, data: Record<string, unknown>): Promise<string> {
  let text = templateCache.get(file);
  if (!text) templateCache.set(file, (text = readInputText(file, { what: 'template' })));
  return renderString(await text, data, file);
}
