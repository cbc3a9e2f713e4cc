// Base of every host: packages for its groups, /etc/hosts entries for its peers,
// and on load balancers the sysctl that lets nginx bind a VIP the node does not hold.
import { defineRole } from 'provision';
import { hostsEntries } from 'provision/ha';

export default defineRole({
  name: 'common',
  facts: ['os', 'packageManager', 'packages'],
  async tasks(r) {
    const byGroup = (r.vars.common_packages ?? {}) as Record<string, string[]>;
    const packages = [...new Set(r.host.groups.flatMap((g) => byGroup[g] ?? []))];
    await r.package('packages for this host\'s groups', { name: packages }, { when: packages.length > 0, skipReason: 'no packages for these groups' });

    await r.block('/etc/hosts entries for the inventory', {
      path: '/etc/hosts',
      marker: 'provision managed hosts',
      block: hostsEntries(r.inventory),
    }, { when: r.vars.common_hosts_block !== false, skipReason: 'common_hosts_block is false' });

    await r.sysctl('nginx may bind a VIP this node does not hold', { name: 'net.ipv4.ip_nonlocal_bind', value: 1 }, {
      when: r.host.groups.includes(String((r.vars.ha as { lb_group?: string } | undefined)?.lb_group ?? 'lb')),
      skipReason: 'not a load balancer',
    });
  },
});
