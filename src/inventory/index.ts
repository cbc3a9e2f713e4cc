// The inventory layer: Ansible-compatible YAML inventories to typed hosts with merged variables.
export type { Host, Group, Inventory } from './types.js';
export { loadInventory } from './load.js';
export { inventoryList, type InventoryList, type InventoryListGroup } from './list.js';
export { matchHosts, splitHostPattern, type MatchOptions } from './match.js';
export { expandHostPattern, expandHostRange } from './hostpattern.js';
export { varPosition, varError, badName, MAX_INVENTORY_BYTES, MAX_HOSTS } from './load.js';
export { validateConnectionVars, connectionVarsError, placeHostError, type ConnectionVarsOptions } from './validate.js';
