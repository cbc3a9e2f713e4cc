// The HA model as roles see it: derived once per run from the whole inventory.
import path from 'node:path';
import type { RoleContext } from '../runner/role.js';
import type { HaModel } from './types.js';
import { deriveTopology } from './model.js';

export function haModel(r: RoleContext): HaModel {
  return r.once('ha-model', () => deriveTopology([...r.inventory.hosts.values()], { baseDir: path.dirname(r.inventory.file) }));
}
