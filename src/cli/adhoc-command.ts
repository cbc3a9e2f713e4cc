// provision adhoc PATTERN -a ARGS [-m MODULE] [-i INV] [-b] [-f N] [--json FILE]: Ansible's
// `ansible PATTERN -m MODULE -a ARGS`. Runs one module (default command; shell, or any module
// of the YAML tasks' catalogue, src/tasks) on every matched host in parallel, prints a block per
// host (status, rc, stdout, stderr) in inventory order, and exits 2 if any host failed.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { matchHosts } from '../inventory/index.js';
import type { Host } from '../inventory/types.js';
import type { OpContext } from '../ops/types.js';
import { redact, redactDeep } from '../report/redact.js';
import { adhocFacts, adhocModule, ArgError, type AdhocModule } from '../tasks/adhoc.js';
import { runModule } from '../tasks/run-task.js';
import { Semaphore } from '../transport/semaphore.js';
import type { SectionName } from '../facts/index.js';
import { inventorySources } from './args.js';
import { parseForks, type CliValues, type Io } from './options.js';
import { openSession, type Session } from './session.js';

export interface AdhocResult {
  status: 'CHANGED' | 'SUCCESS' | 'FAILED' | 'UNREACHABLE' | 'SKIPPED';
  rc?: number;
  stdout?: string;
  stderr?: string;
  msg?: string;
}

function block(host: string, r: AdhocResult): string {
  const head = `${host} | ${r.status}${r.rc !== undefined ? ` | rc=${r.rc}` : ''} >>`;
  const parts = [head];
  if (r.stdout) parts.push(r.stdout.replace(/\n$/, ''));
  if (r.stderr) parts.push(`stderr:\n${r.stderr.replace(/\n$/, '')}`);
  if (r.msg && !r.stdout && !r.stderr) parts.push(r.msg);
  return redact(parts.join('\n'));
}

async function runOne(session: Session, h: Host, m: AdhocModule, values: CliValues): Promise<AdhocResult> {
  let t;
  try {
    t = await session.connect(h);
  } catch (e) {
    return { status: 'UNREACHABLE', msg: (e as Error).message };
  }
  const op: OpContext = {
    host: h,
    transport: t,
    facts: () => session.facts(t, h, adhocFacts(m) as SectionName[]),
    factsChanged: () => {},
    read: (cmd) => t.exec(cmd),
    check: !!values.check,
    diff: !!values.diff,
    dir: process.cwd(),
  };
  try {
    const once = await runModule(m.def, m.args, { op, vars: { ...h.vars, inventory_hostname: h.name }, baseDir: process.cwd(), setFacts: () => {} }, { ignoreErrors: true });
    const r = once.result;
    const failed = !!r.failed;
    return {
      status: failed ? 'FAILED' : once.skipped ? 'SKIPPED' : once.changed ? 'CHANGED' : 'SUCCESS',
      ...(typeof r.rc === 'number' ? { rc: r.rc } : {}),
      ...(typeof r.stdout === 'string' ? { stdout: r.stdout } : {}),
      ...(typeof r.stderr === 'string' ? { stderr: r.stderr } : {}),
      // The module's message repeats the output when there is output: kept only without it.
      ...(r.stdout || r.stderr ? {} : { msg: typeof r.msg === 'string' ? r.msg : once.message }),
    };
  } catch (e) {
    return { status: 'FAILED', msg: (e as Error).message };
  }
}

export async function adhocCommand(positionals: string[], values: CliValues, io: Io): Promise<number> {
  const [pattern, ...rest] = positionals;
  if (pattern === undefined || rest.length) {
    throw new InputError("usage: provision adhoc PATTERN -a 'ARGS' [-m MODULE] [-i INVENTORY] [-b] [-f N] [--json FILE]", { file: '<command line>' });
  }
  const name = values['module-name'] ?? 'command';
  let m: AdhocModule;
  try {
    m = adhocModule(name, values.args ?? '');
  } catch (e) {
    if (e instanceof ArgError) throw new InputError(`-m ${name} -a ${JSON.stringify(values.args ?? '')}: ${e.message}`, { file: '<command line>' });
    throw e;
  }
  const { sources } = inventorySources([], values);
  const forks = parseForks(values.forks);
  // The pattern is a --limit of its own: both apply, as in Ansible.
  const session = await openSession(sources, values, io);
  const results = new Map<string, AdhocResult>();
  let hosts: Host[] = [];
  try {
    hosts = matchHosts(session.inventory, [pattern], { label: 'host pattern' }).filter((h) => session.hosts.includes(h));
    if (hosts.length === 0) throw new InputError(`host pattern ${pattern} and --limit leave no host`, { file: '<command line>' });
    const slots = new Semaphore(forks);
    await Promise.all(
      hosts.map(async (h) => {
        const release = await slots.acquire();
        try {
          results.set(h.name, await runOne(session, h, m, values));
        } finally {
          release();
        }
      }),
    );
    for (const h of hosts) io.out(block(h.name, results.get(h.name)!));
  } finally {
    await session.close();
  }
  const ordered = Object.fromEntries(hosts.filter((h) => results.has(h.name)).map((h) => [h.name, results.get(h.name)]));
  if (values.json) await writeFile(path.resolve(values.json), JSON.stringify(redactDeep(ordered), null, 2) + '\n', { mode: 0o600 });
  const bad = [...results.values()].some((r) => r.status === 'FAILED' || r.status === 'UNREACHABLE');
  return bad ? EXIT.HOST_FAILED : EXIT.OK;
}
