// The command line: arguments, subcommands, exit codes. Everything else lives in the layers below.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { EXIT, InputError, HostError } from '../errors.js';
import { MAIN_HELP, COMMAND_HELP } from './help.js';
import { redact } from '../report/redact.js';
import { KEEPER_COMMAND } from '../transport/persist-names.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  isTTY: !!process.stdout.isTTY && !process.env.CI,
};

const RUN_OPTIONS = {
  check: { type: 'boolean' },
  diff: { type: 'boolean' },
  limit: { type: 'string', multiple: true },
  tags: { type: 'string', multiple: true },
  'skip-tags': { type: 'string', multiple: true },
  forks: { type: 'string' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  json: { type: 'string' },
  'host-key-checking': { type: 'string' },
  persist: { type: 'string' },
  'no-read-ahead': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  list: { type: 'boolean' },
  failover: { type: 'boolean' },
  show: { type: 'boolean' },
  html: { type: 'string' },
} as const;

export type CliValues = {
  check?: boolean;
  diff?: boolean;
  limit?: string[];
  tags?: string[];
  'skip-tags'?: string[];
  forks?: string;
  'extra-vars'?: string[];
  json?: string;
  'host-key-checking'?: string;
  persist?: string;
  'no-read-ahead'?: boolean;
  verbose?: boolean;
  help?: boolean;
  list?: boolean;
  failover?: boolean;
  /** check: print the HA plan (show.ts); a --check run prints it after the recap. */
  show?: boolean;
  /** verify: write the HTML report to this file. */
  html?: string;
};

/** Commands other than a playbook run (`provision <inventory> [playbook]`). */
export const SUBCOMMANDS = ['inventory', 'facts', 'check', 'verify', 'lab'];

export function splitList(values: string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** -e k=v, -e @file.yaml, -e '{"json": true}' (as in Ansible). */
export async function parseExtraVars(items: string[] | undefined): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const item of items ?? []) {
    if (item.startsWith('@')) {
      const file = item.slice(1);
      const { readYamlFile } = await import('../yamlfile.js');
      const y = await readYamlFile(file, { what: 'extra-vars file' });
      if (typeof y.value !== 'object' || y.value === null || Array.isArray(y.value)) throw new InputError('extra-vars file must be a mapping', { file });
      Object.assign(out, y.value);
    } else if (item.trim().startsWith('{')) {
      let v: unknown;
      try {
        v = parseYaml(item);
      } catch (e) {
        throw new InputError(`--extra-vars: not valid JSON/YAML: ${(e as Error).message.split('\n')[0]}`, { file: '<command line>' });
      }
      Object.assign(out, v);
    } else {
      const m = item.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s);
      if (!m) throw new InputError(`--extra-vars ${JSON.stringify(item)}: expected key=value, @file.yaml or a JSON object`, { file: '<command line>' });
      out[m[1]] = m[2];
    }
  }
  return out;
}

function parseForks(v: string | undefined): number {
  if (v === undefined) return 10;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new InputError(`--forks ${v}: expected a whole number from 1 to 500`, { file: '<command line>' });
  return n;
}

export function hostKeyPolicy(v: string | undefined): 'strict' | 'accept-new' | 'off' {
  if (v === undefined) return 'strict';
  if (v === 'strict' || v === 'accept-new' || v === 'off') return v;
  throw new InputError(`--host-key-checking ${v}: expected strict, accept-new or off`, { file: '<command line>' });
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  // The connection keeper (src/transport/persist.ts), started by the CLI itself in the background.
  if (argv[0] === KEEPER_COMMAND && argv.length === 2) return (await import('../transport/persist-daemon.js')).runKeeper(argv[1]);
  let values: CliValues;
  let positionals: string[];
  try {
    // `check` and `facts` take --json as a flag (print JSON), the other commands as --json FILE.
    const first = argv.find((a) => !a.startsWith('-'));
    const args = first === 'check' || first === 'facts' ? argv.map((a) => (a === '--json' ? '--json=-' : a)) : argv;
    const parsed = parseArgs({ args, options: RUN_OPTIONS, allowPositionals: true, strict: true });
    values = parsed.values as CliValues;
    positionals = parsed.positionals;
  } catch (e) {
    io.err(`provision: ${(e as Error).message}\nTry 'provision --help'.`);
    return EXIT.BAD_INPUT;
  }
  const sub = SUBCOMMANDS.includes(positionals[0]) ? positionals.shift()! : 'run';
  if (values.help) {
    io.out(sub === 'run' ? MAIN_HELP : COMMAND_HELP[sub]);
    return EXIT.OK;
  }
  try {
    switch (sub) {
      case 'run':
        if (positionals.length === 0) {
          io.err(`provision: no inventory given\n\n${MAIN_HELP}`);
          return EXIT.BAD_INPUT;
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

export function resolvePlaybook(arg: string | undefined): string {
  return path.resolve(arg ?? 'playbooks/site.yaml');
}

