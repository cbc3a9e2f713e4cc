// The command line: arguments, subcommands, exit codes. Everything else lives in the layers below.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, InputError, HostError } from '../errors.js';
import { type CliValues, type Io } from './options.js';
import { ALL_OPTIONS } from './args.js';
import { MAIN_HELP, COMMAND_HELP } from './help.js';
import { redact } from '../report/redact.js';
import { KEEPER_COMMAND } from '../transport/persist-names.js';
import { PACKAGE_ROOT } from '../package-root.js';

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  isTTY: !!process.stdout.isTTY && !process.env.CI,
};

/** Commands other than a playbook run (`provision <inventory> [playbook]`). */
export const SUBCOMMANDS = ['inventory', 'facts', 'check', 'verify', 'lab', 'adhoc', 'init'];

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  // The connection keeper (src/transport/persist.ts), started by the CLI itself in the background.
  if (argv[0] === KEEPER_COMMAND && argv.length === 2) return (await import('../transport/persist-daemon.js')).runKeeper(argv[1]);
  let values: CliValues;
  let positionals: string[];
  try {
    // `check` and `facts` take --json as a flag (print JSON), the other commands as --json FILE.
    const first = argv.find((a) => !a.startsWith('-'));
    const args = first === 'check' || first === 'facts' ? argv.map((a) => (a === '--json' ? '--json=-' : a)) : argv;
    const parsed = parseArgs({ args, options: ALL_OPTIONS, allowPositionals: true, strict: true });
    const { verbose, ...rest } = parsed.values;
    // -v, -vv, -vvv as in Ansible: the count is the verbosity.
    values = { ...(rest as CliValues), verbose: (verbose?.length ?? 0) > 0, verbosity: verbose?.length ?? 0 };
    positionals = parsed.positionals;
  } catch (e) {
    io.err(`provision: ${(e as Error).message}\nTry 'provision --help'.`);
    return EXIT.BAD_INPUT;
  }
  const sub = SUBCOMMANDS.includes(positionals[0]) ? positionals.shift()! : 'run';
  if (values.version) {
    io.out(await versionText());
    return EXIT.OK;
  }
  if (values.help) {
    io.out(sub === 'run' ? MAIN_HELP : COMMAND_HELP[sub]);
    return EXIT.OK;
  }
  try {
    switch (sub) {
      case 'run':
        if (positionals.length === 0 && !values.inventory) {
          const { findAnsibleCfg, cfgInventory } = await import('./args.js');
          const cfg = findAnsibleCfg();
          if (!cfg || !cfgInventory(cfg)?.length) {
            io.err(`provision: no inventory given (-i INVENTORY, a positional one, or ansible.cfg's [defaults] inventory)\n\n${MAIN_HELP}`);
            return EXIT.BAD_INPUT;
          }
        }
        return await (await import('./run-command.js')).runCommand(positionals, values, io);
      case 'inventory':
        return await (await import('./inventory-command.js')).inventoryCommand(positionals, values, io);
      case 'facts':
        return await (await import('./facts-command.js')).factsCommand(positionals, values, io);
      case 'check':
        return await (await import('./check-command.js')).checkCommand(positionals, values, io);
      case 'verify':
        return await (await import('./verify-command.js')).verifyCommand(positionals, values, io);
      case 'adhoc':
        return await (await import('./adhoc-command.js')).adhocCommand(positionals, values, io);
      case 'init':
        return await (await import('./init-command.js')).initCommand(positionals, values, io);
      case 'lab':
        return await (await import('./lab-command.js')).labCommand(positionals, values, io);
    }
    return EXIT.BAD_INPUT;
  } catch (e) {
    if (e instanceof InputError) {
      io.err(`provision: ${redact(e.format())}`);
      return EXIT.BAD_INPUT;
    }
    if (e instanceof HostError) {
      io.err(`provision: ${e.host}: ${redact(e.message)}`);
      return EXIT.HOST_FAILED;
    }
    io.err(`provision: ${redact(e instanceof Error ? e.message : String(e))}`);
    if (process.env.PROVISION_DEBUG && e instanceof Error) io.err(redact(e.stack ?? ''));
    return EXIT.HOST_FAILED;
  }
}

/** --version: provision's version, and the Ansible it follows. */
async function versionText(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(path.join(PACKAGE_ROOT, 'package.json'), 'utf8').catch(() => '{}')) as { version?: string };
  return `provision ${pkg.version ?? '?'}\n  reads Ansible inventories and playbooks as ansible-core 2.14 does (INI, YAML, directories, ansible.cfg)\n  node ${process.version}`;
}
