// Where a role's code is loaded from. Run through tsx (tests, `npm run bench`), a role is its
// index.ts. Run by the compiled CLI (bin/compiled.js defines the two constants below), a role of
// this repository is its compiled index.js in the same tree as the CLI; any other role (a user's,
// a test fixture's) is loaded through tsx, with its imports of this repository's modules sent to
// the compiled tree (bin/compiled-hooks.js), so that there is one copy of each module.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

declare const __PROVISION_REPO__: string | undefined;
declare const __PROVISION_BUILD__: string | undefined;

/** The repository and compiled tree, when this module runs compiled (else undefined). */
export const COMPILED: { repo: string; build: string } | undefined =
  typeof __PROVISION_REPO__ === 'string' && typeof __PROVISION_BUILD__ === 'string' ? { repo: __PROVISION_REPO__, build: __PROVISION_BUILD__ } : undefined;

let tsLoader: Promise<void> | undefined;

function useTsLoader(c: { repo: string; build: string }): Promise<void> {
  tsLoader ??= (async () => {
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
    // Registered after tsx, so it runs first and rewrites what tsx resolved.
    const dirUrl = (p: string) => pathToFileURL(p).href.replace(/\/?$/, '/');
    register(pathToFileURL(path.join(c.repo, 'bin', 'compiled-hooks.js')).href, { data: { repo: dirUrl(c.repo), build: dirUrl(c.build) } });
  })();
  return tsLoader;
}

/** Import the module of the role in `dir` (its index.ts, or that file compiled). */
export async function importRole(dir: string): Promise<Record<string, unknown>> {
  const ts = path.join(dir, 'index.ts');
  if (COMPILED) {
    const rel = path.relative(COMPILED.repo, ts);
    const js = path.join(COMPILED.build, rel.replace(/\.ts$/, '.js'));
    if (!rel.startsWith('..') && !path.isAbsolute(rel) && existsSync(js)) return import(pathToFileURL(js).href);
    await useTsLoader(COMPILED);
  }
  return import(pathToFileURL(ts).href);
}
