// The one remote command that gathers every fact of a host in a single round trip.
//
// The script is POSIX sh (dash on Debian, bash on RHEL), runs as the login user (no sudo),
// sets LC_ALL=C so messages are not translated, and never stops on a failing or missing
// command: every section is printed after a marker line `@@provision:<name>@@` and the
// parsers in ./parsers.ts turn a missing or odd section into "unknown"/empty.
//
// Why some sections look the way they do:
// - PATH gets the sbin directories appended: a non-root login on Debian has no /usr/sbin
//   in PATH, where keepalived, nft and iptables live.
// - services: `systemctl show` needs a running systemd (PID 1); when it fails ("System has
//   not been booted with systemd as init system"), `systemctl is-enabled` still answers,
//   because it only reads unit files.
// - clock: see the comment on the clock section below.
// - The script is passed as ONE argument to `sh -c`, so it runs in sh whatever the login
//   shell is (bash, zsh, fish, csh).
import { sh, raw, type Shell } from '../transport/quote.js';

/** The units whose state the firewall section reports (in this order). */
const FIREWALL_UNITS = ['firewalld', 'nftables', 'iptables'];
const HEREDOC = 'PROVISION_UNITS_END';
const KEEPALIVED_DPKG = `dpkg-query -W -f 'package-version=\${Version}\\n' keepalived 2>/dev/null`;
/** Printed by the keepalived section instead of the version when the packages list holds it. */
export const FROM_PACKAGES = 'package-version=from-packages';

export const MARKER_PREFIX = '@@provision:';
export const MARKER_SUFFIX = '@@';

/** The marker line that opens a section of the gather output. */
export function marker(name: string): string {
  return `${MARKER_PREFIX}${name}${MARKER_SUFFIX}`;
}

/** Facts that can be gathered (or re-gathered) on their own. */
export const SECTIONS = [
  'os',
  'hostname',
  'packageManager',
  'packages',
  'services',
  'selinux',
  'firewall',
  'interfaces',
  'virt',
  'keepalived',
  'clock',
  'uid',
] as const;
export type SectionName = (typeof SECTIONS)[number];

/** Marker names printed in the output (a section may print more than one, e.g. packages). */
export const MARKERS = {
  begin: 'begin',
  end: 'end',
  os: 'os',
  hostname: 'hostname',
  packageManager: 'pm',
  packagesDpkg: 'packages-dpkg',
  packagesRpm: 'packages-rpm',
  services: 'services',
  init: 'init',
  selinux: 'selinux',
  firewall: 'firewall',
  ipJson: 'ip-json',
  ipText: 'ip-text',
  virt: 'virt',
  keepalived: 'keepalived',
  clock: 'clock',
  uid: 'uid',
} as const;

/** systemd unit names: letters, digits, ":-_.\@" (systemd.unit(5)); refuse anything else. */
const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+$/;

export function isValidUnitName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && UNIT_NAME.test(name);
}

const PRELUDE = `LC_ALL=C; export LC_ALL
PATH="\${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"; export PATH
has() { command -v "$1" >/dev/null 2>&1; }
m() { printf '\\n${MARKER_PREFIX}%s${MARKER_SUFFIX}\\n' "$1"; }
CR='\r'
first() { IFS= read -r l || [ -n "$l" ]; printf '%s\\n' "\${l%"$CR"}"; }
lines() { while IFS= read -r l || [ -n "$l" ]; do printf '%s%s\\n' "$1" "$l"; done; }
m ${MARKERS.begin}`;

// Each part is trusted shell text written here; the only outside values (unit names) go
// through `sh`/`q` in servicesPart().
const PARTS: Record<Exclude<SectionName, 'services'>, string> = {
  os: `m ${MARKERS.os}
if [ -r /etc/os-release ]; then lines < /etc/os-release; elif [ -r /usr/lib/os-release ]; then lines < /usr/lib/os-release; fi`,

  hostname: `m ${MARKERS.hostname}
if [ -r /proc/sys/kernel/hostname ]; then first < /proc/sys/kernel/hostname; else uname -n 2>/dev/null; fi`,

  packageManager: `m ${MARKERS.packageManager}
for c in apt-get dnf yum dpkg-query rpm; do has "$c" && printf '%s\\n' "$c"; done`,

  // Both lists when both tools exist (rpm on Debian, dpkg from EPEL); the parser picks by family.
  packages: `if has dpkg-query; then m ${MARKERS.packagesDpkg}
dpkg-query -W -f '\${Package}\\t\${Version}\\t\${db:Status-Abbrev}\\n' 2>/dev/null; fi
if has rpm; then m ${MARKERS.packagesRpm}
rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n' 2>/dev/null; fi`,

  selinux: `m ${MARKERS.selinux}
if has getenforce; then printf 'getenforce=%s\\n' "$(getenforce 2>&1 | first)"; fi
if [ -r /sys/fs/selinux/enforce ]; then printf 'enforce=%s\\n' "$(first < /sys/fs/selinux/enforce)"; fi
if [ -r /etc/selinux/config ]; then grep -E '^SELINUX=' /etc/selinux/config 2>/dev/null | sed 's/^/config-/'; fi`,

  // Rule sets are readable only by root: as a plain user the service states decide, and
  // `nft list ruleset` / `iptables -S` are not started only to be refused (the uid comes from
  // /proc/self/status, read by the shell itself).
  firewall: `m ${MARKERS.firewall}
for c in firewall-cmd nft iptables; do has "$c" && printf 'bin=%s\\n' "$c"; done
# One systemctl for the three units: its answers, a line each in argument order, become $1 $2 $3.
# (The services section, when it ran just before, already has their states: $fw is set then.)
set --
if [ -n "\${fw+x}" ]; then set -- $fw
printf 'unit-firewalld=%s\\nunit-nftables=%s\\nunit-iptables=%s\\n' "$1" "$2" "$3"
elif has systemctl; then set -- $(systemctl is-active -- ${FIREWALL_UNITS.join(' ')} 2>/dev/null)
printf 'unit-firewalld=%s\\nunit-nftables=%s\\nunit-iptables=%s\\n' "$1" "$2" "$3"; fi
if has firewall-cmd && [ "$1" != active ]; then printf 'firewall-cmd-state=%s\\n' "$(firewall-cmd --state 2>&1 | first)"; fi
u=; if [ -r /proc/self/status ]; then while read -r k r e _; do if [ "$k" = Uid: ]; then u=$e; break; fi; done < /proc/self/status; fi
if [ "$u" != 0 ] && [ -n "$u" ]; then printf 'rulesets=not read: readable only by root\\n'
else
if has nft; then if o=$(nft list ruleset 2>&1); then printf 'nft-tables=%s\\n' "$(printf '%s\\n' "$o" | grep -c '^table ')"; else printf 'nft-error=%s\\n' "$(printf '%s\\n' "$o" | first)"; fi; fi
if has iptables; then printf 'iptables-version=%s\\n' "$(iptables --version 2>&1 | first)"
if o=$(iptables -S 2>&1); then printf 'iptables-rules=%s\\n' "$(printf '%s\\n' "$o" | grep -c '^-A ')"; else printf 'iptables-error=%s\\n' "$(printf '%s\\n' "$o" | first)"; fi; fi
fi`,

  // JSON when iproute2 supports -j (RHEL 8+, Debian 10+); the full text form otherwise.
  interfaces: `if has ip; then
if o=$(ip -j addr 2>/dev/null) && [ -n "$o" ]; then m ${MARKERS.ipJson}; printf '%s\\n' "$o"
else m ${MARKERS.ipText}; ip addr 2>&1; fi; fi`,

  // systemd-detect-virt prints "none" (exit 1) on bare metal; the files are hints for
  // minimal containers without it.
  virt: `m ${MARKERS.virt}
if [ -r /run/systemd/container ]; then printf 'hint=%s\\n' "$(first < /run/systemd/container)"
else if has systemd-detect-virt; then printf 'virt=%s\\n' "$(systemd-detect-virt 2>/dev/null | first)"
printf 'container=%s\\n' "$(systemd-detect-virt --container 2>/dev/null | first)"; fi
if [ -e /.dockerenv ]; then echo 'hint=docker'; fi
if [ -e /run/.containerenv ]; then echo 'hint=podman'; fi; fi`,

  // keepalived prints its version on stderr.
  keepalived: `m ${MARKERS.keepalived}
if has keepalived; then if [ -e /var/lib/dpkg/info/keepalived.list ] && has dpkg-query; then ${KEEPALIVED_DPKG}
else keepalived --version 2>&1 | first; fi; fi`,

  // Can the host set its clock? The login user is not root, so its own CapEff says nothing
  // about what root (sudo, or a time daemon started by PID 1) may do. Every process's
  // capabilities are capped by its bounding set, inherited from PID 1 down through sshd and
  // sudo; a container runtime (docker, systemd-nspawn) drops CAP_SYS_TIME from the bounding
  // set of the container's PID 1. So the answer is bit 25 of PID 1's CapBnd (the session's
  // own CapBnd when /proc/1/status is hidden). In a user namespace that is not the initial
  // one (uid_map is not "0 0 4294967295") the capability does not reach the clock at all.
  clock: `m ${MARKERS.clock}
if [ -r /proc/self/status ]; then while IFS= read -r l; do case $l in CapEff:*|CapBnd:*) printf 'self:%s\\n' "$l";; esac; done < /proc/self/status; fi
if [ -r /proc/1/status ]; then while IFS= read -r l; do case $l in CapBnd:*) printf 'init:%s\\n' "$l";; esac; done < /proc/1/status; fi
if [ -r /proc/self/uid_map ]; then lines uid_map: < /proc/self/uid_map; fi`,

  // The effective uid (the 2nd field of Uid:), as \`id -u\` prints it, without starting it.
  uid: `m ${MARKERS.uid}
u=; if [ -r /proc/self/status ]; then while read -r k r e _; do if [ "$k" = Uid: ]; then u=$e; break; fi; done < /proc/self/status; fi
if [ -n "$u" ]; then echo "$u"; else id -u 2>/dev/null; fi`,
};

/**
 * The services section. Per unit: `unit=<name>`, then `systemctl show` properties, or when
 * show fails its message as `error=` lines and the offline answer of `is-enabled`.
 */
function servicesPart(services: string[], opts: { firewallUnits?: boolean } = {}): string {
  const units = [...new Set(services)];
  // The firewall section's units, asked in the same systemctl call when that section runs too;
  // those nobody asked for are not printed (they are not services of the roles).
  const extra = opts.firewallUnits ? FIREWALL_UNITS.filter((u) => !units.includes(u)) : [];
  const all = [...units, ...extra];
  for (const u of all) {
    if (!isValidUnitName(u)) throw new Error(`not a systemd unit name: ${JSON.stringify(u)}`);
  }
  const head = `m ${MARKERS.init}
if [ -d /run/systemd/system ]; then echo 'booted=yes'; else echo 'booted=no'; fi
if [ -r /proc/1/comm ]; then printf 'pid1=%s\\n' "$(first < /proc/1/comm)"; fi
m ${MARKERS.services}`;
  if (all.length === 0) return head;
  // One `systemctl show` for every unit (its blocks come in argument order, separated by an
  // empty line); per unit with the offline fallback only when that fails (no running systemd;
  // then every unit gets the same error, so `systemctl show` runs once, not once per unit).
  // The loop reads a here-document, not a pipe, so it runs in this shell (no fork) and can
  // leave the firewall units' states in $fw for the firewall section (no second systemctl).
  const keep = opts.firewallUnits
    ? `case $u:$l in ${FIREWALL_UNITS.map((u) => `${u}:ActiveState=*) a_${u}=\${l#ActiveState=};;`).join(' ')} esac; `
    : '';
  const head1 = extra.length ? `case $u in ${extra.join('|')}) x=1;; *) x=; printf 'unit=%s\\n' "$u";; esac` : `printf 'unit=%s\\n' "$u"`;
  const print = extra.length ? `[ -n "$x" ] || printf '%s\\n' "$l"` : `printf '%s\\n' "$l"`;
  const after = opts.firewallUnits ? `\nfw="${FIREWALL_UNITS.map((u) => `\${a_${u}:-unknown}`).join(' ')}"` : '';
  const fallback = units.length
    ? sh`nb=; for u in ${units}; do printf 'unit=%s\\n' "$u"
if ! has systemctl; then echo 'error=systemctl: command not found'
elif [ -n "$nb" ]; then printf '%s\\n' "$nb"; printf 'is-enabled=%s\\n' "$(systemctl is-enabled -- "$u" 2>&1 | first)"
elif o=$(systemctl show -p LoadState -p ActiveState -p UnitFileState -- "$u" 2>&1); then printf '%s\\n' "$o"
else o=$(printf '%s\\n' "$o" | lines error=); printf '%s\\n' "$o"; [ -d /run/systemd/system ] || nb=$o
printf 'is-enabled=%s\\n' "$(systemctl is-enabled -- "$u" 2>&1 | first)"; fi
done`.text
    : ':';
  const loop = sh`if has systemctl && o=$(systemctl show -p LoadState -p ActiveState -p UnitFileState -- ${all} 2>/dev/null); then
{ for u in ${all}; do ${raw(head1)}; while IFS= read -r l && [ -n "$l" ]; do ${raw(keep)}${raw(print)}; done; done; } <<${raw(HEREDOC)}
$o
${raw(HEREDOC)}${raw(after)}
else ${raw(fallback)}; fi`;
  return `${head}\n${loop.text}`;
}

export interface GatherOptions {
  /** systemd units whose state to report (the union of the services the roles mention). */
  services: string[];
  /** Only these sections (default: all). Used to refresh part of the cache cheaply. */
  sections?: readonly SectionName[];
}

/** The script text (what runs inside `sh -c`). */
export function gatherScriptBody(opts: GatherOptions): string {
  const wanted = new Set<SectionName>(opts.sections ?? SECTIONS);
  const parts = [PRELUDE];
  for (const s of SECTIONS) {
    if (!wanted.has(s)) continue;
    if (s === 'services') parts.push(servicesPart(opts.services, { firewallUnits: wanted.has('firewall') }));
    // The package's version is in the packages list when that is gathered too: no second dpkg-query.
    else if (s === 'keepalived' && wanted.has('packages')) parts.push(PARTS.keepalived.replace(KEEPALIVED_DPKG, `echo '${FROM_PACKAGES}'`));
    else parts.push(PARTS[s]);
  }
  parts.push(`m ${MARKERS.end}`, 'exit 0');
  return parts.join('\n') + '\n';
}

/**
 * The gather command: `sh -c '<script>'`, one round trip, run as the login user.
 * Throws only on a service name that is not a systemd unit name (a programming error).
 */
export function gatherScript(opts: GatherOptions): Shell {
  return sh`sh -c ${gatherScriptBody(opts)}`;
}

/** One small command that reports one or more units, in the services section format. */
export function serviceStateScript(services: string[]): Shell {
  return gatherScript({ services, sections: ['services'] });
}
