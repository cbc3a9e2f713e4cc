// A nesting limit for YAML input, checked before the document is composed: the yaml package
// composes nested collections recursively, so a 5,000-deep `[[[[...` or `{a: {a: ...` would
// otherwise end in a stack overflow somewhere inside it. The parser's token tree (CST) is built
// without recursion; it is walked here with an explicit stack, and the first collection deeper
// than the limit is reported with its file:line:col.
import { Parser, LineCounter, type CST } from 'yaml';
import { InputError, excerptAt } from './errors.js';

/** Deeper than any real inventory, playbook or vars file (Ansible's own data rarely passes 20). */
export const MAX_YAML_DEPTH = 100;

/** Throw an InputError (exit 3) at the first collection nested deeper than `max`. */
export function checkYamlDepth(text: string, file: string, max = MAX_YAML_DEPTH): void {
  const stack: Array<[CST.Token | undefined, number]> = [];
  const lc = new LineCounter();
  for (const tok of new Parser(lc.addNewLine).parse(text)) stack.push([tok, 0]);
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
