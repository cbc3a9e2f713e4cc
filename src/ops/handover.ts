// Restarting keepalived on a node that holds VIPs without losing a request: first hand the
// VIPs to the peer, then restart, then let the node take them back.
//   1. the node's config with every instance at priority 1 (state BACKUP) replaces the live
//      one (validated like any config) and keepalived reloads: the node keeps serving as
//      master until the peer, hearing lower-priority adverts, preempts and announces itself;
//      only then does this node see a higher priority and release the VIPs. No gap.
//   2. the VIPs are gone from this node (polled): the real config goes back and keepalived
//      restarts, holding nothing.
//   3. it preempts its VIPs back (the same no-gap path, reversed), polled until held.
// A peer that never takes over stops the handover before the restart, with the real config
// put back and reloaded: the node is left serving.
import { sh } from '../transport/quote.js';
import { planFile } from './files.js';
import { run } from './remote.js';
import { OpError, type OpContext, type Plan } from './types.js';
import type { Shell } from '../transport/quote.js';

export interface HandoverSpec {
  /** VIP addresses this node is master of. */
  vips: string[];
  /** The config to run with (already in place, or written here before the restart). */
  confPath: string;
  finalConf: string;
  /** The same config with this node's priorities at the bottom. */
  drainedConf: string;
  validate: (candidate: string) => Shell;
  service?: string;
  /** How long the peer may take to hold the VIPs, and this node to take them back (ms). */
  timeoutMs?: number;
  pollMs?: number;
}

async function heldVips(ctx: OpContext, vips: string[]): Promise<string[]> {
  const r = await run(ctx, sh`ip -o -4 addr show`, 'ip addr');
  const have = new Set([...r.stdout.matchAll(/\sinet\s+([0-9.]+)\//g)].map((m) => m[1]));
  return vips.filter((v) => have.has(v));
}

async function until(ctx: OpContext, vips: string[], want: 'none' | 'all', timeoutMs: number, pollMs: number): Promise<{ ok: boolean; ms: number; held: string[] }> {
  const t0 = Date.now();
  for (;;) {
    const held = await heldVips(ctx, vips);
    const ok = want === 'none' ? held.length === 0 : held.length === vips.length;
    if (ok || Date.now() - t0 >= timeoutMs) return { ok, ms: Date.now() - t0, held };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export async function planHandoverRestart(ctx: OpContext, spec: HandoverSpec): Promise<Plan> {
  const svc = spec.service ?? 'keepalived';
  const timeoutMs = spec.timeoutMs ?? 30_000;
  const pollMs = spec.pollMs ?? 200;
  const held = ctx.check ? [] : await heldVips(ctx, spec.vips);
  const file = { path: spec.confPath, mode: '0640', owner: 'root', group: 'root', validate: spec.validate };
  return {
    changed: true,
    message: held.length ? `restart; ${held.join(', ')} handed to the peer first` : 'restart (holds no VIP)',
    apply: async () => {
      const steps: string[] = [];
      if (held.length) {
        const drain = await planFile(ctx, { ...file, content: spec.drainedConf });
        if (drain.apply) await drain.apply();
        await run(ctx, sh`systemctl reload ${svc}`, `reload ${svc} (drained)`);
        const gone = await until(ctx, held, 'none', timeoutMs, pollMs);
        if (!gone.ok) {
          const back = await planFile(ctx, { ...file, content: spec.finalConf });
          if (back.apply) await back.apply();
          await run(ctx, sh`systemctl reload ${svc}`, `reload ${svc}`);
          throw new OpError(`the peer did not take over ${gone.held.join(', ')} within ${timeoutMs} ms; ${svc} was not restarted and keeps them`);
        }
        steps.push(`peer took ${held.join(', ')} in ${gone.ms} ms`);
      }
      const final = await planFile(ctx, { ...file, content: spec.finalConf });
      if (final.apply) await final.apply();
      await run(ctx, sh`systemctl restart ${svc}`, `restart ${svc}`);
      if (spec.vips.length) {
        const back = await until(ctx, spec.vips, 'all', timeoutMs, pollMs);
        if (!back.ok) throw new OpError(`${svc} restarted but holds only ${back.held.join(', ') || 'none'} of its VIPs ${spec.vips.join(', ')} after ${timeoutMs} ms`);
        steps.push(`took ${spec.vips.join(', ')} back in ${back.ms} ms`);
      }
      return steps.join('; ');
    },
  };
}

/** The config text with every instance of this node at priority 1 and state BACKUP. */
export function drainKeepalivedConf(conf: string): string {
  return conf.replace(/^(\s*)priority\s+\d+\s*$/gm, '$1priority 1').replace(/^(\s*)state\s+MASTER\s*$/gm, '$1state BACKUP');
}
