// A run loads the playbook's roles from outside this package before its first connection: a
// role that does not compile (or throws as it loads) is bad input, exit 3 at file:line:column,
// with nothing sent to any host. (The package's own roles are compiled by the build.)
import path from 'node:path';
import { InputError } from '../errors.js';
import { importRole } from './role-module.js';
import { outsideRoleFiles } from './role-typecheck.js';
import { userFrames } from './call-site.js';
import type { Playbook } from './playbook.js';

/** "file:line:col" at the start of a message or a stack frame into its parts. */
function position(loc: string | undefined): { file: string; line: number; col: number; rest: string } | undefined {
  const m = loc && /^(.*?):(\d+):(\d+)(?:: )?/.exec(loc);
  return m ? { file: m[1], line: Number(m[2]), col: Number(m[3]), rest: loc.slice(m[0].length) } : undefined;
}

export async function preloadRoles(playbook: Playbook): Promise<void> {
  for (const file of outsideRoleFiles(playbook)) {
    try {
      await importRole(path.dirname(file));
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      // The compiler's message starts with file:line:column; an exception names it in its stack.
      const pos = position(err.message);
      if (pos) throw new InputError(pos.rest, pos);
      throw new InputError(`role ${path.basename(path.dirname(file))} failed to load: ${err.message}`, position(userFrames(err.stack)[0]) ?? { file });
    }
  }
}
