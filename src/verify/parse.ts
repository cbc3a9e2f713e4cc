// Pure parsers for what verification reads off the hosts: tcpdump's one-line VRRP decode,
// `ip -j addr` (or `ip -o addr` where iproute2 lacks -j), the curl loop of curlVips and the
// JSON lines of the failover probe loop. Tested on output captured from keepalived 2.2.7 and
// tcpdump 4.99 (test/fixtures/verify/).

// ---------------------------------------------------------------------------------------------
// tcpdump VRRP lines
//
// tcpdump (print-vrrp.c, without -v, so no password is ever printed) writes:
//   v2: "<time> IP <src> > <dst>: VRRPv2, Advertisement, vrid 171, prio 100, authtype simple, intvl 1s, length 20"
//   v3: "<time> IP <src> > <dst>: VRRPv3, Advertisement, vrid 171, prio 100, intvl 10cs, length 12"
// The v2 interval is in seconds, the v3 interval in centiseconds. ", (ttl N)" follows the type
// when the TTL is not 255 (RFC 5798 requires 255: such an advert is dropped by keepalived).

export interface VrrpAdvert {
  /** Timestamp as printed ("18:08:43.316484"). */
  time: string;
  /** The same in seconds since midnight (NaN when tcpdump printed another format). */
  seconds: number;
  source: string;
  dest: string;
  version: 2 | 3;
  vrid: number;
  priority: number;
  /** Advertisement interval in ms (v2: whole seconds x 1000; v3: centiseconds x 10). */
  intervalMs: number;
  /** VRRPv2 only: "none", "simple", "ah" (tcpdump's names). */
  authType?: string;
  /** IP TTL, only when tcpdump printed it (it does so when the TTL is not 255). */
  ttl?: number;
  length: number;
}

export interface TcpdumpParse {
  adverts: VrrpAdvert[];
  /** VRRP lines that are not well-formed advertisements (other types, truncated "[|vrrp]"). */
  odd: string[];
}

const VRRP_LINE =
  /^(\S+)\s+(?:.*?\s)?IP\s+(\d{1,3}(?:\.\d{1,3}){3})\s+>\s+(\d{1,3}(?:\.\d{1,3}){3}):\s+VRRPv([23]),\s+Advertisement(?:,\s+\(ttl\s+(\d+)\))?,\s+vrid\s+(\d+),\s+prio\s+(\d+)(?:,\s+authtype\s+([^,]+))?,\s+intvl\s+(\d+)(s|cs),\s+length\s+(\d+)/;

function clockSeconds(time: string): number {
  const m = /^(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(time);
  if (!m) return NaN;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** One tcpdump line, or undefined when it is not a VRRP advertisement. */
export function parseVrrpLine(line: string): VrrpAdvert | undefined {
  const m = VRRP_LINE.exec(line.trim());
  if (!m) return undefined;
  const version = Number(m[4]) as 2 | 3;
  const unit = m[10];
  // A v2 line with "cs" or a v3 line with "s" is not something tcpdump prints.
  if ((version === 2) !== (unit === 's')) return undefined;
  const intvl = Number(m[9]);
  return {
    time: m[1],
    seconds: clockSeconds(m[1]),
    source: m[2],
    dest: m[3],
    version,
    vrid: Number(m[6]),
    priority: Number(m[7]),
    intervalMs: version === 2 ? intvl * 1000 : intvl * 10,
    ...(m[8] !== undefined ? { authType: m[8].trim() } : {}),
    ...(m[5] !== undefined ? { ttl: Number(m[5]) } : {}),
    length: Number(m[11]),
  };
}

/**
 * Every advertisement in tcpdump's output. tcpdump's own chatter ("listening on ...",
 * "N packets captured") and non-VRRP lines are ignored; VRRP lines that are not parseable
 * advertisements are returned in `odd`.
 */
export function parseTcpdumpVrrp(text: string): TcpdumpParse {
  const adverts: VrrpAdvert[] = [];
  const odd: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const a = parseVrrpLine(line);
    if (a) adverts.push(a);
    else if (/\bVRRPv\d/.test(line)) odd.push(line.trim());
  }
  return { adverts, odd };
}

export interface VridSource {
  source: string;
  count: number;
  /** Distinct values, ascending. */
  priorities: number[];
  intervalsMs: number[];
  versions: number[];
  first: string;
  last: string;
}

export interface VridSummary {
  vrid: number;
  /** One entry per source address, in order of first appearance. */
  sources: VridSource[];
}

const addSorted = (xs: number[], x: number) => {
  if (!xs.includes(x)) {
    xs.push(x);
    xs.sort((a, b) => a - b);
  }
};

/** Adverts grouped by VRID (ascending), then by source. */
export function summarizeAdverts(adverts: VrrpAdvert[]): VridSummary[] {
  const byVrid = new Map<number, Map<string, VridSource>>();
  for (const a of adverts) {
    let srcs = byVrid.get(a.vrid);
    if (!srcs) byVrid.set(a.vrid, (srcs = new Map()));
    let s = srcs.get(a.source);
    if (!s) srcs.set(a.source, (s = { source: a.source, count: 0, priorities: [], intervalsMs: [], versions: [], first: a.time, last: a.time }));
    s.count++;
    s.last = a.time;
    addSorted(s.priorities, a.priority);
    addSorted(s.intervalsMs, a.intervalMs);
    addSorted(s.versions, a.version);
  }
  return [...byVrid.entries()].sort((a, b) => a[0] - b[0]).map(([vrid, srcs]) => ({ vrid, sources: [...srcs.values()] }));
}

/** "1s" for VRRPv2-style whole seconds, "100ms" otherwise. */
export function fmtInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

// ---------------------------------------------------------------------------------------------
// ip addr

export interface IfAddr {
  ifname: string;
  address: string;
  prefix: number;
  secondary: boolean;
  label?: string;
}

/**
 * IPv4 addresses from `ip -j addr` (JSON) or `ip -o addr` (one line per address, for
 * iproute2 without -j). Throws on output that is neither.
 */
export function parseIpAddr(text: string): IfAddr[] {
  const t = text.trim();
  if (t === '') return [];
  if (t.startsWith('[')) {
    let data: unknown;
    try {
      data = JSON.parse(t);
    } catch (e) {
      throw new Error(`ip -j addr: not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(data)) throw new Error('ip -j addr: expected a JSON array');
    const out: IfAddr[] = [];
    for (const link of data as Array<Record<string, unknown>>) {
      const ifname = String(link.ifname ?? '');
      for (const a of (link.addr_info ?? []) as Array<Record<string, unknown>>) {
        if (a.family !== 'inet' || typeof a.local !== 'string') continue;
        out.push({
          ifname,
          address: a.local,
          prefix: Number(a.prefixlen),
          secondary: a.secondary === true,
          ...(typeof a.label === 'string' ? { label: a.label } : {}),
        });
      }
    }
    return out;
  }
  // `ip -o addr`: "3: eth1    inet 10.16.8.100/24 scope global secondary eth1\       valid_lft ..."
  const out: IfAddr[] = [];
  let sawLine = false;
  for (const line of t.split(/\r?\n/)) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\d{1,3}(?:\.\d{1,3}){3})\/(\d+)(.*)$/.exec(line.trim());
    if (/^\d+:\s+\S+\s+inet6?\s/.test(line.trim())) sawLine = true;
    if (!m) continue;
    const rest = m[4].split('\\')[0];
    const label = /\bscope\s+\S+\s+(?:(?:secondary|dynamic|noprefixroute|deprecated|tentative)\s+)*(\S+)\s*$/.exec(rest)?.[1];
    out.push({ ifname: m[1], address: m[2], prefix: Number(m[3]), secondary: /\bsecondary\b/.test(rest), ...(label ? { label } : {}) });
  }
  if (!sawLine) throw new Error(`ip addr: unrecognised output: ${t.slice(0, 120)}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Backend identification: the backend pages name their host ("Server web1 10.16.8.8").

/** The backend named in a page body (whole-word match; the longest name wins), or undefined. */
export function backendInBody(body: string, backendNames: string[]): string | undefined {
  let best: string | undefined;
  for (const name of backendNames) {
    if (!name) continue;
    const re = new RegExp(`(^|[^A-Za-z0-9_-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`);
    if (re.test(body) && (!best || name.length > best.length)) best = name;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// The curl loop of curlVips. For each request the remote loop prints the body, then
//   "\n@@PV <http_code> <url_effective>" (curl's -w; missing when curl did not run) and
//   "@@RC <curl exit code> <url>" (the shell's echo).

export const CURL_MARK = '@@PV';
export const CURL_RC_MARK = '@@RC';

export interface CurlAnswer {
  url: string;
  /** HTTP status; 0 when there was no answer. */
  status: number;
  /** curl's exit code (0 ok, 7 refused, 28 timeout, 127 no curl); -1 when the loop was cut short. */
  exit: number;
  /** The body (or, when curl did not run, what the shell said). */
  body: string;
}

const PV_LINE = new RegExp(`^(.*)${CURL_MARK} (\\d{3}) (\\S*)\\s*$`);
const RC_LINE = new RegExp(`^${CURL_RC_MARK} (\\d+)(?: (\\S+))?\\s*$`);

export function parseCurlLoop(text: string): CurlAnswer[] {
  const out: CurlAnswer[] = [];
  let body: string[] = [];
  let pending: { url: string; status: number; body: string } | undefined;
  for (const line of text.split('\n')) {
    const pv = PV_LINE.exec(line);
    if (pv) {
      if (pv[1]) body.push(pv[1]);
      if (pending) out.push({ ...pending, exit: -1 });
      pending = { url: pv[3], status: Number(pv[2]), body: body.join('\n').trim() };
      body = [];
      continue;
    }
    const rc = RC_LINE.exec(line);
    if (rc) {
      const exit = Number(rc[1]);
      if (pending) out.push({ ...pending, url: rc[2] ?? pending.url, exit });
      else out.push({ url: rc[2] ?? '', status: 0, exit: exit === 0 ? -1 : exit, body: body.join('\n').trim() });
      pending = undefined;
      body = [];
      continue;
    }
    body.push(line);
  }
  if (pending) out.push({ ...pending, exit: -1 });
  return out;
}

/** "http://10.16.8.100:80/" -> "10.16.8.100". */
export function hostOfUrl(url: string): string {
  const m = /^[a-z]+:\/\/\[?([^\]/:]+)/i.exec(url);
  return m ? m[1] : url;
}

// ---------------------------------------------------------------------------------------------
// The failover probe loop (python3 on the probe): one JSON object per request,
//   {"t": 1234, "s": 1190, "vip": "10.16.8.100", "ok": true, "status": 200, "backend": "web1"}
// t = ms since the loop started when the request finished, s = when it was sent.

export interface ProbeSample {
  /** ms since the loop started, when the request completed. */
  t: number;
  /** ms since the loop started, when the request was sent. */
  s: number;
  vip: string;
  ok: boolean;
  status: number;
  backend?: string;
  err?: string;
  /** Why it failed: "syn" (connect timed out: the SYN was dropped), "refused", "reset", "slow", "http", "error". */
  kind?: string;
}

export interface ProbeLoopParse {
  samples: ProbeSample[];
  /** The loop's closing line, when it printed one: {"end": t, "reason": "stop"|"duration"}. */
  end?: { t: number; reason: string };
  /** Epoch ms (probe's clock) at which the loop's clock was 0, from its {"start": ms} line. */
  origin?: number;
  /** Lines that were not JSON objects of the expected shape. */
  bad: string[];
}

export function parseProbeLoop(text: string): ProbeLoopParse {
  const samples: ProbeSample[] = [];
  const bad: string[] = [];
  let end: ProbeLoopParse['end'];
  let origin: number | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      bad.push(line);
      continue;
    }
    if (o && typeof o === 'object' && typeof o.start === 'number' && o.t === undefined) {
      origin = o.start;
      continue;
    }
    if (o && typeof o === 'object' && typeof o.end === 'number') {
      end = { t: o.end, reason: String(o.reason ?? '') };
      continue;
    }
    if (!o || typeof o !== 'object' || typeof o.t !== 'number' || typeof o.vip !== 'string' || typeof o.ok !== 'boolean') {
      bad.push(line);
      continue;
    }
    samples.push({
      t: o.t,
      s: typeof o.s === 'number' ? o.s : o.t,
      vip: o.vip,
      ok: o.ok,
      status: typeof o.status === 'number' ? o.status : 0,
      ...(typeof o.backend === 'string' && o.backend ? { backend: o.backend } : {}),
      ...(typeof o.err === 'string' && o.err ? { err: o.err } : {}),
      ...(typeof o.kind === 'string' && o.kind ? { kind: o.kind } : {}),
    });
  }
  return { samples, end, bad, ...(origin !== undefined ? { origin } : {}) };
}

export interface Outage {
  /** Completion time of the last OK before the failures (undefined: failing from the start). */
  lastOk?: number;
  /** Completion time of the first failure. */
  firstFailure: number;
  /** Completion time of the next OK (undefined: never answered again). */
  nextOk?: number;
  failures: number;
  /** nextOk - lastOk (or up to the last sample / from the first send when open-ended). */
  ms: number;
}

export interface GapResult {
  requests: number;
  failures: number;
  /**
   * Client-observed outage in ms: the longest interval from the last OK before a failure to
   * the next OK (completion times). 0 when nothing failed. When the VIP never answered again,
   * measured up to the last sample, and `recovered` is false.
   */
  gapMs: number;
  recovered: boolean;
  /** Every run of failures, in time order (more than one: the VIP flapped). */
  outages: Outage[];
  /** Longest time between two consecutive OKs over the whole loop (ms). */
  maxOkIntervalMs: number;
  /** OK answers per backend name. */
  backends: Record<string, number>;
  /** Failed requests per kind ("syn": dropped SYNs, "refused", "slow", ...; see ProbeSample.kind). */
  failureKinds: Record<string, number>;
}

/**
 * The requests after the last OK all connected but answered after the timeout (kind "slow"):
 * the VIP is held and served, the machine was busy as the loop stopped. Not an outage that
 * never ended (those fail with dropped SYNs or refusals).
 */
export function trailingSlowOnly(samples: ProbeSample[]): boolean {
  const xs = [...samples].sort((a, b) => a.s - b.s);
  const lastOk = xs.map((x) => x.ok).lastIndexOf(true);
  const tail = xs.slice(lastOk + 1);
  return lastOk >= 0 && tail.length > 0 && tail.every((x) => x.kind === 'slow');
}

/**
 * Gap of one VIP's samples (any order). Requests are taken in the order they were sent (a
 * request that timed out completes after later ones that succeeded, so completion order would
 * split one outage into many); the times measured are completion times.
 */
export function computeGap(samples: ProbeSample[]): GapResult {
  const xs = [...samples].sort((a, b) => a.s - b.s || a.t - b.t);
  const backends: Record<string, number> = {};
  const outages: Outage[] = [];
  let maxOk = 0;
  let lastOk: number | undefined;
  let open: Outage | undefined;
  for (const x of xs) {
    if (x.ok) {
      if (x.backend) backends[x.backend] = (backends[x.backend] ?? 0) + 1;
      if (lastOk !== undefined) maxOk = Math.max(maxOk, x.t - lastOk);
      if (open) {
        open.nextOk = x.t;
        open.ms = Math.max(0, x.t - (open.lastOk ?? xs[0].s));
        outages.push(open);
        open = undefined;
      }
      lastOk = Math.max(lastOk ?? x.t, x.t);
    } else if (open) {
      open.failures++;
    } else {
      open = { lastOk, firstFailure: x.t, failures: 1, ms: 0 };
    }
  }
  if (open) {
    open.ms = Math.max(0, Math.max(...xs.map((x) => x.t)) - (open.lastOk ?? xs[0].s));
    outages.push(open);
  }
  return {
    requests: xs.length,
    failures: xs.filter((x) => !x.ok).length,
    gapMs: outages.reduce((m, o) => Math.max(m, o.ms), 0),
    recovered: !open || trailingSlowOnly(xs),
    outages,
    maxOkIntervalMs: maxOk,
    backends,
    failureKinds: xs.filter((x) => !x.ok).reduce<Record<string, number>>((k, x) => ({ ...k, [x.kind ?? 'error']: (k[x.kind ?? 'error'] ?? 0) + 1 }), {}),
  };
}
