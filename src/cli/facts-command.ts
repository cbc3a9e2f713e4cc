import { EXIT, InputError } from '../errors.js';
import { factsSummary } from '../facts/index.js';
import { openSession } from './session.js';
import { inventorySources } from './args.js';
import type { CliValues, Io } from './options.js';

export async function factsCommand(positionals: string[], values: CliValues, io: Io): Promise<number> {
  const { sources, rest } = inventorySources(positionals, values);
  if (rest.length) throw new InputError('usage: provision facts [-i] <inventory> [--limit PATTERN] [--json]', { file: '<command line>' });
  const session = await openSession(sources, values, io, ['nginx', 'keepalived', 'sshd', 'ssh']);
  const out: Record<string, unknown> = {};
  let failed = 0;
  try {
    await Promise.all(
      session.hosts.map(async (h) => {
        try {
          const t = await session.connect(h);
          out[h.name] = factsSummary(await session.facts(t, h));
        } catch (e) {
          failed++;
          out[h.name] = { unreachable: true, message: (e as Error).message };
        }
      }),
    );
  } finally {
    await session.close();
  }
  const ordered = Object.fromEntries(session.hosts.map((h) => [h.name, out[h.name]]));
  if (values.json) io.out(JSON.stringify(ordered, null, 2));
  else {
    for (const [name, f] of Object.entries(ordered)) {
      const v = f as Record<string, any>;
      if (v.unreachable) {
        io.out(`${name}: UNREACHABLE ${v.message}`);
        continue;
      }
      io.out(`${name}: ${v.os?.prettyName ?? '?'} (${v.virtualization}), pm=${v.packageManager}, selinux=${v.selinux}, firewall=${v.firewall}, keepalived=${v.keepalivedVersion ?? 'none'}`);
      for (const i of v.interfaces ?? []) io.out(`  ${i.name}${i.up ? '' : ' (down)'}: ${[...i.ipv4, ...i.ipv6].join(' ')}`);
    }
  }
  return failed ? EXIT.HOST_FAILED : EXIT.OK;
}
