// Check (b): on the wire, each VRID is advertised by exactly one source, the intended master,
// with the intended priority, interval and VRRP version (tcpdump on every HA interface of an LB,
// with sudo; no -v, which would print a VRRPv2 password).
import { sh, type Shell } from '../transport/quote.js';
import { wireIntervalMs } from '../topology/show-timing.js';
import type { Transport } from '../transport/types.js';
import type { HaModel, HaNetwork, HaVip } from '../topology/types.js';
import { lbNode, masterOf, named, type CheckResult, type CheckRow } from './check-result.js';
import { fmtInterval, parseTcpdumpVrrp, summarizeAdverts, type VridSummary } from './parse.js';
import { why } from './why.js';

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

