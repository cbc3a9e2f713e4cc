// Reading an inventory or vars file through the one bounded input reader (src/input-file.ts):
// a regular file under the size limit (a FIFO or device is refused, not read), BOM dropped.
import { readInputText } from '../input-file.js';

/** Largest inventory or vars file read (a 20 000-host YAML inventory is about 2 MB). */
export const MAX_INVENTORY_BYTES = 8 * 1024 * 1024;

export function readInventoryText(file: string, what: string): Promise<string> {
  return readInputText(file, { what, maxBytes: MAX_INVENTORY_BYTES });
}
