// Run the lab without the main CLI: node --import tsx src/lab/cli.ts up|down|status|ssh HOST [CMD...]
import { PACKAGE_ROOT } from '../package-root.js';
import { labDown, labSsh, labStatus, labUp } from './index.js';

const USAGE = 'usage: node --import tsx src/lab/cli.ts up|down|status|ssh HOST [COMMAND...]';

async function main(argv: string[]): Promise<number> {
  const log = (line: string) => console.log(line);
  const opts = { log, repoRoot: PACKAGE_ROOT };
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up':
      await labUp(opts);
      return 0;
    case 'down':
      await labDown(opts);
      return 0;
    case 'status':
      return (await labStatus(opts)).up ? 0 : 1;
    case 'ssh': {
      const [host, ...command] = rest;
      if (!host) {
        console.error(USAGE);
        return 3;
      }
      return labSsh(host, { ...opts, command });
    }
    default:
      console.error(USAGE);
      return 3;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`error: ${e.message}`);
    process.exitCode = 2;
  },
);
