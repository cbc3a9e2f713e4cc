// Read a YAML file with source positions, so every error about its content names file:line:col.
import { LineCounter, isMap, isSeq, isScalar, isPair, isAlias, visit, type Document, type Node } from 'yaml';
import { InputError, excerptAt, type SourcePos } from './errors.js';
import { findDuplicateKey } from './inventory/yaml.js';
import { maskSecretValues } from './report/redact.js';
import { readInputText, MAX_INPUT_BYTES } from './input-file.js';
import { parseYamlDocument } from './yaml-depth.js';

/** Aliases may add at most this many values to a document (the yaml package's resource-exhaustion guard). */
const MAX_ALIAS_COUNT = 100;

export { MAX_INPUT_BYTES };

export interface YamlFile {
  file: string;
  text: string;
  doc: Document.Parsed;
  value: unknown;
  /** Position of the node at a path of keys/indexes (the nearest existing ancestor if missing); `key`: of the last key itself. */
  pos(path: (string | number)[], opts?: { key?: boolean }): SourcePos;
  /** An InputError at a path, with an excerpt of that line; `key`: point at the key, not its value. */
  error(path: (string | number)[], message: string, opts?: { key?: boolean }): InputError;
}

export async function readYamlFile(file: string, opts: { version?: '1.1' | '1.2'; what?: string } = {}): Promise<YamlFile> {
  return parseYamlText(file, await readInputText(file, { what: opts.what }), opts);
}

export function parseYamlText(file: string, text: string, opts: { version?: '1.1' | '1.2' } = {}): YamlFile {
  const lc = new LineCounter();
  const doc = parseYamlDocument(text, file, lc, { uniqueKeys: true, version: opts.version ?? '1.2' });
  const posOf = (offset: number): SourcePos => {
    const { line, col } = lc.linePos(offset);
    return { file, line, col };
  };
  // The excerpt quotes the file: a password on that line is masked.
  const errorAtOffset = (offset: number, message: string): InputError => {
    const p = posOf(offset);
    return new InputError(message, p, maskSecretValues(excerptAt(text, p.line!, p.col)));
  };
  if (doc.errors.length > 0) throw parseError(doc, lc, text, errorAtOffset);
  for (const w of doc.warnings) {
    if (w.code === 'TAG_RESOLVE_FAILED') {
      const tag = /Unresolved tag: (\S+)/.exec(w.message)?.[1];
      throw errorAtOffset(w.pos[0], tag === '!vault' ? 'Ansible Vault values (!vault) are not supported' : `unsupported YAML tag ${tag ?? ''}`.trimEnd());
    }
  }
  // Keys are names: a list or mapping as a key would silently become "[object]"-like text.
  let badKey: Node | undefined;
  visit(doc, {
    Pair(_, pair) {
      const k = pair.key as Node | null;
      if (k && !isScalar(k) && !isAlias(k) && !badKey) badKey = k;
    },
  });
  if (badKey?.range) throw errorAtOffset(badKey.range[0], 'a mapping key must be a plain value (a name), not a list or mapping');
  const value = toJs(doc, file, errorAtOffset);
  const pos = (path: (string | number)[], opts: { key?: boolean } = {}): SourcePos => {
    const n = nodeAt(doc, path, opts.key);
    return n?.range ? posOf(n.range[0]) : { file };
  };
  return {
    file,
    text,
    doc,
    value,
    pos,
    error(path, message, opts) {
      const p = pos(path, opts);
      return new InputError(message, p, p.line ? maskSecretValues(excerptAt(text, p.line, p.col)) : undefined);
    },
  };
}

/** The parser's first error as an InputError at its position (a duplicate key names where it was first). */
function parseError(doc: Document.Parsed, lc: LineCounter, text: string, errorAtOffset: (offset: number, message: string) => InputError): InputError {
  const err = doc.errors[0];
  if (err.code === 'DUPLICATE_KEY') {
    const dup = findDuplicateKey(doc.contents as Node | null);
    if (dup?.again.range && dup.first.range) {
      const was = lc.linePos(dup.first.range[0]);
      return errorAtOffset(dup.again.range[0], `duplicate key "${String(dup.again.source ?? dup.again.value)}" (first at line ${was.line}, column ${was.col})`);
    }
  }
  const line = lc.linePos(err.pos[0]).line;
  let msg = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  if (/Maximum call stack/i.test(msg)) msg = 'nested too deeply for the parser';
  if (/tab/i.test(msg) || /\t/.test(text.split('\n')[line - 1] ?? '')) {
    if (!/tab/i.test(msg)) msg += ' (tabs are not allowed for indentation in YAML)';
  }
  return errorAtOffset(err.pos[0], `invalid YAML: ${msg}`);
}

/** The document's value; aliases that expand too far (a "billion laughs") are an InputError at the first alias. */
function toJs(doc: Document.Parsed, file: string, errorAtOffset: (offset: number, message: string) => InputError): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    let firstAlias: Node | undefined;
    visit(doc, {
      Alias(_, a) {
        firstAlias ??= a;
        return visit.BREAK;
      },
    });
    const why = /alias|resource exhaustion/i.test((e as Error).message)
      ? `aliases expand to too many values (more than ${MAX_ALIAS_COUNT} per alias: nested anchors that multiply, as in a "billion laughs" document)`
      : `cannot read the YAML: ${(e as Error).message.split('\n')[0]}`;
    throw firstAlias?.range ? errorAtOffset(firstAlias.range[0], why) : new InputError(why, { file });
  }
}

/** The node at a path of keys/indexes, or the nearest existing ancestor; `wantKey`: the last key itself. */
function nodeAt(doc: Document.Parsed, path: (string | number)[], wantKey = false): Node | null {
  let node: unknown = doc.contents;
  let last: Node | null = (doc.contents as Node) ?? null;
  for (const [i, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(key));
      if (!pair) return last;
      node = wantKey && i === path.length - 1 ? pair.key : pair.value ?? pair.key;
      if (node === null) return isScalar(pair.key) ? (pair.key as Node) : last;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
    } else return last;
    if (node && typeof node === 'object' && 'range' in (node as object)) last = node as Node;
  }
  return last;
}
