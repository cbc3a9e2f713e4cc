// Proves the result, last play of the site playbook (hosts: lb and probes). Nothing here
// changes a host, so every task reports ok or failed, never changed.
//   on a load balancer: (a) it holds exactly the VIPs it masters
//                       (b) on the wire, one advertiser per VRID: the master, its priority and interval
//   on a probe:         (c) every VIP of its networks answers HTTP 200, from every backend
//   (an LB stands in as probe for a network no probe is on)
import { defineRole, OpError, type Plan } from 'provision';
import { haModel, captureAdverts, checkVipsHeld, curlVips, failureMessage, oneAtATime, probeAssignments, untilOk, type CheckResult } from 'provision/ha';

function num(v: unknown, dflt: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : dflt;
}

/** A check result as a plan: ok (never changed) with a summary, or a failed task naming what is wrong. */
function verdict(r: CheckResult & { tries: number }): Plan {
  if (!r.ok) throw new OpError(failureMessage(r) + (r.tries > 1 ? ` (still failing after ${r.tries} tries)` : ''));
  const ok = r.rows.filter((x) => x.ok && !x.target.includes('not in model'));
  return { changed: false, message: ok.map((x) => `${x.target}: ${x.detail}`).join('; ') };
}

export default defineRole({
  name: 'verify',
  facts: [],
  async tasks(r) {
    const model = haModel(r);
    const host = r.host.name;
    const isLb = model.nodes.some((n) => n.host === host);
    const curlFor = probeAssignments(model).find((a) => a.host === host);
    const within = num(r.vars.verify_settle_seconds, 15) * 1000;
    const seconds = num(r.vars.verify_capture_seconds, 4) || 4;
    const count = Math.max(1, Math.round(num(r.vars.verify_curl_count, 20)));
    const live = { when: !r.check, skipReason: 'check mode: nothing was deployed to verify' };

    if (isLb) {
      await r.task('this LB holds exactly the VIPs it masters', async (c) => verdict(await untilOk(() => checkVipsHeld(c.transport, model, host), { withinMs: within })), live);
      await r.task(`one VRRP advertiser per VRID, the master (tcpdump ${seconds} s)`, async (c) => verdict(await untilOk(() => captureAdverts(c.transport, model, host, seconds), { withinMs: within })), live);
    }
    if (curlFor) {
      // The probes curl in turn, not at once (see oneAtATime); each has its whole settle window
      // from the start of its turn.
      const inTurn = r.once('verify:http-in-turn', oneAtATime);
      await r.task(`every VIP answers HTTP 200 from every backend (${count} requests each)`, async (c) => verdict(await inTurn(() => untilOk(() => curlVips(c.transport, model, host, count, { vips: curlFor.vips }), { withinMs: within }))), live);
    } else if (!isLb) {
      await r.skip('every VIP answers HTTP 200 from every backend', 'no VIP on this host\'s networks');
    }
  },
});
