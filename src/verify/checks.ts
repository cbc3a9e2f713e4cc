// Per-host checks that prove the cluster works, and their combination over the whole
// cluster. Each check reads remote state through a Transport, returns a structured result
// (rows for the summary table) and never changes anything on the host.
//   (a) checkVipsHeld  - an LB holds exactly the VIPs it masters
//   (b) captureAdverts - on the wire, each VRID is advertised by exactly one source: the
//                        intended master, with the intended priority and interval
//   (c) curlVips       - from a probe, every VIP answers HTTP 200 and every backend answers
import { raw, sh, type Shell } from '../transport/quote.js';
import { textTable } from '../report/text-table.js';
import { wireIntervalMs } from '../topology/show-timing.js';
import type { Transport, ExecResult } from '../transport/types.js';
import type { HaModel, HaNetwork, HaVip, LbNode, VrrpInstance } from '../topology/types.js';
import {
  backendInBody,
  fmtInterval,
  hostOfUrl,
  parseCurlLoop,
  parseIpAddr,
  parseTcpdumpVrrp,
  summarizeAdverts,
  CURL_MARK,
  CURL_RC_MARK,
  type IfAddr,
  type VridSummary,
} from './parse.js';

export type CheckKind = 'vips-held' | 'vrrp-adverts' | 'http';

/** One line of the summary table. */
export interface CheckRow {
  check: CheckKind;
  host: string;
  /** What was checked: a VIP, "VRID 171 (10.16.8.100)", ... */
  target: string;
  ok: boolean;
  detail: string;
}

export interface CheckResult {
  host: string;
  ok: boolean;
  rows: CheckRow[];
}

export interface VipsHeldResult extends CheckResult {
  /** Every IPv4 address on the host, by interface. */
  addresses: IfAddr[];
  /** The model's VIPs this host holds. */
  held: string[];
  /** The VIPs this host is meant to hold (it is their master). */
  masters: string[];
}

export interface NetworkCapture {
  network: string;
  interface: string;
  /** Adverts per VRID seen on this interface during the capture. */
  vrids: VridSummary[];
  /** VRRP lines tcpdump printed that were not parseable advertisements. */
  odd: string[];
  /** Set when tcpdump itself failed on this interface. */
  error?: string;
}

export interface AdvertsResult extends CheckResult {
  seconds: number;
  networks: NetworkCapture[];
}

export interface VipHttpResult {
  vip: string;
  network: string;
  url: string;
  requests: number;
  ok: number;
  /** Failures as "HTTP 502" / "curl exit 28" -> count. */
  failures: Record<string, number>;
  /** OK answers per backend; "?" for a 200 whose body names no backend. */
  backends: Record<string, number>;
  missingBackends: string[];
}

export interface HttpResult extends CheckResult {
  count: number;
  vips: VipHttpResult[];
}

/** A failed check: message for the operator (what failed, naming VIPs, VRIDs, sources). */
export function failureMessage(r: CheckResult): string {
  return r.rows.filter((x) => !x.ok).map((x) => x.detail).join('; ');
}

const execOk = (r: ExecResult) => r.code === 0;
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const why = (r: ExecResult) => oneLine(r.stderr) || oneLine(r.stdout).slice(0, 200) || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);

export function lbNode(model: HaModel, host: string): LbNode {
  const n = model.nodes.find((x) => x.host === host);
  if (!n) throw new Error(`${host} is not a load balancer of the HA model (group ${model.lbGroup})`);
  return n;
}

/** The node and instance meant to be MASTER of a VIP, when the model has exactly one. */
export function masterOf(model: HaModel, vip: HaVip): { node: LbNode; instance: VrrpInstance } | undefined {
  if (!vip.master || vip.masters.length > 1) return undefined;
  const node = model.nodes.find((n) => n.host === vip.master);
  const instance = node?.instances.find((i) => i.vrid === vip.vrid && i.network === vip.network && i.vips.includes(vip.address));
  return node && instance ? { node, instance } : undefined;
}

/** Which host has this address on a network (LB nodes, then probes and backends). */
function hostOfAddress(model: HaModel, address: string): string | undefined {
  for (const n of model.nodes) if (Object.values(n.addresses).includes(address)) return n.host;
  for (const p of model.probes) if (Object.values(p.addresses).includes(address)) return p.host;
  return model.backends.find((b) => b.address === address)?.host;
}

const named = (model: HaModel, address: string) => {
  const h = hostOfAddress(model, address);
  return h ? `${address} (${h})` : address;
};

// ---------------------------------------------------------------------------------------------
// (a) VIPs held

/** `ip -j addr` where iproute2 has it, else one line per address. Read-only, no root needed. */
export const IP_ADDR_CMD: Shell = raw('ip -j -4 addr show 2>/dev/null || ip -o -4 addr show');

/** Every IPv4 address of the host (throws when `ip` fails). */
export async function readAddresses(t: Transport): Promise<IfAddr[]> {
  const r = await t.exec(IP_ADDR_CMD, { sudo: false, timeoutMs: 15_000 });
  if (!execOk(r)) throw new Error(`ip addr failed on ${t.host}: ${why(r)}`);
  return parseIpAddr(r.stdout);
}

/** Judge the addresses of one LB against the model (pure; used by checkVipsHeld and failover). */
export function judgeVipsHeld(model: HaModel, host: string, addresses: IfAddr[]): VipsHeldResult {
  const node = lbNode(model, host);
  const rows: CheckRow[] = [];
  const held: string[] = [];
  const masters: string[] = [];
  for (const vip of model.vips) {
    const on = addresses.filter((a) => a.address === vip.address);
    const isMaster = vip.master === host;
    if (isMaster) masters.push(vip.address);
    if (on.length) held.push(vip.address);
    const where = `VRID ${vip.vrid}, ${vip.network}`;
    const row = (ok: boolean, detail: string) => rows.push({ check: 'vips-held', host, target: vip.address, ok, detail });
    const wantIf = node.interfaces[vip.network];
    if (isMaster && on.length === 0) {
      const holder = vip.masters.length > 1 ? ` (the model names ${vip.masters.length} masters: ${vip.masters.join(', ')})` : '';
      row(false, `${vip.address} (${where}) is not held by its master ${host}${holder}`);
    } else if (!isMaster && on.length) {
      row(false, `${vip.address} (${where}) is held by ${host}, but its master is ${vip.master ?? 'none (no instance says MASTER)'}`);
    } else if (on.length && wantIf && !on.some((a) => a.ifname === wantIf)) {
      row(false, `${vip.address} (${where}) is on ${on.map((a) => a.ifname).join(', ')} of ${host}, expected ${wantIf}`);
    } else if (on.length > 1) {
      row(false, `${vip.address} (${where}) is configured ${on.length} times on ${host} (${on.map((a) => a.ifname).join(', ')})`);
    } else if (isMaster) {
      row(true, `held by master ${host} on ${on[0].ifname}`);
    } else {
      row(true, `not held (backup; master ${vip.master ?? '-'})`);
    }
  }
  return { host, ok: rows.every((r) => r.ok), rows, addresses, held, masters };
}

/** (a) The VIPs this LB holds vs. the VIPs it masters. */
export async function checkVipsHeld(t: Transport, model: HaModel, host: string): Promise<VipsHeldResult> {
  lbNode(model, host);
  return judgeVipsHeld(model, host, await readAddresses(t));
}

// ---------------------------------------------------------------------------------------------
// (b) VRRP adverts on the wire

export { wireIntervalMs };

/** The capture command of one interface (run with sudo). */
export function tcpdumpCommand(iface: string, mcastGroup: string, seconds: number): Shell {
  // No -v: tcpdump would print the VRRPv2 PASS password. timeout exits 124 when it stops tcpdump.
  return sh`timeout -k 2 ${seconds} tcpdump -nn -l -i ${iface} ${`ip proto 112 and dst ${mcastGroup}`}`;
}

/** Judge one network's capture against the model (pure). */
export function judgeAdverts(model: HaModel, host: string, net: HaNetwork, capture: NetworkCapture, seconds: number): CheckRow[] {
  const rows: CheckRow[] = [];
  const ifc = capture.interface;
  if (capture.error) {
    rows.push({ check: 'vrrp-adverts', host, target: `${net.name} (${ifc})`, ok: false, detail: `capture on ${ifc} failed: ${capture.error}` });
    return rows;
  }
  const byVrid = new Map<number, HaVip[]>();
  for (const v of model.vips.filter((x) => x.network === net.name)) byVrid.set(v.vrid, [...(byVrid.get(v.vrid) ?? []), v]);
  for (const [vrid, vips] of byVrid) {
    const addrs = vips.map((v) => v.address).join(', ');
    const target = `VRID ${vrid} (${addrs})`;
    const fail = (detail: string) => rows.push({ check: 'vrrp-adverts', host, target, ok: false, detail });
    const m = masterOf(model, vips[0]);
    const seen = capture.vrids.find((s) => s.vrid === vrid);
    const sources = seen?.sources ?? [];
    const describe = () => sources.map((s) => `${named(model, s.source)} prio ${s.priorities.join('/')}`).join(', ');
    if (!m) {
      fail(`VRID ${vrid} (${addrs}) on ${net.name}: the model has no single master (${vips[0].masters.join(', ') || 'none'}); seen: ${describe() || 'nothing'}`);
      continue;
    }
    const wantSrc = m.node.addresses[net.name];
    const wantPrio = m.instance.priority;
    const wantIntvl = wireIntervalMs(m.instance);
    if (sources.length === 0) {
      fail(`VRID ${vrid} (${addrs}): no advert seen on ${ifc} of ${host} in ${seconds} s; expected ${m.node.host} (${wantSrc ?? '?'})`);
      continue;
    }
    if (sources.length > 1) {
      fail(`split brain: VRID ${vrid} (${addrs}) advertised by ${sources.length} sources on ${net.name}: ${describe()}; expected only ${m.node.host} (${wantSrc ?? '?'})`);
      continue;
    }
    const s = sources[0];
    const problems: string[] = [];
    if (wantSrc && s.source !== wantSrc) problems.push(`advertised by ${named(model, s.source)}, expected its master ${m.node.host} (${wantSrc})`);
    if (s.priorities.length !== 1 || s.priorities[0] !== wantPrio) problems.push(`prio ${s.priorities.join('/')}, expected ${wantPrio}`);
    if (s.intervalsMs.length !== 1 || s.intervalsMs[0] !== wantIntvl) problems.push(`intvl ${s.intervalsMs.map(fmtInterval).join('/')}, expected ${fmtInterval(wantIntvl)}`);
    if (s.versions.length !== 1 || s.versions[0] !== m.instance.version) problems.push(`VRRPv${s.versions.join('/v')}, expected v${m.instance.version}`);
    if (problems.length) fail(`VRID ${vrid} (${addrs}) from ${named(model, s.source)}: ${problems.join('; ')}`);
    else rows.push({ check: 'vrrp-adverts', host, target, ok: true, detail: `only ${named(model, s.source)}, prio ${wantPrio}, intvl ${fmtInterval(wantIntvl)}, ${s.count} adverts on ${ifc}` });
  }
  for (const s of capture.vrids) {
    if (byVrid.has(s.vrid)) continue;
    const who = s.sources.map((x) => named(model, x.source)).join(', ');
    rows.push({ check: 'vrrp-adverts', host, target: `VRID ${s.vrid} (not in model)`, ok: true, detail: `foreign VRID ${s.vrid} on ${ifc} from ${who} (same multicast group; not ours)` });
  }
  return rows;
}

/** (b) Capture VRRP adverts on each HA interface of an LB for `seconds` and judge them. */
export async function captureAdverts(t: Transport, model: HaModel, host: string, seconds = 4): Promise<AdvertsResult> {
  const node = lbNode(model, host);
  if (!(seconds > 0 && seconds <= 120)) throw new Error(`capture seconds must be in (0, 120], got ${seconds}`);
  const nets = model.networks.filter((n) => node.interfaces[n.name]);
  const captures = await Promise.all(
    nets.map(async (net): Promise<NetworkCapture> => {
      const ifc = node.interfaces[net.name];
      const r = await t.exec(tcpdumpCommand(ifc, model.mcastGroup, seconds), { sudo: true, timeoutMs: (seconds + 20) * 1000 });
      // 124: timeout stopped tcpdump (the normal end); 0: tcpdump ended on its own.
      if (r.code !== 124 && r.code !== 0) {
        return { network: net.name, interface: ifc, vrids: [], odd: [], error: why(r) };
      }
      const p = parseTcpdumpVrrp(r.stdout);
      return { network: net.name, interface: ifc, vrids: summarizeAdverts(p.adverts), odd: p.odd };
    }),
  );
  const rows = nets.flatMap((net, i) => judgeAdverts(model, host, net, captures[i], seconds));
  return { host, ok: rows.every((r) => r.ok), rows, seconds, networks: captures };
}

// ---------------------------------------------------------------------------------------------
// (c) HTTP through every VIP

export interface CurlOptions {
  /** Only these VIP addresses (default: every VIP on a network the probe has an address on). */
  vips?: string[];
  /** Per-request timeout in seconds (curl -m). */
  timeoutS?: number;
  /** Port nginx listens on (default: the model's listenPort). */
  port?: number;
}

/** Addresses of a probe host: a probe of the model, or an LB standing in as one. */
export function probeAddresses(model: HaModel, host: string): Record<string, string> {
  const p = model.probes.find((x) => x.host === host);
  if (p) return p.addresses;
  const n = model.nodes.find((x) => x.host === host);
  if (n) return n.addresses;
  throw new Error(`${host} is neither a probe nor a load balancer of the HA model`);
}

/**
 * Run the functions given to the returned runner one at a time, in call order. The HTTP checks
 * of different probes go through one: probes on two networks reach the same LB (one VIP per
 * network), and two curl loops in lock step there take turns in nginx's round robin, each probe
 * then meeting one backend only ("web1 never answered") although both serve.
 */
export function oneAtATime(): <T>(fn: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const mine = last.then(fn, fn);
    last = mine.catch(() => undefined);
    return mine;
  };
}

export function vipUrl(vip: string, port: number): string {
  return `http://${vip}:${port}/`;
}

/** One remote command: `count` rounds of one curl per URL, each answer framed by markers. */
export function curlLoopCommand(urls: string[], count: number, timeoutS: number): Shell {
  const fmt = `\\n${CURL_MARK} %{http_code} %{url_effective}\\n`;
  return sh`n=0; while [ "$n" -lt ${count} ]; do n=$((n+1)); for u in ${urls}; do curl -s --noproxy ${'*'} -m ${timeoutS} -w ${fmt} "$u" 2>&1; echo ${CURL_RC_MARK} "$?" "$u"; done; done`;
}

/** (c) From a probe: `count` requests to each VIP; all must be HTTP 200 and every backend must answer. */
export async function curlVips(t: Transport, model: HaModel, probeHost: string, count = 20, opts: CurlOptions = {}): Promise<HttpResult> {
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error(`request count must be an integer in [1, 1000], got ${count}`);
  const addresses = probeAddresses(model, probeHost);
  const vips = opts.vips ? model.vips.filter((v) => opts.vips!.includes(v.address)) : model.vips.filter((v) => addresses[v.network] !== undefined);
  const port = opts.port ?? model.listenPort;
  const timeoutS = opts.timeoutS ?? 2;
  if (vips.length === 0) return { host: probeHost, ok: true, rows: [], count, vips: [] };
  const urls = vips.map((v) => vipUrl(v.address, port));
  const r = await t.exec(curlLoopCommand(urls, count, timeoutS), { sudo: false, timeoutMs: (count * urls.length * (timeoutS + 1) + 30) * 1000 });
  const answers = parseCurlLoop(r.stdout);
  const names = model.backends.map((b) => b.host);
  const results: VipHttpResult[] = vips.map((v, i) => {
    const mine = answers.filter((a) => a.url === urls[i] || hostOfUrl(a.url) === v.address);
    const res: VipHttpResult = { vip: v.address, network: v.network, url: urls[i], requests: mine.length, ok: 0, failures: {}, backends: {}, missingBackends: [] };
    for (const a of mine) {
      if (a.status === 200 && a.exit === 0) {
        res.ok++;
        const b = backendInBody(a.body, names) ?? '?';
        res.backends[b] = (res.backends[b] ?? 0) + 1;
      } else {
        const key = a.exit === 127 ? 'curl not found' : a.exit !== 0 ? `curl exit ${a.exit}` : `HTTP ${a.status}`;
        res.failures[key] = (res.failures[key] ?? 0) + 1;
      }
    }
    res.missingBackends = names.filter((n) => !res.backends[n]);
    return res;
  });
  const rows: CheckRow[] = results.map((x) => {
    const problems: string[] = [];
    if (x.requests < count) problems.push(`${x.requests}/${count} requests ran${!execOk(r) && x.requests === 0 ? ` (${why(r)})` : ''}`);
    const failed = x.requests - x.ok;
    if (failed > 0) problems.push(`${failed}/${x.requests} failed (${Object.entries(x.failures).map(([k, n]) => `${k} x${n}`).join(', ')})`);
    if (x.missingBackends.length) problems.push(`backend${x.missingBackends.length > 1 ? 's' : ''} ${x.missingBackends.join(', ')} never answered`);
    const spread = Object.entries(x.backends).map(([k, n]) => `${k} ${n}`).join(', ');
    return problems.length
      ? { check: 'http', host: probeHost, target: x.vip, ok: false, detail: `${x.url} from ${probeHost}: ${problems.join('; ')}${spread ? `; answers: ${spread}` : ''}` }
      : { check: 'http', host: probeHost, target: x.vip, ok: true, detail: `${x.ok}/${count} HTTP 200; ${spread}` };
  });
  return { host: probeHost, ok: rows.every((x) => x.ok), rows, count, vips: results };
}

// ---------------------------------------------------------------------------------------------
// Who curls what

export interface ProbeAssignment {
  host: string;
  /** VIP addresses this host requests. */
  vips: string[];
  /** True when an LB stands in (no probe has an address on the network). */
  isLb: boolean;
}

/**
 * Every probe (the probes group) requests the VIPs of its networks; a VIP whose network has no
 * probe is requested by a peer LB: an LB that is not its master (with an address on that network
 * when one has). `exclude` keeps hosts out (failover: the LB being failed).
 */
export function probeAssignments(model: HaModel, exclude: string[] = []): ProbeAssignment[] {
  const real = model.probes.filter((p) => !p.isLb && !exclude.includes(p.host));
  const out = new Map<string, ProbeAssignment>();
  const add = (host: string, vip: string, isLb: boolean) => {
    let a = out.get(host);
    if (!a) out.set(host, (a = { host, vips: [], isLb }));
    if (!a.vips.includes(vip)) a.vips.push(vip);
  };
  for (const vip of model.vips) {
    const probes = real.filter((p) => p.addresses[vip.network] !== undefined);
    if (probes.length) {
      for (const p of probes) add(p.host, vip.address, false);
      continue;
    }
    const peers = model.nodes.filter((n) => n.host !== vip.master && !vip.masters.includes(n.host) && !exclude.includes(n.host));
    const peer = peers.find((n) => n.addresses[vip.network] !== undefined) ?? peers[0];
    if (peer) add(peer.host, vip.address, true);
  }
  return [...out.values()];
}

// ---------------------------------------------------------------------------------------------
// The whole cluster

export type Connect = (host: string) => Promise<Transport>;

export interface VerifyOptions {
  /** Seconds of tcpdump per LB interface (default 4). */
  captureSeconds?: number;
  /** Requests per VIP per probe (default 20). */
  curlCount?: number;
  /** curl -m per request (default 2). */
  curlTimeoutS?: number;
  /** Which checks to run (default all three). */
  checks?: CheckKind[];
}

export interface VerifyReport {
  checks: CheckRow[];
  ok: boolean;
  /** Structured results per host, for the JSON report. */
  vipsHeld: VipsHeldResult[];
  adverts: AdvertsResult[];
  http: HttpResult[];
}

/** Memoise connections per host within one run (the caller owns and closes them). */
export function memoConnect(connect: Connect): Connect {
  const cache = new Map<string, Promise<Transport>>();
  return (host) => {
    let p = cache.get(host);
    if (!p) cache.set(host, (p = connect(host)));
    return p;
  };
}

const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * (a) on every LB, (b) on every LB (concurrently), (c) from every probe in turn (peer LBs for
 * networks without one). A host that cannot be reached or a check that throws becomes a failed row.
 */
export async function verifyCluster(model: HaModel, connect: Connect, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const kinds = opts.checks ?? ['vips-held', 'vrrp-adverts', 'http'];
  const conn = memoConnect(connect);
  const errorRow = (check: CheckKind, host: string, e: unknown): CheckRow => ({ check, host, target: '-', ok: false, detail: `${host}: ${errMsg(e)}` });
  const guard = async <R extends CheckResult>(check: CheckKind, host: string, run: (t: Transport) => Promise<R>): Promise<R | CheckRow> => {
    try {
      return await run(await conn(host));
    } catch (e) {
      return errorRow(check, host, e);
    }
  };
  const lbs = model.nodes.map((n) => n.host);
  const assignments = probeAssignments(model);
  const inTurn = oneAtATime();
  const curlFromProbesInTurn = () =>
    Promise.all(assignments.map((a) => inTurn(() => guard('http', a.host, (t) => curlVips(t, model, a.host, opts.curlCount ?? 20, { vips: a.vips, timeoutS: opts.curlTimeoutS })))));
  const [held, adverts, http] = await Promise.all([
    kinds.includes('vips-held') ? Promise.all(lbs.map((h) => guard('vips-held', h, (t) => checkVipsHeld(t, model, h)))) : [],
    kinds.includes('vrrp-adverts') ? Promise.all(lbs.map((h) => guard('vrrp-adverts', h, (t) => captureAdverts(t, model, h, opts.captureSeconds ?? 4)))) : [],
    kinds.includes('http') ? curlFromProbesInTurn() : [],
  ]);
  const rowsOf = (xs: Array<CheckResult | CheckRow>) => xs.flatMap((x) => ('rows' in x ? x.rows : [x]));
  const results = <R>(xs: Array<R | CheckRow>) => xs.filter((x): x is R => typeof x === 'object' && x !== null && 'rows' in x);
  const checks = [...rowsOf(held), ...rowsOf(adverts), ...rowsOf(http)];
  if (kinds.includes('http') && assignments.length === 0 && model.vips.length > 0) {
    checks.push({ check: 'http', host: '-', target: '-', ok: false, detail: 'no host can request the VIPs (no probe and no peer load balancer)' });
  }
  return {
    checks,
    ok: checks.every((c) => c.ok),
    vipsHeld: results<VipsHeldResult>(held),
    adverts: results<AdvertsResult>(adverts),
    http: results<HttpResult>(http),
  };
}

// ---------------------------------------------------------------------------------------------
// The summary table

export { textTable };

/** The verify summary: one line per check row, then the totals. */
export function formatVerifyTable(report: Pick<VerifyReport, 'checks' | 'ok'>): string {
  const rows = report.checks.map((c) => [c.check, c.host, c.target, c.ok ? 'ok' : 'FAIL', c.detail]);
  const failed = report.checks.filter((c) => !c.ok).length;
  const total = `${report.checks.length} check${report.checks.length === 1 ? '' : 's'}, ${failed} failed: ${report.ok ? 'the cluster works' : 'the cluster does NOT work as designed'}`;
  return `${textTable(['CHECK', 'HOST', 'TARGET', 'RESULT', 'DETAIL'], rows)}\n${total}\n`;
}

// ---------------------------------------------------------------------------------------------
// Waiting for convergence

export interface UntilOkOptions {
  /** Keep retrying a failing check until this many ms have passed since the first try. */
  withinMs: number;
  /** Pause between tries (default 1000 ms). */
  pauseMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Run a check until it passes or `withinMs` is over; the last result counts. Right after a
 * deploy the VIPs may still be moving (a restarted keepalived waits its master-down timer
 * before it preempts), so a first failure is not yet a verdict.
 */
export async function untilOk<R extends { ok: boolean }>(run: () => Promise<R>, o: UntilOkOptions): Promise<R & { tries: number }> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((res) => setTimeout(res, ms)));
  const now = o.now ?? (() => Date.now());
  const t0 = now();
  for (let tries = 1; ; tries++) {
    const r = await run();
    if (r.ok || now() - t0 >= o.withinMs || tries >= 1000) return { ...r, tries };
    await sleep(o.pauseMs ?? 1000);
  }
}
