// Lab bench: the site playbook on the six lab hosts, with provision and with its Ansible twin
// (bench/ansible/), each run as a child process exactly as an operator starts it:
//   cold converge  `lab down && lab up`, then the first run on the fresh hosts;
//   no-op          a run on the converged lab (nothing to change);
//   --check        a check-mode run on the converged lab.
// The verify play is left out of provision's runs (--skip-tags verify): the twin has none.
// Every run must exit 0 with no failed host; no-op and check runs must report changed=0.
// Twin proof on the same lab: after provision converged it, `ansible-playbook --check --diff`
// must report changed=0 on every host, and after Ansible converged a fresh lab, provision
// --check must find nothing to change.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { measure, stats, secs, mib, table, type Measured, type Stats } from './lib/measure.js';
import { parseAnsibleRecap, hasAnsible } from './scale.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LAB_INVENTORY = join(REPO, 'inventory/lab.yaml');
const PROVISION_BIN = join(REPO, 'bin/provision.js');
export const TWIN_DIR = join(REPO, 'bench/ansible');

export type LabTool = 'provision' | 'ansible';
/** noop-fresh: a no-op with `--persist 0` (every connection made anew); noop-warmup: untimed, it leaves the connections for the timed no-op. */
export type RunKind = 'converge' | 'noop' | 'noop-fresh' | 'noop-warmup' | 'check' | 'check-diff';

export interface HostOutcome {
  changed: number;
  /** ok | failed | unreachable */
  status: string;
}

export interface LabRun {
  tool: LabTool;
  kind: RunKind;
  ms: number;
  code: number | null;
  changed: number;
  hosts: Record<string, HostOutcome>;
  /** Largest single process's peak RSS (KiB; GNU time). */
  maxRssKb?: number;
}

export interface LabToolResult {
  tool: LabTool;
  converge?: Stats;
  convergeChanged?: number[];
  /** No-op right after another run: SSH connections kept between runs (provision's default, Ansible's ControlPersist). */
  noop: Stats;
  noopChanged: number;
  /** provision only: no-op with every connection made anew (`--persist 0`). */
  noopFresh?: Stats;
  check: Stats;
  checkChanged: number;
  /** Largest peak RSS seen over the no-op runs (KiB). */
  maxRssKb?: number;
}

export interface LabBenchResult {
  hosts: number;
  runs: number;
  coldRuns: number;
  provision: LabToolResult;
  ansible?: LabToolResult;
  ansibleSkipped?: string;
  /** provision median / Ansible median per kind. */
  ratio: { converge?: number; noop?: number; noopFresh?: number; check?: number };
  /** Changed count the other tool finds right after one tool converged (0 = same work). */
  twin: { ansibleCheckDiffAfterProvision?: number; ansibleCheckDiffHosts?: Record<string, HostOutcome>; provisionCheckAfterAnsible?: number; provisionCheckAfterAnsibleHosts?: Record<string, HostOutcome> };
  /** `lab down` + `lab up` per cold run (ms). */
  labCycle?: Stats;
  /** Fresh labs that came up unhealthy and were made again (see labHealth). */
  labRetries: number;
  runsLog: LabRun[];
}

export interface LabBenchOptions {
  /** Timed no-op and --check runs per tool. */
  runs: number;
  /** Cold converges per tool (each on a fresh lab: lab down + lab up); 0 = none. */
  coldRuns: number;
  tools?: LabTool[];
  inventory?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

const tailOf = (s: string, lines = 8): string => s.trim().split('\n').slice(-lines).join('\n');

/** `provision lab <verb>` as a child process; throws when it fails. */
export async function labCommand(verb: 'up' | 'down', log: (l: string) => void, signal?: AbortSignal): Promise<number> {
  const m = await measure(process.execPath, [PROVISION_BIN, 'lab', verb], { cwd: REPO, env: { ...process.env, CI: '1' }, timeoutMs: 20 * 60_000, signal });
  if (m.code !== 0) throw new Error(`provision lab ${verb} failed (exit ${m.code ?? m.signal}):\n${tailOf(m.stderr || m.stdout)}`);
  log(`  lab ${verb}: ${secs(m.ms)}`);
  return m.ms;
}

/**
 * Is every lab host booted and accepting logins? (`systemctl is-system-running --wait` over
 * SSH.) The lab's containers share one cgroup tree (no host systemd; every systemd-nspawn runs
 * in the same cgroup), so units of containers booting at once can collide: a host may come up
 * with systemd-user-sessions failed (219/CGROUP) and refuse every login ("System is booting up").
 */
export async function labHealth(inventory = LAB_INVENTORY): Promise<string[]> {
  const { labSshExec, HOSTS } = await import('../src/lab/index.js');
  void inventory;
  const bad: string[] = [];
  await Promise.all(
    HOSTS.map(async (h) => {
      const r = await labSshExec(h.name, 'timeout 60 systemctl is-system-running --wait; systemctl --failed --plain --no-legend', { repoRoot: REPO });
      const state = r.stdout.trim().split('\n')[0] ?? '';
      if (r.code !== 0 && !state) bad.push(`${h.name}: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0] || `ssh exit ${r.code}`}`);
      else if (state !== 'running') bad.push(`${h.name}: ${state || 'unknown'} ${r.stdout.trim().split('\n').slice(1).join(' ')}`.trim());
    }),
  );
  return bad;
}

/** `lab down` then `lab up` until every host is healthy (at most `attempts` times); ms of the last cycle. */
export async function labCycle(log: (l: string) => void, signal?: AbortSignal, attempts = 3): Promise<{ ms: number; retries: number }> {
  for (let i = 1; ; i++) {
    const t0 = Date.now();
    await labCommand('down', log, signal);
    await labCommand('up', log, signal);
    const bad = await labHealth();
    if (bad.length === 0) return { ms: Date.now() - t0, retries: i - 1 };
    log(`  the fresh lab is not healthy: ${bad.join('; ')}${i < attempts ? ' (lab down/up again)' : ''}`);
    if (i >= attempts) throw new Error(`the lab did not come up healthy in ${attempts} attempts: ${bad.join('; ')}`);
  }
}

/** The twin's firewalld and SELinux tasks use ansible.posix and community.general modules. */
function hasTwinCollections(): boolean {
  return ['ansible.posix.firewalld', 'community.general.sefcontext'].every(
    (m) => spawnSync('ansible-doc', ['-t', 'module', '--json', m], { stdio: 'ignore', timeout: 60_000 }).status === 0,
  );
}

/** One provision run of the site playbook (verify play skipped), its wall time and outcome. */
export async function runProvision(kind: RunKind, o: { inventory?: string; extraArgs?: string[]; signal?: AbortSignal; verify?: boolean } = {}): Promise<LabRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pv-bench-lab-'));
  const json = join(dir, 'report.json');
  try {
    const args = [PROVISION_BIN, o.inventory ?? LAB_INVENTORY, ...(o.verify ? [] : ['--skip-tags', 'verify']), '--json', json, ...(o.extraArgs ?? [])];
    if (kind === 'check' || kind === 'check-diff') args.push('--check');
    if (kind === 'check-diff') args.push('--diff');
    if (kind === 'noop-fresh') args.push('--persist', '0');
    const m = await measure(process.execPath, args, { cwd: REPO, env: { ...process.env, CI: '1' }, timeoutMs: 30 * 60_000, signal: o.signal });
    if (!existsSync(json)) throw new Error(`provision (${kind}) wrote no report (exit ${m.code ?? m.signal}):\n${tailOf(m.stderr || m.stdout)}`);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { hosts: Record<string, { changed: number; status: string; message?: string }> };
    const hosts: Record<string, HostOutcome> = {};
    for (const [name, h] of Object.entries(report.hosts)) hosts[name] = { changed: h.changed, status: h.status };
    const run = outcome('provision', kind, m, hosts);
    assertRun(run, m);
    return run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One ansible-playbook run of the twin. */
export async function runAnsible(kind: RunKind, o: { inventory?: string; signal?: AbortSignal } = {}): Promise<LabRun> {
  const args = ['-i', o.inventory ?? LAB_INVENTORY, join(TWIN_DIR, 'site.yml')];
  if (kind === 'check' || kind === 'check-diff') args.push('--check');
  if (kind === 'check-diff') args.push('--diff');
  const m = await measure('ansible-playbook', args, {
    cwd: TWIN_DIR,
    env: { ...process.env, ANSIBLE_CONFIG: join(TWIN_DIR, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
    timeoutMs: 30 * 60_000,
    signal: o.signal,
  });
  const hosts: Record<string, HostOutcome> = {};
  for (const [name, h] of Object.entries(parseAnsibleRecap(m.stdout))) {
    hosts[name] = { changed: h.changed, status: h.unreachable ? 'unreachable' : h.failed ? 'failed' : 'ok' };
  }
  const run = outcome('ansible', kind, m, hosts);
  assertRun(run, m);
  return run;
}

function outcome(tool: LabTool, kind: RunKind, m: Measured, hosts: Record<string, HostOutcome>): LabRun {
  return { tool, kind, ms: m.ms, code: m.code, changed: Object.values(hosts).reduce((a, h) => a + h.changed, 0), hosts, maxRssKb: m.maxRssKb };
}

function assertRun(r: LabRun, m: Measured): void {
  const bad = Object.entries(r.hosts).filter(([, h]) => h.status !== 'ok');
  if (r.code !== 0 || bad.length || Object.keys(r.hosts).length === 0) {
    const out = r.tool === 'ansible' ? m.stdout.split('\n').filter((l) => /fatal|FAILED|UNREACHABLE|ERROR/.test(l)).slice(0, 8).join('\n') : '';
    throw new Error(`${r.tool} ${r.kind} run failed (exit ${r.code}): ${bad.map(([n, h]) => `${n} ${h.status}`).join(', ') || 'no hosts reported'}\n${out || tailOf(m.stderr || m.stdout)}`);
  }
}

const changedHosts = (r: LabRun) =>
  Object.entries(r.hosts)
    .filter(([, h]) => h.changed > 0)
    .map(([n, h]) => `${n}=${h.changed}`)
    .join(' ');

/** A copy of the lab inventory with `ha` keys replaced (e.g. profile), written to a temp file. */
export function inventoryWith(haChanges: Record<string, unknown>, base = LAB_INVENTORY, dir = tmpdir()): string {
  const doc = parseYaml(readFileSync(base, 'utf8')) as { all: { vars: { ha: Record<string, unknown> } } };
  Object.assign(doc.all.vars.ha, haChanges);
  const file = join(dir, `pv-bench-lab-${Object.entries(haChanges).map(([k, v]) => `${k}-${String(v)}`).join('-') || 'copy'}.yaml`);
  writeFileSync(file, `# A copy of ${base} written by bench/ with ha changed: ${JSON.stringify(haChanges)}\n` + stringifyYaml(doc, { lineWidth: 0 }));
  return file;
}

/** The lab part of `npm run bench`. */
export async function runLabBench(o: LabBenchOptions): Promise<LabBenchResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const wanted: LabTool[] = o.tools ?? ['provision', 'ansible'];
  const ansibleSkipped = wanted.includes('ansible')
    ? !hasAnsible()
      ? 'ansible-playbook not installed'
      : !hasTwinCollections()
        ? 'the Ansible twin needs the ansible.posix and community.general collections (Debian package `ansible`; ansible-core alone lacks them)'
        : undefined
    : 'left out (--no-ansible)';
  // Ansible runs exactly when it is wanted and nothing above says why it cannot.
  const tools = wanted.filter((t) => t !== 'ansible' || ansibleSkipped === undefined);
  const inv = o.inventory ?? LAB_INVENTORY;
  const runsLog: LabRun[] = [];
  const record = (r: LabRun): LabRun => {
    runsLog.push(r);
    log(`  ${r.tool.padEnd(9)} ${r.kind.padEnd(10)} ${secs(r.ms).padStart(8)}  changed=${r.changed}${r.changed ? ` (${changedHosts(r)})` : ''}${r.maxRssKb ? `  max RSS ${mib(r.maxRssKb)}` : ''}`);
    return r;
  };
  const run = (tool: LabTool, kind: RunKind) => (tool === 'provision' ? runProvision(kind, { inventory: inv, signal: o.signal }) : runAnsible(kind, { inventory: inv, signal: o.signal }));
  const twin: LabBenchResult['twin'] = {};
  const converge: Record<LabTool, number[]> = { provision: [], ansible: [] };
  const convergeChanged: Record<LabTool, number[]> = { provision: [], ansible: [] };
  const cycles: number[] = [];
  let labRetries = 0;

  // 1. Cold converges, each on a fresh lab; the tools take turns going first.
  for (let i = 0; i < o.coldRuns; i++) {
    const order = i % 2 === 0 ? tools : [...tools].reverse();
    for (const tool of order) {
      log(`lab bench: cold converge ${i + 1}/${o.coldRuns} with ${tool} (fresh lab)`);
      const cyc = await labCycle(log, o.signal);
      cycles.push(cyc.ms);
      labRetries += cyc.retries;
      const r = record(await run(tool, 'converge'));
      converge[tool].push(r.ms);
      convergeChanged[tool].push(r.changed);
      // Twin proof on the fresh lab one tool just converged (once per tool).
      if (tool === 'ansible' && twin.provisionCheckAfterAnsible === undefined) {
        const c = record(await runProvision('check', { inventory: inv, signal: o.signal }));
        twin.provisionCheckAfterAnsible = c.changed;
        twin.provisionCheckAfterAnsibleHosts = c.hosts;
      }
    }
  }
  if (!existsSync(inv)) {
    log('lab bench: the lab is not up: lab up');
    await labCommand('up', log, o.signal);
  }

  // 2. Converged by provision (not timed unless it was the cold run): the state every no-op starts from.
  log('lab bench: converge with provision (the state of the no-op and check runs)');
  const warm = record(await runProvision('converge', { inventory: inv, signal: o.signal }));
  if (o.coldRuns === 0) {
    converge.provision.push(warm.ms);
    convergeChanged.provision.push(warm.changed);
  }
  if (tools.includes('ansible')) {
    const c = record(await runAnsible('check-diff', { inventory: inv, signal: o.signal }));
    twin.ansibleCheckDiffAfterProvision = c.changed;
    twin.ansibleCheckDiffHosts = c.hosts;
  }

  // 3. No-op and --check runs. Each tool's runs come back to back, as an operator re-runs:
  // both keep their SSH connections between runs (provision's keeper, Ansible's
  // ControlPersist=60s), and the timed provision runs follow an untimed one so that they
  // find them. provision's no-op is also timed with every connection made anew (--persist 0).
  const noop: Record<LabTool, LabRun[]> = { provision: [], ansible: [] };
  const noopFresh: LabRun[] = [];
  const check: Record<LabTool, LabRun[]> = { provision: [], ansible: [] };
  log(`lab bench: ${o.runs} round(s) of no-op and --check runs per tool`);
  for (let i = 0; i < o.runs; i++) {
    for (const tool of tools) {
      if (tool === 'provision') {
        noopFresh.push(record(await run(tool, 'noop-fresh')));
        record(await run(tool, 'noop-warmup'));
      }
      noop[tool].push(record(await run(tool, 'noop')));
      check[tool].push(record(await run(tool, 'check')));
    }
  }

  const result = (tool: LabTool): LabToolResult => ({
    tool,
    converge: converge[tool].length ? stats(converge[tool]) : undefined,
    convergeChanged: convergeChanged[tool].length ? convergeChanged[tool] : undefined,
    noop: stats(noop[tool].map((r) => r.ms)),
    noopChanged: [...noop[tool], ...(tool === 'provision' ? noopFresh : [])].reduce((a, r) => a + r.changed, 0),
    noopFresh: tool === 'provision' && noopFresh.length ? stats(noopFresh.map((r) => r.ms)) : undefined,
    check: stats(check[tool].map((r) => r.ms)),
    checkChanged: check[tool].reduce((a, r) => a + r.changed, 0),
    maxRssKb: Math.max(0, ...noop[tool].map((r) => r.maxRssKb ?? 0)) || undefined,
  });
  const p = result('provision');
  const a = tools.includes('ansible') ? result('ansible') : undefined;
  const ratio: LabBenchResult['ratio'] = {};
  if (a) {
    if (p.converge && a.converge) ratio.converge = p.converge.median / a.converge.median;
    ratio.noop = p.noop.median / a.noop.median;
    if (p.noopFresh) ratio.noopFresh = p.noopFresh.median / a.noop.median;
    ratio.check = p.check.median / a.check.median;
  }
  return {
    hosts: Object.keys(warm.hosts).length,
    runs: o.runs,
    coldRuns: o.coldRuns,
    provision: p,
    ansible: a,
    ansibleSkipped,
    ratio,
    twin,
    labCycle: cycles.length ? stats(cycles) : undefined,
    labRetries,
    runsLog,
  };
}

const fmtStats = (s?: Stats): string[] => (s ? [secs(s.median), secs(s.min), secs(s.max), String(s.samples.length)] : ['-', '-', '-', '0']);

export function labTable(r: LabBenchResult): string {
  const rows = [['run', 'tool', 'median', 'min', 'max', 'runs', 'changed', 'provision/Ansible']];
  const kinds: Array<['converge' | 'noop' | 'noopFresh' | 'check', string]> = [
    ['converge', r.coldRuns ? 'cold converge' : 'converge (warm lab)'],
    ['noop', 'no-op re-run (connections kept)'],
    ['noopFresh', 'no-op, new connections (--persist 0)'],
    ['check', '--check'],
  ];
  for (const [k, label] of kinds) {
    for (const t of [r.provision, r.ansible]) {
      if (!t) continue;
      const s = k === 'converge' ? t.converge : k === 'noop' ? t.noop : k === 'noopFresh' ? t.noopFresh : t.check;
      if (!s) continue;
      const changed = k === 'converge' ? (t.convergeChanged ?? []).join('/') : String(k === 'noop' || k === 'noopFresh' ? t.noopChanged : t.checkChanged);
      const ratio = r.ratio[k] !== undefined && (k === 'noopFresh' ? t.tool === 'provision' : t.tool === 'ansible') ? `${r.ratio[k]!.toFixed(3)} (${(1 / r.ratio[k]!).toFixed(1)}x)` : '';
      rows.push([label, t.tool, ...fmtStats(s), changed || '-', ratio]);
    }
  }
  const notes: string[] = [];
  if (r.twin.ansibleCheckDiffAfterProvision !== undefined) notes.push(`twin: ansible-playbook --check --diff after provision converged the lab: changed=${r.twin.ansibleCheckDiffAfterProvision}`);
  if (r.twin.provisionCheckAfterAnsible !== undefined) notes.push(`twin: provision --check after Ansible converged a fresh lab: changed=${r.twin.provisionCheckAfterAnsible}`);
  if (r.ansibleSkipped) notes.push(`Ansible: ${r.ansibleSkipped}`);
  if (r.labCycle) notes.push(`lab down + lab up before each cold converge: median ${secs(r.labCycle.median)}${r.labRetries ? ` (${r.labRetries} fresh lab(s) came up with a host refusing logins and were made again)` : ''}`);
  if (r.provision.maxRssKb) notes.push(`provision peak RSS (no-op): ${mib(r.provision.maxRssKb)}`);
  return [table(rows), ...notes].join('\n');
}

// ---- where a provision run spends its time ---------------------------------------------

export interface HostProfile {
  host: string;
  /** SSH connection set-up (TCP, key exchange, auth), ms. */
  connectMs: number;
  /** Fact gathering (one command), ms. */
  factsMs: number;
  /** Remote commands and uploads (round trips). */
  execs: number;
  puts: number;
  /** Summed wall time of those round trips, ms (they may overlap). */
  remoteMs: number;
  /** Wall time of this host's tasks, ms (summed over plays). */
  taskMs: number;
  tasks: number;
}

export interface ProvisionProfile {
  /** `node bin/provision.js --help`: process start and loading the CLI (compiled, or through tsx), ms. */
  startupMs: number;
  /** The in-process run (no process start), ms. */
  runMs: number;
  /** Time in each play (serial batches one after the other), ms. */
  plays: Array<{ play: string; ms: number }>;
  hosts: HostProfile[];
  /** The slowest tasks (host, task, ms, round trips). */
  slowest: Array<{ host: string; task: string; ms: number; roundTrips: number }>;
  /** How the tasks' reads were answered (read-ahead, with the record the CLI keeps for the same runs). */
  readAhead?: { served: number; live: number; batches: number };
}

/**
 * Run the site playbook in this process (no process start-up), over SSH transports that count
 * and time every round trip, and time the process start-up separately: where a no-op run's
 * wall time goes (connection set-up, facts, round trips per task, serial plays).
 */
export async function profileProvision(o: { inventory?: string; check?: boolean; persistSeconds?: number; readAhead?: boolean } = {}): Promise<ProvisionProfile> {
  const { loadInventory, matchHosts } = await import('../src/inventory/index.js');
  const { loadPlaybook } = await import('../src/runner/playbook.js');
  const { runPlaybook } = await import('../src/runner/run.js');
  const { TransportPool, SshTransport, connectionSpecFor } = await import('../src/transport/index.js');
  const { gatherFacts } = await import('../src/facts/index.js');
  const { PersistClient } = await import('../src/transport/persist.js');
  const { ReadAhead, ReadAheadStore } = await import('../src/runner/read-ahead.js');
  const persist = o.persistSeconds ? new PersistClient({ persistMs: o.persistSeconds * 1000 }) : undefined;
  const start = await measure(process.execPath, [PROVISION_BIN, '--help'], { cwd: REPO });
  const inv = await loadInventory(o.inventory ?? LAB_INVENTORY);
  const playbook = await loadPlaybook(join(REPO, 'playbooks/site.yaml'));
  // The CLI's own record for `--skip-tags verify` runs of this playbook: the profile runs as it does.
  const store = o.readAhead === false ? undefined : new ReadAheadStore({ inventory: inv.file, playbook: playbook.file, skipTags: ['verify'] });
  const recorded = store ? await store.load() : new Map();
  const readAhead = store ? new ReadAhead(recorded) : undefined;
  const prof = new Map<string, HostProfile>();
  const hp = (host: string) => {
    let p = prof.get(host);
    if (!p) prof.set(host, (p = { host, connectMs: 0, factsMs: 0, execs: 0, puts: 0, remoteMs: 0, taskMs: 0, tasks: 0 }));
    return p;
  };
  // Round trips per (host, task): the task running on a host when a call starts.
  const current = new Map<string, string>();
  const perTask = new Map<string, number>();
  const count = (host: string) => {
    const k = `${host}\u0000${current.get(host) ?? '(facts)'}`;
    perTask.set(k, (perTask.get(k) ?? 0) + 1);
  };
  const runStart = performance.now();
  const pool = new TransportPool((h) => connectionSpecFor(h), {
    create: (spec) => {
      const t = new SshTransport(spec, { persist });
      const p = hp(spec.host);
      return {
        host: t.host,
        connect: async () => {
          const t0 = performance.now();
          await t.connect();
          p.connectMs += performance.now() - t0;
        },
        exec: async (cmd, eo) => {
          const t0 = performance.now();
          p.execs++;
          count(spec.host);
          try {
            return await t.exec(cmd, eo);
          } finally {
            p.remoteMs += performance.now() - t0;
            if (process.env.PROVISION_TIMELINE) console.error(`${Math.round(t0 - runStart)}\t+${Math.round(performance.now() - t0)}\t${spec.host}\t${current.get(spec.host) ?? '(facts)'}\t${cmd.text.slice(0, 70).replace(/\n/g, ' ')}`);
          }
        },
        put: async (path, content, po) => {
          const t0 = performance.now();
          p.puts++;
          count(spec.host);
          try {
            return await t.put(path, content, po);
          } finally {
            p.remoteMs += performance.now() - t0;
          }
        },
        close: () => t.close(),
        warm: () => t.warm(),
      };
    },
  });
  const services = ['nginx', 'keepalived', 'chrony', 'firewalld', 'nftables'];
  const plays: Array<{ play: string; ms: number }> = [];
  let playStart = 0;
  let playName = '';
  const endPlay = () => {
    if (playName) plays.push({ play: playName, ms: performance.now() - playStart });
  };
  const t0 = performance.now();
  try {
    const report = await runPlaybook({
      inventory: inv,
      playbook,
      selectHosts: (patterns) => matchHosts(inv, patterns, { allowEmpty: true }),
      connect: (h) => pool.get(h),
      probeConnection: async (h) => {
        const t = new SshTransport(connectionSpecFor(h));
        try {
          await t.connect();
        } finally {
          await t.close();
        }
      },
      gatherFacts: async (t, h, sections) => {
        const f0 = performance.now();
        try {
          return await gatherFacts(t, { sections, services });
        } finally {
          hp(h.name).factsMs += performance.now() - f0;
        }
      },
      check: o.check,
      forks: 10,
      skipTags: ['verify'],
      prefetch: true,
      readAhead,
      emit: (e) => {
        if (e.type === 'play') {
          endPlay();
          playName = e.play;
          playStart = performance.now();
        } else if (e.type === 'task-start') current.set(e.host, `${e.role ? e.role + ' : ' : ''}${e.task}`);
        else if (e.type === 'task-end') {
          const p = hp(e.result.host);
          p.taskMs += e.result.duration;
          p.tasks++;
        }
      },
    });
    endPlay();
    const bad = Object.entries(report.hosts).filter(([, h]) => h.status !== 'ok');
    if (bad.length) throw new Error(`profiled run failed: ${bad.map(([n, h]) => `${n} ${h.status} ${h.message ?? ''}`).join('; ')}`);
    const runMs = performance.now() - t0;
    const slowest = report.tasks
      .map((t) => ({ host: t.host, task: `${t.role ? t.role + ' : ' : ''}${t.task}`, ms: t.duration, roundTrips: perTask.get(`${t.host}\u0000${t.role ? t.role + ' : ' : ''}${t.task}`) ?? 0 }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 12);
    if (store && readAhead) await store.save(recorded, Object.keys(report.hosts).map((host) => ({ host, reads: readAhead.reads(host), whole: true })));
    return { startupMs: start.ms, runMs, plays, hosts: [...prof.values()], slowest, readAhead: report.readAhead };
  } finally {
    await pool.closeAll();
  }
}

export function profileTable(p: ProvisionProfile): string {
  const r = (x: number) => `${Math.round(x)} ms`;
  const hosts = table([
    ['host', 'connect', 'facts', 'round trips', 'uploads', 'remote time', 'task time', 'tasks'],
    ...p.hosts.map((h) => [h.host, r(h.connectMs), r(h.factsMs), String(h.execs), String(h.puts), r(h.remoteMs), r(h.taskMs), String(h.tasks)]),
  ]);
  const plays = p.plays.map((x) => `${x.play}: ${r(x.ms)}`).join(', ');
  const slow = table([['slowest tasks', 'host', 'time', 'round trips'], ...p.slowest.map((s) => [s.task, s.host, r(s.ms), String(s.roundTrips)])]);
  const ra = p.readAhead ? `; reads: ${p.readAhead.served} from the read-ahead batches (${p.readAhead.batches}), ${p.readAhead.live} live` : '; read-ahead off';
  return [`process start-up (node + CLI, --help): ${r(p.startupMs)}; the run itself in-process: ${r(p.runMs)}; plays: ${plays}${ra}`, hosts, slow].join('\n');
}
