// SELinux booleans and file contexts, planned from getsebool / semanage output.
import { sh } from '../transport/quote.js';
import type { OpContext, Plan } from './types.js';
import { OpError } from './types.js';
import { run } from './remote.js';

/** "httpd_can_network_connect --> off" → false */
export function parseGetsebool(out: string): boolean | undefined {
  const m = out.match(/-->\s*(on|off)/);
  return m ? m[1] === 'on' : undefined;
}

export async function planSebool(ctx: OpContext, name: string, value: boolean): Promise<Plan> {
  const r = await ctx.read(sh`getsebool ${name}`);
  const cur = parseGetsebool(r.stdout);
  if (cur === undefined) throw new OpError(`getsebool ${name}: ${(r.stderr || r.stdout).trim()}`);
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
  const r = await ctx.read(sh`semanage fcontext -l -C`);
  if (r.code !== 0) throw new OpError(`semanage fcontext -l: ${r.stderr.trim()}`);
  const present = r.stdout.split('\n').some((l) => l.startsWith(pattern + ' ') && l.includes(`:${type}:`));
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
