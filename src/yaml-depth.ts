// YAML parsed once, with a nesting limit checked before the document is composed: the yaml
// package composes nested collections recursively, so a 5,000-deep `[[[[...` or `{a: {a: ...`
// would otherwise end in a stack overflow somewhere inside it. The parser's token tree (CST) is
// built without recursion; it is walked here with an explicit stack, the first collection deeper
// than the limit is reported with its file:line:col, and the same tokens are then composed
// (what the package's parseDocument does, without lexing the text a second time).
import { Composer, LineCounter, Parser, YAMLParseError, type CST, type Document, type DocumentOptions, type ParseOptions, type SchemaOptions } from 'yaml';
import { InputError, excerptAt } from './errors.js';

/** Deeper than any real inventory, playbook or vars file (Ansible's own data rarely passes 20). */
export const MAX_YAML_DEPTH = 100;

/** Throw an InputError (exit 3) at the first collection of `tokens` nested deeper than `max`. */
function checkDepth(tokens: CST.Token[], lc: LineCounter, text: string, file: string, max: number): void {
  const stack: Array<[CST.Token | undefined, number]> = tokens.map((t) => [t, 0]);
  while (stack.length) {
    const [tok, depth] = stack.pop()!;
    if (!tok) continue;
    if (tok.type === 'document') stack.push([tok.value, depth]);
    else if (tok.type === 'block-map' || tok.type === 'block-seq' || tok.type === 'flow-collection') {
      const d = depth + 1;
      if (d > max) {
        const { line, col } = lc.linePos(tok.offset);
        throw new InputError(`YAML nested deeper than ${max} levels`, { file, line, col }, excerptAt(text, line, col));
      }
      for (const it of tok.items as Array<{ key?: CST.Token | null; value?: CST.Token }>) stack.push([it.key ?? undefined, d], [it.value, d]);
    }
  }
}

/** Throw an InputError (exit 3) at the first collection nested deeper than `max`. */
export function checkYamlDepth(text: string, file: string, max = MAX_YAML_DEPTH): void {
  const lc = new LineCounter();
  checkDepth([...new Parser(lc.addNewLine).parse(text)], lc, text, file, max);
}

type Options = ParseOptions & DocumentOptions & SchemaOptions;

/** parseDocument(text, options) with the depth limit: one document (a second one is an error, as there). */
export function parseYamlDocument(text: string, file: string, lineCounter: LineCounter, options: Options = {}): Document.Parsed {
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  checkDepth(tokens, lineCounter, text, file, MAX_YAML_DEPTH);
  let doc: Document.Parsed | undefined;
  for (const d of new Composer(options).compose(tokens, true, text.length)) {
    if (!doc) doc = d;
    else {
      doc.errors.push(new YAMLParseError(d.range.slice(0, 2) as [number, number], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  return doc!;
}
