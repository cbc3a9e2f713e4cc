// The gather sections as fact units: each is its part of the one gather script (shell text
// run after the prelude, printing its output after its marker lines) and a pure parser of that
// output into its fields of Facts. ./gather.ts builds the one-round-trip script from the units
// asked; ./parse-gather.ts runs the parsers of the sections an output holds.
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
import { sh, raw } from '../transport/quote.js';
import { FIREWALL_UNITS, FROM_PACKAGES, HEREDOC, KEEPALIVED_DPKG, MARKERS, isValidUnitName, type SectionName } from './gather-base.js';
import {
  parseCapSysTime, parseFirewall, parseFirewallTools, parseHostname, parseInit, parseKeepalivedVersion, parseOsRelease,
  parsePackageManager, parsePackagesDpkg, parsePackagesRpm, parseSelinux, parseServices, parseUid, parseVirt,
} from './parsers.js';
import { parseInterfacesJson, parseInterfacesText } from './parse-interfaces.js';
import type { Facts, OsFacts } from './types.js';

/** What a section's parser gets: its output by marker, and what the sections before it found. */
export interface SectionInput {
  out: ReadonlyMap<string, string>;
  /** The os family (from this output's os section, else the cache's), for the package sections. */
  family: OsFacts['family'];
  /** The fields parsed so far in this output (keepalived reads the packages list). */
  got: Partial<Facts>;
}

/** One gather section: its script part and its parser. */
export interface SectionUnit {
  section: SectionName;
  /** The markers its output prints; any of them shows the section ran. */
  markers: readonly string[];
  /** Its shell text; `with`: the other sections of the same script (they may share work). */
  part(services: readonly string[], with_: ReadonlySet<SectionName>): string;
  /** Its fields of Facts (only called when one of its markers is in the output). */
  parse(i: SectionInput): Partial<Facts>;
}

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

const text = (i: SectionInput, m: string) => i.out.get(m) ?? '';
const fixed = (p: string) => () => p;

/** Every section, in SECTIONS order: a script part and a parser each. */
export const SECTION_UNITS: readonly SectionUnit[] = [
  { section: 'os', markers: [MARKERS.os], part: fixed(PARTS.os), parse: (i) => ({ os: parseOsRelease(text(i, MARKERS.os)) }) },
  { section: 'hostname', markers: [MARKERS.hostname], part: fixed(PARTS.hostname), parse: (i) => ({ hostname: parseHostname(text(i, MARKERS.hostname)) }) },
  {
    section: 'packageManager',
    markers: [MARKERS.packageManager],
    part: fixed(PARTS.packageManager),
    parse: (i) => ({ packageManager: parsePackageManager(text(i, MARKERS.packageManager), i.family) }),
  },
  // No marker at all when neither dpkg-query nor rpm exists: parse-gather decides by the end marker.
  { section: 'packages', markers: [MARKERS.packagesDpkg, MARKERS.packagesRpm], part: fixed(PARTS.packages), parse: parsePackages },
  {
    section: 'services',
    markers: [MARKERS.services],
    part: (services, with_) => servicesPart([...services], { firewallUnits: with_.has('firewall') }),
    parse(i) {
      const init = i.out.has(MARKERS.init) ? parseInit(text(i, MARKERS.init)) : undefined;
      return { services: parseServices(text(i, MARKERS.services)), ...(init?.systemd !== undefined ? { systemd: init.systemd } : {}) };
    },
  },
  { section: 'selinux', markers: [MARKERS.selinux], part: fixed(PARTS.selinux), parse: (i) => ({ selinux: parseSelinux(text(i, MARKERS.selinux)) }) },
  {
    section: 'firewall',
    markers: [MARKERS.firewall],
    part: fixed(PARTS.firewall),
    parse: (i) => ({ firewall: parseFirewall(text(i, MARKERS.firewall)), firewallTools: parseFirewallTools(text(i, MARKERS.firewall)) }),
  },
  {
    section: 'interfaces',
    markers: [MARKERS.ipJson, MARKERS.ipText],
    part: fixed(PARTS.interfaces),
    parse(i) {
      const json = i.out.has(MARKERS.ipJson) ? parseInterfacesJson(text(i, MARKERS.ipJson)) : [];
      return { interfaces: json.length === 0 && i.out.has(MARKERS.ipText) ? parseInterfacesText(text(i, MARKERS.ipText)) : json };
    },
  },
  { section: 'virt', markers: [MARKERS.virt], part: fixed(PARTS.virt), parse: (i) => parseVirt(text(i, MARKERS.virt)) },
  {
    section: 'keepalived',
    markers: [MARKERS.keepalived],
    // The package's version is in the packages list when that is gathered too: no second dpkg-query.
    part: (_s, with_) => (with_.has('packages') ? PARTS.keepalived.replace(KEEPALIVED_DPKG, `echo '${FROM_PACKAGES}'`) : PARTS.keepalived),
    parse(i) {
      const k = text(i, MARKERS.keepalived);
      const v = k.includes(FROM_PACKAGES) ? i.got.packages?.keepalived : undefined;
      return { keepalivedVersion: parseKeepalivedVersion(v !== undefined ? `package-version=${v}` : k) };
    },
  },
  { section: 'clock', markers: [MARKERS.clock], part: fixed(PARTS.clock), parse: (i) => ({ canSetClock: parseCapSysTime(text(i, MARKERS.clock)) }) },
  { section: 'uid', markers: [MARKERS.uid], part: fixed(PARTS.uid), parse: (i) => ({ uid: parseUid(text(i, MARKERS.uid)) }) },
];

/** Both lists when both tools exist (rpm on Debian, dpkg from EPEL): the os family picks, else the longer. */
function parsePackages(i: SectionInput): Partial<Facts> {
  const dpkg = i.out.has(MARKERS.packagesDpkg) ? parsePackagesDpkg(text(i, MARKERS.packagesDpkg)) : null;
  const rpm = i.out.has(MARKERS.packagesRpm) ? parsePackagesRpm(text(i, MARKERS.packagesRpm)) : null;
  if (!dpkg || !rpm) return { packages: dpkg ?? rpm ?? {} };
  if (i.family === 'debian') return { packages: dpkg };
  if (i.family === 'redhat') return { packages: rpm };
  return { packages: Object.keys(rpm).length > Object.keys(dpkg).length ? rpm : dpkg };
}
