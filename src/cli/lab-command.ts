import { EXIT, InputError } from '../errors.js';
import type { CliValues, Io } from './options.js';

import { PACKAGE_ROOT as repoRoot } from '../package-root.js';

export async function labCommand(positionals: string[], values: CliValues, io: Io): Promise<number> {
  const [action, host] = positionals;
  const lab = await import('../lab/index.js');
  const opts = { log: (line: string) => io.out(line), repoRoot };
  if (values.vagrant || action === 'status') {
    const vm = await import('../lab/vagrant.js');
    if (action === 'up') return (await vm.vagrantUp({ ...opts, hosts: positionals.length > 1 ? positionals.slice(1) : undefined }), EXIT.OK);
    if (action === 'down') return (await vm.vagrantDown(opts), EXIT.OK);
    if (action === 'status') {
      if (!values.vagrant) await lab.labStatus(opts);
      if (values.vagrant || vm.vagrantRunning(opts)) await vm.vagrantStatus(opts);
      return EXIT.OK;
    }
    throw new InputError(`usage: provision lab up|down|status --vagrant (got ${JSON.stringify(action ?? '')})`, { file: '<command line>' });
  }
  switch (action) {
    case 'up':
      await lab.labUp(opts);
      return EXIT.OK;
    case 'down':
      await lab.labDown(opts);
      return EXIT.OK;
    case 'ssh':
      if (!host) throw new InputError('usage: provision lab ssh HOST', { file: '<command line>' });
      return (await lab.labSsh(host, opts)) ?? EXIT.OK;
    default:
      throw new InputError(`usage: provision lab up|status|down|ssh HOST (got ${JSON.stringify(action ?? '')})`, { file: '<command line>' });
  }
}
