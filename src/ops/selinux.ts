// SELinux booleans and file contexts, planned from getsebool / semanage output.
import { sh } from '../transport/quote.js';
import type { OpContext, Plan } from './types.js';
import { OpError } from './types.js';
import { run, fact } from './remote.js';
import { sebool, selinuxLocalFcontexts } from '../facts/system.js';

/** "httpd_can_network_connect --> off" → false */
export function parseGetsebool(out: string): boolean | undefined {
  const m = out.match(/-->\s*(on|off)/);
  return m ? m[1] === 'on' : undefined;
}

export async function planSebool(ctx: OpContext, name: string, value: boolean): Promise<Plan> {
  const { value: cur, message } = await fact(ctx, sebool, name);
  if (cur === undefined) throw new OpError(`getsebool ${name}: ${message}`);
  if (cur === value) return { changed: false };
  return {
    changed: true,
    message: `${name} ${cur ? 'on' : 'off'} -> ${value ? 'on' : 'off'} (persistent)`,
    apply: async () => {
      await run(ctx, sh`setsebool -P ${name} ${value ? 'on' : 'off'}`, `setsebool ${name}`);
    },
  };
}

/** A file-context rule (semanage fcontext) plus restorecon on the matching path. */
export async function planFileContext(ctx: OpContext, pattern: string, type: string): Promise<Plan> {
  const rules = await fact(ctx, selinuxLocalFcontexts);
  const present = rules.some((l) => l.startsWith(pattern + ' ') && l.includes(`:${type}:`));
  if (present) return { changed: false };
  const base = pattern.replace(/\(.*$/, '');
  return {
    changed: true,
    message: `${pattern} labelled ${type}`,
    apply: async () => {
      await run(ctx, sh`semanage fcontext -a -t ${type} ${pattern}`, 'semanage fcontext');
      await run(ctx, sh`mkdir -p -- ${base} && restorecon -R -- ${base}`, 'restorecon');
    },
  };
}
