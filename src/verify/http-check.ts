// Check (c): from a probe, every VIP answers HTTP 200 and every backend answers (one remote
// curl loop per probe, each answer framed by markers).
import { sh, type Shell } from '../transport/quote.js';
import type { Transport } from '../transport/types.js';
import type { HaModel } from '../topology/types.js';
import type { CheckResult, CheckRow } from './check-result.js';
import { backendInBody, hostOfUrl, parseCurlLoop, CURL_MARK, CURL_RC_MARK } from './parse.js';
import { probeAddresses } from './probes.js';
import { why } from './why.js';

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

export interface CurlOptions {
  /** Only these VIP addresses (default: every VIP on a network the probe has an address on). */
  vips?: string[];
  /** Per-request timeout in seconds (curl -m). */
  timeoutS?: number;
  /** Port nginx listens on (default: the model's listenPort). */
  port?: number;
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
    if (x.requests < count) problems.push(`${x.requests}/${count} requests ran${r.code !== 0 && x.requests === 0 ? ` (${why(r)})` : ''}`);
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

