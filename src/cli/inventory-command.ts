import path from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { loadInventory, inventoryList } from '../inventory/index.js';
import type { CliValues, Io } from './options.js';
import { inventorySources } from './args.js';

export async function inventoryCommand(positionals: string[], values: CliValues, io: Io): Promise<number> {
  const { sources, rest } = inventorySources(positionals, values);
  if (rest.length || !values.list) {
    throw new InputError('usage: provision inventory [-i] <inventory> --list (as ansible-inventory -i <inventory> --list)', { file: '<command line>' });
  }
  const inv = await loadInventory(sources);
  for (const w of inv.warnings ?? []) io.err(`WARNING: ${w}`);
  io.out(JSON.stringify(inventoryList(inv), null, 4));
  return EXIT.OK;
}
