import { EXIT, InputError } from '../errors.js';
import type { CliValues, Io } from './options.js';

import { PACKAGE_ROOT as repoRoot } from '../package-root.js';

export async function labCommand(positionals: string[], _values: CliValues, io: Io): Promise<number> {
  const [action, host] = positionals;
  const lab = await import('../lab/index.js');
  const opts = { log: (line: string) => io.out(line), repoRoot };
  switch (action) {
    case 'up':
      await lab.labUp(opts);
      return EXIT.OK;
    case 'down':
      await lab.labDown(opts);
      return EXIT.OK;
    case 'status':
      await lab.labStatus(opts);
      return EXIT.OK;
    case 'ssh':
      if (!host) throw new InputError('usage: provision lab ssh HOST', { file: '<command line>' });
      return (await lab.labSsh(host, opts)) ?? EXIT.OK;
    default:
      throw new InputError(`usage: provision lab up|status|down|ssh HOST (got ${JSON.stringify(action ?? '')})`, { file: '<command line>' });
  }
}
