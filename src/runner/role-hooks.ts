// Module hooks (node's module.register, run on node's hooks thread) for roles that are not part
// of the build: a user's role outside this package, a test fixture's, the scale bench's.
// - `import … from 'provision'` and 'provision/ha' resolve to the entries of the running copy
//   (given by ./role-module.ts), so a role and the CLI share one module graph wherever the role
//   lives, with or without a node_modules/provision beside it;
// - a .ts file (outside node_modules) is compiled by esbuild, file by file, as an ES module (a
//   role exports its definition with `export default`, whatever its package.json says), with
//   an inline source map (PROVISION_DEBUG=1 maps stack traces through it);
// - `./x.js` finds `./x.ts`, as TypeScript's NodeNext resolution writes imports.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
}
interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface Loaded {
  format: string;
  source: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}

export interface RoleHooksData {
  /** 'provision' and 'provision/…' specifiers -> the URL of the running copy's module. */
  entries: Record<string, string>;
}

let entries: Record<string, string> = {};
let esbuild: Promise<typeof Esbuild> | undefined;

export function initialize(data: RoleHooksData): void {
  entries = data.entries;
}

const isTs = (url: string) => url.startsWith('file:') && url.endsWith('.ts') && !url.includes('/node_modules/');

export async function resolve(specifier: string, context: ResolveContext, next: (s: string, c: ResolveContext) => Promise<Resolved>): Promise<Resolved> {
  const entry = entries[specifier];
  if (entry) return { url: entry, shortCircuit: true };
  try {
    return await next(specifier, context);
  } catch (e) {
    const relativeJs = /^\.\.?\/.*\.js$/.test(specifier) && context.parentURL !== undefined && isTs(context.parentURL);
    if (relativeJs && (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return next(specifier.replace(/\.js$/, '.ts'), context);
    throw e;
  }
}

export async function load(url: string, context: object, next: (u: string, c: object) => Promise<Loaded>): Promise<Loaded> {
  if (!isTs(url)) return next(url, context);
  const file = fileURLToPath(url);
  esbuild ??= import('esbuild');
  const { transform } = await esbuild;
  const out = await transform(await readFile(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: file, sourcemap: 'inline' }).catch((e: Esbuild.TransformFailure) => {
    // "file:line:column: message" per error.
    throw new Error(e.errors?.map((m) => (m.location ? `${file}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text)).join('\n') || String(e));
  });
  return { format: 'module', source: out.code, shortCircuit: true };
}
