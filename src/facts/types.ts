// Facts: what a host is, gathered by one remote command and parsed by pure functions.
// Cached per host per run by the runner; ops plan from them.

export interface OsFacts {
  id: string; // "debian", "rhel", "rocky", "centos", "ubuntu", ...
  versionId: string; // "12", "9.4"
  family: 'debian' | 'redhat' | 'unknown';
  prettyName: string;
}

export type PackageManager = 'apt' | 'dnf' | 'yum' | 'unknown';

export interface ServiceState {
  active: string; // "active", "inactive", "failed", ... ("unknown" when no such unit)
  enabled: string; // "enabled", "disabled", "static", "masked", ... ("unknown")
  /** systemd LoadState: "loaded", "not-found", "masked", ... ("unknown" when systemd could not be asked). */
  load?: string;
}

export interface InterfaceFacts {
  name: string;
  mac?: string;
  up: boolean;
  multicast: boolean;
  mtu?: number;
  /** Kernel operstate ("UP", "DOWN", "UNKNOWN" for lo) when ip reported it. */
  operstate?: string;
  /** CIDR strings, e.g. "10.16.8.10/24". */
  ipv4: string[];
  ipv6: string[];
}

export type FirewallBackend = 'firewalld' | 'nftables' | 'iptables' | 'none';

/** Which firewall commands exist on the host (whether or not any is active). */
export interface FirewallTools {
  firewallCmd: boolean;
  nft: boolean;
  iptables: boolean;
}

export interface Facts {
  hostname: string;
  os: OsFacts;
  packageManager: PackageManager;
  /** Installed package name -> version (dpkg-query / rpm -qa). */
  packages: Record<string, string>;
  /** systemd unit -> state, for the units the runner asked about. */
  services: Record<string, ServiceState>;
  selinux: 'enforcing' | 'permissive' | 'disabled' | 'absent';
  firewall: FirewallBackend;
  interfaces: InterfaceFacts[];
  /** systemd-detect-virt output: "none", "kvm", "systemd-nspawn", "container-other", ... */
  virtualization: string;
  /** True when the host runs in a container (systemd-detect-virt --container != none). */
  container: boolean;
  /** keepalived version ("2.2.7") or null when not installed. */
  keepalivedVersion: string | null;
  /** Whether the host can set its own clock (false in containers sharing the host clock). */
  canSetClock: boolean;
  /** uid of the SSH user (0 when logged in as root). */
  uid: number;
  /** True when PID 1 is systemd (/run/systemd/system exists); false: systemctl cannot start or query units. */
  systemd?: boolean;
  /** Firewall commands present, for ops that must pick a tool when `firewall` is 'none'. */
  firewallTools?: FirewallTools;
  /** Sections the gather output lacked (command killed, garbage); their facts hold defaults. */
  missingSections?: string[];
}
