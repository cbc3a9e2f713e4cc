// provision's facts under Ansible's names, for the ones playbooks test most: OS family and
// distribution, hostname, interfaces, the default IPv4 address.
import type { Facts } from '../facts/types.js';

const DISTRIBUTIONS: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Ubuntu', rhel: 'RedHat', centos: 'CentOS', rocky: 'Rocky', almalinux: 'AlmaLinux',
  fedora: 'Fedora', ol: 'OracleLinux', amzn: 'Amazon', opensuse: 'openSUSE', sles: 'SLES', alpine: 'Alpine', arch: 'Archlinux',
};
const FAMILIES: Record<string, string> = { debian: 'Debian', redhat: 'RedHat' };

const ipv4Of = (cidr: string) => ({ address: cidr.split('/')[0], prefix: cidr.split('/')[1] ?? '32' });

/**
 * The `ansible_*` variables (and `ansible_facts` with the same keys unprefixed). `fields` says
 * which groups of facts were gathered; the others are left undefined, as without gathering.
 * ansible_default_ipv4 is the first address of the first interface that is up and not loopback
 * (provision does not read the routing table; Ansible takes the default route's interface).
 */
export function ansibleFacts(f: Facts, fields: { os: boolean; hostname: boolean; interfaces: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (fields.os) {
    out.os_family = FAMILIES[f.os.family] ?? (DISTRIBUTIONS[f.os.id] ?? f.os.id);
    out.distribution = DISTRIBUTIONS[f.os.id] ?? f.os.id;
    out.distribution_version = f.os.versionId;
    out.distribution_major_version = f.os.versionId.split('.')[0];
    out.pkg_mgr = f.packageManager;
  }
  if (fields.hostname) {
    out.hostname = f.hostname.split('.')[0];
    out.fqdn = f.hostname;
    out.nodename = f.hostname;
  }
  if (fields.interfaces) {
    out.interfaces = f.interfaces.map((i) => i.name);
    for (const i of f.interfaces) {
      out[i.name.replace(/[^A-Za-z0-9_]/g, '_')] = { device: i.name, active: i.up, macaddress: i.mac, mtu: i.mtu, ipv4: i.ipv4[0] ? ipv4Of(i.ipv4[0]) : undefined };
    }
    const def = f.interfaces.find((i) => i.up && i.name !== 'lo' && i.ipv4.length > 0);
    out.default_ipv4 = def ? { ...ipv4Of(def.ipv4[0]), interface: def.name, macaddress: def.mac } : {};
    out.all_ipv4_addresses = f.interfaces.filter((i) => i.name !== 'lo').flatMap((i) => i.ipv4.map((c) => c.split('/')[0]));
  }
  const prefixed = Object.fromEntries(Object.entries(out).map(([k, v]) => [`ansible_${k}`, v]));
  return { ...prefixed, ansible_facts: out };
}
