// The type check of a playbook's TypeScript roles, for `provision check`: the TypeScript
// compiler (the project's own, else this package's) over each role's index.ts with this
// package's types for `import … from 'provision'`, so a misspelled option or a value outside
// an operation's enum is found before any connection, at file:line:column. Roles shipped in
// this package are skipped: the build type-checks them.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as TS from 'typescript';
import { PACKAGE_ROOT, FROM_BUILD } from '../package-root.js';
import type { Playbook } from './playbook.js';

export interface RoleTypeError {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** The TypeScript roles of a playbook that are not this package's own (their index.ts). */
export function outsideRoleFiles(playbook: Playbook): string[] {
  const own = path.join(PACKAGE_ROOT, 'roles') + path.sep;
  const files = playbook.plays.flatMap((p) => p.roles.filter((r) => !r.yaml).map((r) => path.join(r.dir, 'index.ts')));
  return [...new Set(files)].filter((f) => !f.startsWith(own) && existsSync(f));
}

/** The compiler: the one installed beside the roles, else this package's; undefined when neither. */
function loadTypeScript(near: string): typeof TS | undefined {
  for (const from of [path.join(near, 'package.json'), path.join(PACKAGE_ROOT, 'package.json')]) {
    try {
      return createRequire(from)('typescript') as typeof TS;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/**
 * This package's entries as the type checker should see them: the build's declarations (npm ci
 * builds them), else the sources (a checkout run through tsx before any build; slower to check).
 */
function entryPaths(): Record<string, string[]> {
  const file = (name: string) => {
    const built = path.join(PACKAGE_ROOT, 'dist', 'src', `${name}.d.ts`);
    return FROM_BUILD || existsSync(built) ? built : path.join(PACKAGE_ROOT, 'src', `${name}.ts`);
  };
  return { provision: [file('index')], 'provision/ha': [file('ha')] };
}

/**
 * Type-check the files; errors in them (and in the files they import that are not packages)
 * with positions. `undefined` when no TypeScript compiler can be found.
 */
export function typecheckRoles(files: string[]): RoleTypeError[] | undefined {
  if (files.length === 0) return [];
  const ts = loadTypeScript(path.dirname(files[0]));
  if (!ts) return undefined;
  // The project's tsconfig.json when it has one (its strictness, its libs), with our entries.
  const configFile = ts.findConfigFile(path.dirname(files[0]), ts.sys.fileExists);
  let options: TS.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    types: ['node'],
  };
  if (configFile && !path.resolve(configFile).startsWith(PACKAGE_ROOT + path.sep)) {
    const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configFile, ts.sys.readFile).config, ts.sys, path.dirname(configFile));
    options = parsed.options;
  }
  // 'provision' is the running copy, as the role hooks resolve it when the role runs.
  options = { ...options, noEmit: true, paths: { ...(options.paths ?? {}), ...entryPaths() } };
  const program = ts.createProgram(files, options);
  const out: RoleTypeError[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (!d.file || d.category !== ts.DiagnosticCategory.Error) continue;
    const f = path.resolve(d.file.fileName);
    if (f.includes(`${path.sep}node_modules${path.sep}`) || f.startsWith(PACKAGE_ROOT + path.sep + 'src') || f.startsWith(PACKAGE_ROOT + path.sep + 'dist')) continue;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    out.push({ file: f, line: line + 1, col: character + 1, message: `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}` });
  }
  return out;
}
