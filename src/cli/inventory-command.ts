import path from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { loadInventory, inventoryList } from '../inventory/index.js';
import type { CliValues, Io } from './options.js';

export async function inventoryCommand(positionals: string[], values: CliValues, io: Io): Promise<number> {
  if (positionals.length !== 1 || !values.list) {
    throw new InputError('usage: provision inventory <inventory> --list', { file: '<command line>' });
  }
  const inv = await loadInventory(path.resolve(positionals[0]));
  io.out(JSON.stringify(inventoryList(inv), null, 4));
  return EXIT.OK;
}
