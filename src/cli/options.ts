// The command line's options and the helpers every command shares: the parsed values, the
// output streams, lists, extra vars, host key policy, the default playbook. The commands import
// these from here, and main.ts (which dispatches to the commands) too, so nothing imports main.ts.
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

export const RUN_OPTIONS = {
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
  vagrant: { type: 'boolean' },
} as const;

export type CliValues = AnsibleValues & {
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
  /** lab: the Vagrant VMs (libvirt) instead of the containers. */
  vagrant?: boolean;
};

/** What ansible-playbook's flags (src/cli/args.ts) add to the values. */
export interface AnsibleValues {
  inventory?: string[];
  user?: string;
  become?: boolean;
  'become-user'?: string;
  'ask-become-pass'?: boolean;
  'ask-pass'?: boolean;
  'private-key'?: string;
  'key-file'?: string;
  version?: boolean;
  'list-hosts'?: boolean;
  'list-tasks'?: boolean;
  'list-tags'?: boolean;
  'syntax-check'?: boolean;
  'start-at-task'?: string;
  'module-name'?: string;
  args?: string;
  /** How many -v were given. */
  verbosity?: number;
}

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

export function parseForks(v: string | undefined): number {
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

export function resolvePlaybook(arg: string | undefined): string {
  return path.resolve(arg ?? 'playbooks/site.yaml');
}

