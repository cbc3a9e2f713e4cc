// Every file in src/ stays readable at once: at most 450 lines a file and 80 lines a function
// (function declarations, methods, accessors, constructors, function expressions and arrow
// functions, each from its first line to its last, nested ones counted in their parent too).
// Function lengths come from the TypeScript compiler's syntax tree, not a regex. The closest
// files and functions are printed, so whoever adds to them sees how much room is left.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const MAX_FILE_LINES = 450;
const MAX_FUNCTION_LINES = 80;
const SRC = path.resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

export interface FunctionSize {
  where: string;
  lines: number;
}

/** Every function-like node of a file with its length in lines (first to last line, inclusive). */
export function functionSizes(file: string, text: string): FunctionSize[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: FunctionSize[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : nameFromParent(node);
      out.push({ where: `${path.relative(process.cwd(), file)}:${first + 1} ${name}`, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** `const x = () => ...` / `x: function () ...`: the name it is bound to. */
function nameFromParent(node: ts.Node): string {
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && ts.isIdentifier(p.name)) return p.name.text;
  return '(anonymous)';
}

const files = sourceFiles(SRC).map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));

test(`no file in src/ has more than ${MAX_FILE_LINES} lines`, () => {
  const sizes = files.map((f) => ({ where: path.relative(process.cwd(), f.file), lines: lineCount(f.text) })).sort((a, b) => b.lines - a.lines);
  console.log(`largest files: ${sizes.slice(0, 3).map((s) => `${s.where} ${s.lines}`).join(', ')}`);
  assert.ok(files.length > 50, 'src/ was found');
  assert.deepEqual(sizes.filter((s) => s.lines > MAX_FILE_LINES), []);
});

test(`no function in src/ has more than ${MAX_FUNCTION_LINES} lines`, () => {
  const sizes = files.flatMap((f) => functionSizes(f.file, f.text)).sort((a, b) => b.lines - a.lines);
  console.log(`longest functions: ${sizes.slice(0, 3).map((s) => `${s.where} ${s.lines}`).join(', ')}`);
  assert.ok(sizes.length > 200, 'functions were found');
  assert.deepEqual(sizes.filter((s) => s.lines > MAX_FUNCTION_LINES), []);
});

test('the function measure counts declarations, methods and arrows, nested ones in their parent too', () => {
  const text = ['function a() {', '  const b = () => {', '    return 1;', '  };', '  return b;', '}', 'class C {', '  m() {', '    return 2;', '  }', '}', ''].join('\n');
  assert.deepEqual(
    functionSizes('x.ts', text).map((s) => [s.where.split(' ')[1], s.lines]),
    [
      ['a', 6],
      ['b', 3],
      ['m', 3],
    ],
  );
});
