// The Ansible modules YAML tasks (and `provision adhoc -m`) can call, by every name Ansible
// accepts for them: short, ansible.builtin.*, ansible.legacy.*, and the collections' names.
import { didYouMean } from '../../did-you-mean.js';
import { copy, template, file, lineinfile, blockinfile } from './files.js';
import { command, shell, pkg, service, sysctl } from './system.js';
import { debug, setFact, assertModule, fail } from './pure.js';
import { user, group, cron, getUrl, unarchive, waitFor, reboot } from './mapped.js';
import type { ModuleDef } from './types.js';

export const MODULES: readonly ModuleDef[] = [
  command, shell, copy, template, file, lineinfile, blockinfile, pkg, service, sysctl,
  user, group, cron, getUrl, unarchive, waitFor, reboot,
  debug, setFact, assertModule, fail,
];

const PREFIXES = ['ansible.builtin.', 'ansible.legacy.', 'ansible.posix.', 'community.general.'];

const BY_NAME = new Map<string, ModuleDef>();
for (const m of MODULES) for (const n of [m.name, ...(m.aliases ?? [])]) BY_NAME.set(n, m);

/** Every name a module answers to without a prefix. */
export function moduleNames(): string[] {
  return [...BY_NAME.keys()];
}

/** The module a task key names, or undefined. */
export function findModule(key: string): ModuleDef | undefined {
  const prefix = PREFIXES.find((p) => key.startsWith(p));
  return BY_NAME.get(prefix ? key.slice(prefix.length) : key);
}

/** "did you mean" for an unknown module name. */
export function closestModule(key: string): string | undefined {
  const bare = key.replace(/^[a-z_]+\.[a-z_]+\./, '');
  return didYouMean(bare, moduleNames());
}
