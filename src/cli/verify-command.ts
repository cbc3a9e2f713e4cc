// provision verify: prove a converged cluster works, from the hosts themselves (nothing changes,
// unless --failover is asked for: then nginx is killed on each LB in turn and started again).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { deriveTopology } from '../topology/index.js';
import { verifyCluster, formatVerifyTable } from '../verify/cluster.js';
import { verifyFailover, formatFailoverTable, vipHolders } from '../verify/failover.js';
import { reportTopology, type VerifyJsonReport } from '../verify/html-data.js';
import { knownTracking } from './plan-after-check.js';
import { haPlan } from '../topology/show.js';
import { redact, redactDeep } from '../report/redact.js';
import { openSession } from './session.js';
import { inventorySources } from './args.js';
import type { CliValues, Io } from './options.js';

export async function verifyCommand(positionals: string[], values: CliValues, io: Io): Promise<number> {
  const { sources, rest } = inventorySources(positionals, values);
  if (rest.length) throw new InputError('usage: provision verify [-i] <inventory> [--failover] [--json FILE] [--html FILE]', { file: '<command line>' });
  // --limit does not apply: a VIP is only proven by looking at every LB and a probe.
  const session = await openSession(sources, { ...values, limit: undefined }, io);
  const inv = session.inventory;
  const model = deriveTopology([...inv.hosts.values()], { baseDir: inv.dir ?? path.dirname(inv.file) });
  const connect = (name: string) => {
    const h = inv.hosts.get(name);
    if (!h) throw new InputError(`host ${name} is in the HA model but not in the inventory`, { file: inv.file });
    return session.connect(h);
  };
  const t0 = Date.now();
  try {
    io.err(`verifying ${model.nodes.length} load balancer(s), ${model.vips.length} VIP(s)...`);
    const report = await verifyCluster(model, connect);
    io.out(redact(formatVerifyTable(report)));
    let failover: Awaited<ReturnType<typeof verifyFailover>> | undefined;
    if (values.failover) {
      if (!report.ok) io.err('failover not measured: the cluster does not pass the checks above');
      else {
        failover = await verifyFailover(model, connect, { onProgress: (m) => io.err(m) });
        io.out(redact(formatFailoverTable(failover)));
      }
    }
    const ok = report.ok && (!values.failover || (failover?.ok ?? false));
    if (values.json || values.html) {
      const plan = haPlan(model, await knownTracking(session, model));
      const holders = await vipHolders(model, connect).catch(() => undefined);
      const json: VerifyJsonReport = redactDeep({ ok, seconds: (Date.now() - t0) / 1000, generatedAt: Date.now(), inventory: path.basename(inv.file), topology: reportTopology(model, plan), verify: report, failover, holders });
      if (values.json) writeFileSync(values.json, JSON.stringify(json, null, 2) + '\n');
      if (values.html) {
        const { renderHtmlReport } = await import('../verify/html.js');
        // Drawn from the JSON text, so the page is exactly what the --json report redraws.
        writeFileSync(values.html, renderHtmlReport(JSON.parse(JSON.stringify(json)) as VerifyJsonReport));
        io.err(`HTML report: ${path.resolve(values.html)}`);
      }
    }
    return ok ? EXIT.OK : EXIT.VERIFY_FAILED;
  } finally {
    await session.close();
  }
}
