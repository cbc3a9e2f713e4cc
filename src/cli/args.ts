// ansible-playbook's command line on top of provision's own: the same short and long flags with
// the same meaning (-i -l -t -C -D -e -f -u -b -K -k -v, --list-hosts, --syntax-check, …), so an
// Ansible user's habits work: `provision -i hosts.ini site.yml -l web -C -D`. The positional form
// `provision INVENTORY [PLAYBOOK]` stays. Where the inventory comes from when no -i is given:
// a positional argument, else ansible.cfg's [defaults] inventory (found as Ansible finds it).
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { InputError } from '../errors.js';
import { readInputTextSync } from '../input-file.js';
import { RUN_OPTIONS, type AnsibleValues } from './options.js';

/** Every option: provision's own (options.ts) and ansible-playbook's / ansible's. */
export const ALL_OPTIONS = {
  ...RUN_OPTIONS,
  verbose: { type: 'boolean', short: 'v', multiple: true },
  inventory: { type: 'string', short: 'i', multiple: true },
  limit: { type: 'string', short: 'l', multiple: true },
  tags: { type: 'string', short: 't', multiple: true },
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  forks: { type: 'string', short: 'f' },
  user: { type: 'string', short: 'u' },
  become: { type: 'boolean', short: 'b' },
  'become-user': { type: 'string' },
  'ask-become-pass': { type: 'boolean', short: 'K' },
  'ask-pass': { type: 'boolean', short: 'k' },
  'private-key': { type: 'string' },
  'key-file': { type: 'string' },
  version: { type: 'boolean' },
  'list-hosts': { type: 'boolean' },
  'list-tasks': { type: 'boolean' },
  'list-tags': { type: 'boolean' },
  'syntax-check': { type: 'boolean' },
  'start-at-task': { type: 'string' },
  'module-name': { type: 'string', short: 'm' },
  args: { type: 'string', short: 'a' },
} as const;

/**
 * The ansible.cfg Ansible would read: $ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, then
 * /etc/ansible/ansible.cfg (ansible/config/manager.py find_ini_config_file), or undefined.
 */
export function findAnsibleCfg(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), home = homedir()): string | undefined {
  const candidates: string[] = [];
  if (env.ANSIBLE_CONFIG) {
    const p = path.resolve(cwd, env.ANSIBLE_CONFIG.replace(/^~(?=\/|$)/, home));
    candidates.push(isDir(p) ? path.join(p, 'ansible.cfg') : p);
  }
  candidates.push(path.join(cwd, 'ansible.cfg'), path.join(home, '.ansible.cfg'), '/etc/ansible/ansible.cfg');
  return candidates.find((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** [defaults] inventory of an ansible.cfg (a comma list of paths, relative to the file), or undefined. */
export function cfgInventory(cfg: string, home = homedir()): string[] | undefined {
  const text = readInputTextSync(cfg, { what: 'ansible.cfg' });
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') continue;
    const s = /^\[([^\]]+)\]$/.exec(line);
    if (s) {
      section = s[1]!.trim();
      continue;
    }
    const m = /^(inventory|hostfile)\s*[=:]\s*(.*)$/.exec(line);
    if (section !== 'defaults' || !m) continue;
    const value = m[2]!.replace(/\s+;.*$/, '').trim(); // configparser's inline comments: ';' only
    return value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => path.resolve(path.dirname(cfg), p.replace(/^~(?=\/|$)/, home)));
  }
  return undefined;
}

/** A file whose YAML is a list (of plays) is a playbook; an inventory is a mapping or INI. */
export function looksLikePlaybook(file: string): boolean {
  try {
    // Bounded: a FIFO or /dev/zero named as the inventory must not hang or flood this peek.
    const text = readInputTextSync(file, { what: 'inventory file' }).slice(0, 64 * 1024);
    const first = text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#') && l.trim() !== '---');
    return first !== undefined && /^-(\s|$)/.test(first);
  } catch {
    return false;
  }
}

/**
 * The inventory sources and the remaining positionals of a command: -i wins; else the first
 * positional (unless `mayBePlaybook` and it is a playbook); else ansible.cfg's inventory.
 */
export function inventorySources(positionals: string[], values: AnsibleValues, opts: { mayBePlaybook?: boolean } = {}): { sources: string[]; rest: string[] } {
  if (values.inventory?.length) return { sources: values.inventory, rest: positionals };
  const [first, ...rest] = positionals;
  const cfg = findAnsibleCfg();
  const fromCfg = () => (cfg ? cfgInventory(cfg) : undefined);
  if (first !== undefined) {
    // `provision site.yml` with an inventory in ansible.cfg: the one argument is the playbook.
    const playbook = opts.mayBePlaybook && rest.length === 0 && looksLikePlaybook(first) && fromCfg()?.length;
    return playbook ? { sources: fromCfg()!, rest: positionals } : { sources: [first], rest };
  }
  const sources = fromCfg();
  if (sources?.length) return { sources, rest: positionals };
  throw new InputError(
    `no inventory given: pass one (provision -i hosts.ini ...), or set [defaults] inventory in ansible.cfg (${cfg ? `${cfg} has none` : 'none found: $ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg'})`,
    { file: '<command line>' },
  );
}
