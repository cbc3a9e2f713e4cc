// Facts of the host's accounts and init system, each a read-only command and a pure parser:
// `account(name)` (passwd entry and groups), `shadowHash(name)`, `groupId(name)`, `initSystem()`.
import { sh } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';
import { defineFact } from './fact.js';

/** A user's passwd entry and groups. */
export interface Account {
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
  /** Primary group name. */
  group: string;
  /** Every group name, the primary one included. */
  groups: string[];
}

/** The passwd entry, the primary group's name and every group of a user; undefined: no such user. */
export const account = defineFact({
  name: 'account',
  arity: 1,
  command: (name: string) => sh`getent passwd -- ${name} && id -gn -- ${name} && id -Gn -- ${name}`,
  parse(r: ExecResult): Account | undefined {
    if (r.code !== 0) return undefined;
    const [pw, group = '', groups = ''] = r.stdout.split('\n');
    const f = pw.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]), comment: f[4] ?? '', home: f[5] ?? '', shell: f[6] ?? '', group: group.trim(), groups: groups.trim().split(/\s+/).filter(Boolean) };
  },
});

/** A user's password hash from the shadow database (undefined: no entry, or not readable). */
export const shadowHash = defineFact({
  name: 'shadowHash',
  arity: 1,
  command: (name: string) => sh`getent shadow -- ${name}`,
  parse: (r: ExecResult) => (r.code === 0 ? r.stdout.split(':')[1] : undefined),
});

/** A group's gid, undefined when there is no such group (getent's exit 2); any other failure throws. */
export const groupId = defineFact({
  name: 'groupId',
  arity: 1,
  command: (name: string) => sh`getent group -- ${name}`,
  parse(r: ExecResult, name: string): number | undefined {
    if (r.code === 0) return Number(r.stdout.split(':')[2]);
    if (r.code === 2) return undefined;
    throw new Error(`getent group ${name} failed (exit ${r.code}): ${r.stderr.trim()}`);
  },
});

export type InitSystem = 'systemd' | 'openrc' | 'sysvinit';

/** Which init system manages services: systemd when it is PID 1, else OpenRC when rc-service exists, else SysV. */
export const initSystem = defineFact({
  name: 'initSystem',
  arity: 0,
  command: () => sh`if [ -d /run/systemd/system ]; then echo systemd; elif command -v rc-service >/dev/null 2>&1; then echo openrc; else echo sysvinit; fi`,
  parse(r: ExecResult): InitSystem {
    const v = r.stdout.trim();
    return v === 'systemd' || v === 'openrc' ? v : 'sysvinit';
  },
});
