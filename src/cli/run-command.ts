import path from 'node:path';
import { EXIT } from '../errors.js';
import { loadPlaybook } from '../runner/playbook.js';
import { preloadRoles } from '../runner/role-preload.js';
import { runPlaybook, exitStatus } from '../runner/run.js';
import { plainProgress, listrProgress, lateProgress } from '../runner/progress.js';
import { recapTable, writeJsonReport } from '../report/recap.js';
import { matchHosts } from '../inventory/index.js';
import { openSession, type Session } from './session.js';
import { parseExtraVars, parseForks, resolvePlaybook, splitList, type CliValues, type Io } from './options.js';
import { InputError } from '../errors.js';
import { hasErrors } from '../topology/index.js';
import { describesHa, haFindings } from './preflight.js';
import { formatFinding } from './check-command.js';
import { ReadAhead, ReadAheadStore } from '../runner/read-ahead.js';
import type { FactCall } from '../facts/fact.js';
import { checkRunPlan } from './plan-after-check.js';
import { inventorySources } from './args.js';
import { listPlaybook, startAtTask, type ListMode } from './playbook-list.js';
import { loadInventory } from '../inventory/index.js';

const LIST_MODES: ListMode[] = ['syntax-check', 'list-hosts', 'list-tasks', 'list-tags'];

/** The services the shipped roles look at: asked for in the one fact-gathering round trip. */
const SERVICES = ['nginx', 'keepalived', 'chrony', 'firewalld', 'nftables'];

/**
 * The HA topology, checked before the first connection (./preflight.ts, as `check` does): a tie
 * in priorities or a VIP outside its subnet must stop the run, not reach two load balancers.
 * True when it has errors (printed).
 */
function topologyRefused(session: Session, inventoryArg: string, io: Io): boolean {
  const findings = haFindings(session.inventory);
  if (!hasErrors(findings)) return false;
  for (const f of findings.filter((x) => x.severity === 'error')) io.err(formatFinding(f));
  io.err(`provision: the HA topology in ${session.inventory.file} has errors; nothing was run (details: provision check ${inventoryArg})`);
  return true;
}

/** Ctrl-C: the first lets the operations in flight finish (the run is aborted), the second quits. */
function interruptHandler(ac: AbortController, io: Io): () => void {
  let interrupts = 0;
  return () => {
    interrupts++;
    if (interrupts === 1) {
      io.err('\nInterrupted: finishing the operations in flight (files are written atomically); Ctrl-C again to quit now.');
      ac.abort();
    } else process.exit(EXIT.INTERRUPTED);
  };
}

export async function runCommand(positionals: string[], values: CliValues, io: Io): Promise<number> {
  const { sources, rest: [playbookArg, ...rest] } = inventorySources(positionals, values, { mayBePlaybook: true });
  if (rest.length) throw new InputError(`unexpected arguments: ${rest.join(' ')}`, { file: '<command line>' });
  const inventoryArg = sources.join(' -i ');
  // Everything that can be wrong with the input is found before the first connection.
  let playbook = await loadPlaybook(resolvePlaybook(playbookArg));
  await preloadRoles(playbook);
  const extraVars = await parseExtraVars(values['extra-vars']);
  const forks = parseForks(values.forks);
  const mode = LIST_MODES.find((m) => values[m]);
  if (mode) {
    // Listing connects to nothing: the inventory is read, no session is opened.
    const inv = await loadInventory(sources);
    const limit = new Set(matchHosts(inv, splitList(values.limit) ?? ['all']).map((h) => h.name));
    io.out(listPlaybook(mode, playbook, inv, limit));
    return EXIT.OK;
  }
  if (values['start-at-task'] !== undefined) playbook = startAtTask(playbook, values['start-at-task']);
  const session = await openSession(sources, values, io, SERVICES);
  const hasHa = describesHa(session.inventory);
  if (topologyRefused(session, inventoryArg, io)) {
    await session.close();
    return EXIT.CHECK_FAILED;
  }
  // Read-ahead (src/runner/read-ahead.ts): on unless --no-read-ahead or PROVISION_READ_AHEAD=0.
  const tags = splitList(values.tags);
  const skipTags = splitList(values['skip-tags']);
  const store = values['no-read-ahead'] || process.env.PROVISION_READ_AHEAD === '0' ? undefined : new ReadAheadStore({ inventory: session.inventory.file, playbook: playbook.file, tags, skipTags });
  const recorded = store ? await store.load((m) => io.err(`WARNING: ${m}`)) : new Map<string, FactCall[]>();
  const readAhead = store ? new ReadAhead(recorded) : undefined;
  const progress = io.isTTY ? lateProgress(listrProgress(io.out, { diff: values.diff })) : plainProgress(io.out, { verbose: values.verbose, diff: values.diff });
  const ac = new AbortController();
  const onSigint = interruptHandler(ac, io);
  process.on('SIGINT', onSigint);
  try {
    const report = await runPlaybook({
      inventory: session.inventory,
      playbook,
      limit: new Set(session.hosts.map((h) => h.name)),
      selectHosts: (patterns) => matchHosts(session.inventory, patterns, { allowEmpty: true }),
      connect: session.connect,
      probeConnection: session.probe,
      gatherFacts: session.facts,
      check: values.check,
      diff: values.diff,
      forks,
      tags,
      skipTags,
      extraVars,
      signal: ac.signal,
      emit: (e) => progress.onEvent(e),
      prefetch: true,
      readAhead,
    });
    await progress.finish();
    if (store && readAhead) {
      const runs = Object.entries(report.hosts).map(([host, h]) => ({ host, reads: readAhead.reads(host), whole: !report.interrupted && h.status === 'ok' }));
      await store.save(recorded, runs).catch((e: Error) => io.err(`WARNING: read-ahead record not saved: ${e.message}`));
    }
    io.out(recapTable(report));
    // The stacks of exceptions thrown by role code: with -v (or PROVISION_DEBUG=1).
    if (values.verbose || process.env.PROVISION_DEBUG) for (const t of report.tasks) if (t.stack) io.err(`${t.host}: ${t.role} : ${t.task}\n${t.stack}`);
    if (values.check && hasHa) io.out(await checkRunPlan(session));
    if (values.json) await writeJsonReport(path.resolve(values.json), report);
    if (report.interrupted) return EXIT.INTERRUPTED;
    return exitStatus(report) === 'ok' ? EXIT.OK : EXIT.HOST_FAILED;
  } finally {
    process.off('SIGINT', onSigint);
    await session.close();
  }
}
