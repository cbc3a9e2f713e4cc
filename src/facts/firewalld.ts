// firewalld's state, read over D-Bus (dbus-send, else busctl; no Python start) or firewall-cmd:
// `firewalldBus()` (default zone and active zones) and `firewalldZones(via, ...zones)` (runtime
// and permanent settings of those zones). Their answers are parsed where they are used
// (src/ops/firewall.ts readFirewalldBus), which knows the two reply formats.
import { sh, raw } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';
import { defineFact } from './fact.js';

export const FWD = 'org.fedoraproject.FirewallD1';
export const FWD_PATH = '/org/fedoraproject/FirewallD1';
export const ZONE_NAME = /^[A-Za-z0-9_+\-/]{1,64}$/;
const call = `busctl --json=short call ${FWD}`;
const send = `dbus-send --system --print-reply --dest=${FWD}`;
const asIs = (r: ExecResult): ExecResult => ({ ...r });

/**
 * firewalld answers on the bus only while it runs: a failed getDefaultZone is "not running",
 * unless the client itself is missing or too old (exit 3: then firewall-cmd is asked).
 * dbus-send's replies are several lines each: a line `@@<what>` comes before each.
 */
export const firewalldBus = defineFact({
  name: 'firewalldBus',
  arity: 0,
  command: () => sh`if command -v dbus-send >/dev/null 2>&1; then
d=$(${raw(send)} ${FWD_PATH} ${FWD}.getDefaultZone 2>&1) || { printf 'down\t%s\n' "$d"; exit 0; }
printf '@@default\n%s\n@@active\n' "$d"; ${raw(send)} ${FWD_PATH} ${FWD}.zone.getActiveZones || exit 3; exit 0; fi
command -v busctl >/dev/null 2>&1 || exit 3
d=$(${raw(call)} ${FWD_PATH} ${FWD} getDefaultZone 2>&1) || { printf 'down\t%s\n' "$d"; exit 0; }
printf 'default\t%s\n' "$d"
printf 'active\t'; ${raw(call)} ${FWD_PATH} ${FWD + '.zone'} getActiveZones || exit 3`,
  parse: asIs,
});

/** The runtime and permanent settings of zones; `via` is 'send' (dbus-send) or 'busctl'. */
export const firewalldZones = defineFact<[string, ...string[]], ExecResult>({
  name: 'firewalldZones',
  arity: -1,
  command(via: string, ...zones: string[]) {
    if (!zones.every((z) => ZONE_NAME.test(z))) throw new Error(`not a firewalld zone name: ${JSON.stringify(zones)}`);
    return via === 'send'
      ? sh`for z in ${zones}; do printf '@@runtime\t%s\n' "$z"; ${raw(send)} ${FWD_PATH} ${FWD}.zone.getZoneSettings2 string:"$z" || exit 3
p=$(${raw(send)} ${FWD_PATH}/config ${FWD}.config.getZoneByName string:"$z"); p=\${p#*'"'}; p=\${p%%'"'*}
[ -n "$p" ] || exit 3
printf '@@permanent\t%s\n' "$z"; ${raw(send)} "$p" ${FWD}.config.zone.getSettings2 || exit 3; done`
      : sh`for z in ${zones}; do printf 'runtime\t%s\t' "$z"; ${raw(call)} ${FWD_PATH} ${FWD + '.zone'} getZoneSettings2 s "$z" || exit 3
p=$(busctl call ${FWD} ${FWD_PATH}/config ${FWD + '.config'} getZoneByName s "$z"); p=\${p#*'"'}; p=\${p%%'"'*}
[ -n "$p" ] || exit 3
printf 'permanent\t%s\t' "$z"; ${raw(call)} "$p" ${FWD + '.config.zone'} getSettings2 || exit 3; done`;
  },
  parse: asIs,
});

/** `firewall-cmd --state`: "running", or why not. */
export const firewalldState = defineFact({
  name: 'firewalldState',
  arity: 0,
  command: () => sh`firewall-cmd --state`,
  parse: (r: ExecResult) => ({ running: r.stdout.trim() === 'running', message: (r.stderr || r.stdout).trim() }),
});
