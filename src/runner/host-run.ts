// One host in one play: connect (or take the kept connection), run the play's roles in order,
// and end the host ok, failed, interrupted or unreachable, as the record and the events say.
import { HostError } from '../errors.js';
import type { Host } from '../inventory/types.js';
import type { Transport } from '../transport/types.js';
import { redact } from '../report/redact.js';
import type { Play } from './playbook.js';
import { runRole, type RunState } from './role-run.js';
import { Interrupted, TaskFailed } from './task.js';

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Run `play`'s roles on `host`; false when the host failed or was lost (it then leaves the run). */
export async function runHost(run: RunState, play: Play, host: Host): Promise<boolean> {
  const { o, recorder } = run;
  const t0 = Date.now();
  recorder.emit({ type: 'host-start', host: host.name });
  const s = recorder.summary(host.name);
  let transport: Transport;
  try {
    transport = await o.connect(host);
  } catch (e) {
    recorder.unreachable(host.name, redact(messageOf(e)));
    return false;
  }
  o.readAhead?.start(host.name, transport);
  try {
    for (const ref of play.roles) await runRole(run, play, ref, host, transport);
    recorder.emit({ type: 'host-end', host: host.name, status: 'ok' });
    return true;
  } catch (e) {
    // Unreachable: the connection was lost, or a failure was followed at once by the loss of
    // the connection (a host powered off while a command ran: "Killed", then it drops).
    const lost =
      e instanceof HostError && e.kind === 'unreachable'
        ? e.message
        : !(e instanceof Interrupted) && (await transport.lostWithin?.(1500).catch(() => false))
          ? `connection to ${host.name} lost (${s.message ?? messageOf(e)})`
          : undefined;
    if (lost !== undefined) recorder.unreachable(host.name, redact(lost));
    else if (e instanceof Interrupted) {
      s.status = 'interrupted';
      recorder.emit({ type: 'host-end', host: host.name, status: 'interrupted' });
    } else {
      s.status = 'failed';
      if (!(e instanceof TaskFailed)) {
        s.failed++;
        s.message = redact(messageOf(e));
      }
      recorder.emit({ type: 'host-end', host: host.name, status: 'failed', message: s.message });
    }
    return false;
  } finally {
    s.time += Date.now() - t0;
  }
}
