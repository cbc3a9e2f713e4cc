// What every gather section shares: the section names, the marker lines that open each
// section's output (`@@provision:<name>@@`) and the prelude (sh helpers). The sections
// themselves are ./sections.ts; the combined script ./gather.ts.

/** The units whose state the firewall section reports (in this order). */
export const FIREWALL_UNITS = ['firewalld', 'nftables', 'iptables'];
export const HEREDOC = 'PROVISION_UNITS_END';
export const KEEPALIVED_DPKG = `dpkg-query -W -f 'package-version=\${Version}\\n' keepalived 2>/dev/null`;
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

/** sh helpers every section uses (has, m, first, lines), then the begin marker. */
export const PRELUDE = `LC_ALL=C; export LC_ALL
PATH="\${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"; export PATH
has() { command -v "$1" >/dev/null 2>&1; }
m() { printf '\\n${MARKER_PREFIX}%s${MARKER_SUFFIX}\\n' "$1"; }
CR='\r'
first() { IFS= read -r l || [ -n "$l" ]; printf '%s\\n' "\${l%"$CR"}"; }
lines() { while IFS= read -r l || [ -n "$l" ]; do printf '%s%s\\n' "$1" "$l"; done; }
m ${MARKERS.begin}`;
