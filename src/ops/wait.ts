// wait_for: wait on the host until a TCP port answers (or stops answering) or a path exists
// (or is gone, or holds a pattern). One command polls on the host; nothing is changed.
import { sh, type Shell } from '../transport/quote.js';
import type { Plan } from './types.js';
import { OpError } from './types.js';
import { defineOperation } from './operation.js';
import { t } from './schema.js';

/** A poll loop in sh: `check` every `sleep` s until it succeeds (exit 0) or `timeout` s pass (exit 1). */
export function pollScript(check: Shell, timeout: number, sleep: number, delay: number): Shell {
  return sh`sleep ${delay}; end=$(( $(date +%s) + ${timeout} )); while :; do if ${check}; then exit 0; fi; [ "$(date +%s)" -ge "$end" ] && exit 1; sleep ${sleep}; done`;
}

export const waitFor = defineOperation({
  summary: 'Wait until a port on (or seen from) the host answers or closes, or a path appears, disappears or holds a pattern.',
  ansible: 'ansible.builtin.wait_for',
  options: {
    port: t.number('TCP port to connect to'),
    host: t.string('address the port is on, as the host reaches it', { default: '"127.0.0.1"' }),
    path: t.string('a file to wait for'),
    search_regex: t.string('with path: an extended regular expression its content must match'),
    state: t.oneOf(['started', 'stopped', 'present', 'absent'], 'started/present: wait until it is there; stopped/absent: until gone', { default: 'started' }),
    timeout: t.number('seconds before the task fails', { default: '300' }),
    delay: t.number('seconds before the first check', { default: '0' }),
    sleep: t.number('seconds between checks', { default: '1' }),
  },
  reads: 'polls on the host: a TCP connect through bash\'s /dev/tcp, or test -e / grep -E on the path',
  changes: 'nothing (always ok, or failed at the timeout)',
  checkMode: 'waits in --check too (it changes nothing)',
  example: `await r.waitFor('app listening', { port: 8080, timeout: 30 });`,
  async run(ctx, spec): Promise<Plan> {
    if ((spec.port === undefined) === (spec.path === undefined)) throw new OpError('wait_for: give exactly one of "port" and "path"');
    const gone = spec.state === 'stopped' || spec.state === 'absent';
    let check: Shell;
    let what: string;
    if (spec.port !== undefined) {
      const host = spec.host ?? '127.0.0.1';
      const connect = sh`timeout 2 bash -c ${'exec 3<>"/dev/tcp/$1/$2"'} _ ${host} ${String(spec.port)} 2>/dev/null`;
      check = gone ? sh`! ${connect}` : connect;
      what = `port ${host}:${spec.port} ${gone ? 'closed' : 'open'}`;
    } else {
      const p = spec.path!;
      check = gone ? (spec.search_regex ? sh`! grep -Eq -- ${spec.search_regex} ${p} 2>/dev/null` : sh`[ ! -e ${p} ]`) : spec.search_regex ? sh`grep -Eq -- ${spec.search_regex} ${p} 2>/dev/null` : sh`[ -e ${p} ]`;
      what = `${p} ${gone ? 'absent' : spec.search_regex ? `matches ${spec.search_regex}` : 'present'}`;
    }
    const timeout = spec.timeout ?? 300;
    const t0 = Date.now();
    // Not a read (its answer must be now, not the run's read-ahead): it goes to the host live.
    const r = await ctx.transport.exec(pollScript(check, timeout, spec.sleep ?? 1, spec.delay ?? 0), { timeoutMs: (timeout + (spec.delay ?? 0) + 30) * 1000 });
    if (r.code !== 0) throw new OpError(`wait_for: timed out after ${timeout} s waiting for ${what}`);
    return { changed: false, message: `${what} after ${((Date.now() - t0) / 1000).toFixed(1)} s` };
  },
});
