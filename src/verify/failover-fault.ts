// The faults a failover injects on an LB, and how each is repaired: nginx killed (by pid),
// keepalived stopped, or the power cut (a callback; the lab's labPowerOff / labPowerOn).
import { sh } from '../transport/quote.js';
import type { FailoverCtx, FailoverLbResult, Fault } from './failover-types.js';
import { why } from './why.js';

export function faultFor(c: FailoverCtx, lb: string, res: FailoverLbResult): Fault {
  const { o } = c;
  const svc = o.service;
  const sudoExec = async (cmd: ReturnType<typeof sh>, what: string, timeoutMs: number) => {
    const r = await (await c.conn(lb)).exec(cmd, { sudo: true, timeoutMs });
    if (r.code !== 0) throw new Error(`${what} on ${lb} failed: ${why(r)}`);
  };
  switch (o.mode) {
    case 'nginx':
      return {
        needs: [svc],
        // The main process and its children by pid: `systemctl kill` signals the unit's cgroup,
        // which systemd cannot do inside an nspawn container here (EIO); workers survived holding
        // port 80 and the restart failed. Killing by pid works the same on every host.
        injectLabel: `kill -KILL the ${svc} main process and its children`,
        inject: () =>
          sudoExec(
            // A child may exit between pgrep and kill ("No such process"): only the main
            // process's kill must succeed; the children are killed where they still exist.
            sh`pid=$(systemctl show -p MainPID --value ${svc}) && [ "$pid" -gt 0 ] && kids=$(pgrep -P $pid; true) && kill -KILL $pid && { [ -z "$kids" ] || kill -KILL $kids 2>/dev/null; true; } && while kill -0 $pid 2>/dev/null; do sleep 0.02; done`,
            `killing ${svc}`,
            30_000,
          ),
        repairLabel: `systemctl start ${svc}`,
        repair: () => sudoExec(sh`systemctl start ${svc}`, `systemctl start ${svc}`, 60_000),
      };
    case 'keepalived':
      return {
        needs: [svc, 'keepalived'],
        injectLabel: 'systemctl stop keepalived',
        inject: () => sudoExec(sh`systemctl stop keepalived`, 'systemctl stop keepalived', 60_000),
        repairLabel: 'systemctl start keepalived',
        repair: () => sudoExec(sh`systemctl start keepalived`, 'systemctl start keepalived', 60_000),
      };
    case 'poweroff': {
      const power = o.power;
      if (!power) throw new Error('failover mode poweroff needs a power control (labPowerOff/labPowerOn in the lab)');
      return {
        needs: [svc, 'keepalived'],
        injectLabel: 'power off (NICs without carrier, every process killed)',
        inject: async () => {
          c.off.add(lb);
          await power.off(lb);
        },
        repairLabel: 'power on and boot',
        repair: async () => {
          const t0 = o.now();
          await power.on(lb);
          await c.renew(lb);
          c.off.delete(lb);
          res.bootMs = o.now() - t0;
        },
      };
    }
  }
}

