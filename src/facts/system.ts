// Facts of the system's services and settings, each with its argument: `service(name)`,
// `sysctl(name)`, `sebool(name)`, `selinuxLocalFcontexts()`, `nftTable(name)`, `crontab(user)`.
import { sh } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';
import { defineFact } from './fact.js';
import { isValidUnitName } from './gather.js';
import type { ServiceState } from './types.js';

/** A unit's ActiveState and UnitFileState ("unknown" when systemctl did not say). */
export const service = defineFact({
  name: 'service',
  arity: 1,
  command(name: string) {
    if (!isValidUnitName(name)) throw new Error(`not a systemd unit name: ${JSON.stringify(name)}`);
    return sh`systemctl show -p ActiveState -p UnitFileState -- ${name}`;
  },
  parse(r: ExecResult): ServiceState {
    const get = (k: string) => r.stdout.match(new RegExp(`^${k}=(.*)$`, 'm'))?.[1] || 'unknown';
    return { active: get('ActiveState'), enabled: get('UnitFileState') };
  },
});

/** A kernel parameter's runtime value, whitespace normalised (sysctl prints tabs in some). */
export const sysctl = defineFact({
  name: 'sysctl',
  arity: 1,
  command(name: string) {
    if (!/^[a-z0-9_.\-/]+$/i.test(name)) throw new Error(`invalid sysctl name ${JSON.stringify(name)}`);
    return sh`sysctl -n -- ${name}`;
  },
  parse(r: ExecResult, name: string): string {
    if (r.code !== 0) throw new Error(`sysctl ${name}: ${r.stderr.trim()}`);
    return r.stdout.trim().split(/\s+/).join(' ');
  },
});

/** An SELinux boolean: true/false, undefined when getsebool did not answer (with why). */
export const sebool = defineFact({
  name: 'sebool',
  arity: 1,
  command: (name: string) => sh`getsebool ${name}`,
  parse(r: ExecResult): { value?: boolean; message: string } {
    const m = /-->\s*(on|off)\b/.exec(r.stdout);
    return { value: m ? m[1] === 'on' : undefined, message: (r.stderr || r.stdout).trim() };
  },
});

/** The local file-context rules (`semanage fcontext -l -C`), one line each. */
export const selinuxLocalFcontexts = defineFact({
  name: 'selinuxLocalFcontexts',
  arity: 0,
  command: () => sh`semanage fcontext -l -C`,
  parse(r: ExecResult): string[] {
    if (r.code !== 0) throw new Error(`semanage fcontext -l: ${r.stderr.trim()}`);
    return r.stdout.split('\n');
  },
});

/** An nftables table of family inet: its listing, or undefined when it does not exist. */
export const nftTable = defineFact({
  name: 'nftTable',
  arity: 1,
  command: (name: string) => sh`nft list table inet ${name}`,
  parse: (r: ExecResult) => (r.code === 0 ? r.stdout : undefined),
});

/** A user's crontab ('' when the user has none); any other failure throws. */
export const crontab = defineFact({
  name: 'crontab',
  arity: 1,
  command: (user: string) => sh`crontab -l -u ${user}`,
  parse(r: ExecResult, user: string): string {
    if (r.code === 0) return r.stdout;
    if (/no crontab for/.test(r.stderr)) return '';
    throw new Error(`crontab -l -u ${user} failed (exit ${r.code}): ${r.stderr.trim()}`);
  },
});
