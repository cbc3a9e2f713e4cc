// Firewall: VRRP (IP protocol 112) from the peer LBs to the multicast group on every LB
// network, HTTP to the VIPs, HTTP to the backends only from the LBs, SSH always open.
// Backend per host: `firewall_backend` (firewalld | nftables | none), else from facts.
import { defineRole, planNftables, planFirewalld, type FirewallPolicy } from 'provision';
import { haModel } from 'provision/ha';

export default defineRole({
  name: 'firewall',
  facts: ['os', 'packageManager', 'packages', 'services', 'firewall', 'interfaces'],
  async tasks(r) {
    const ha = haModel(r);
    const facts = await r.facts();
    const setting = r.vars.firewall_backend as string | undefined;
    const backend = setting ?? (facts.firewall === 'firewalld' ? 'firewalld' : 'nftables');
    if (backend === 'none') {
      await r.skip('firewall rules', 'firewall_backend is none for this host');
      return;
    }
    const sshPorts = [...new Set([22, Number(r.vars.ansible_port ?? 22)])];
    const node = ha.nodes.find((n) => n.host === r.host.name);
    const policy: FirewallPolicy = { sshPorts, vrrp: [], tcp: [] };
    if (node) {
      for (const net of ha.networks) {
        const iface = node.interfaces[net.name];
        if (!iface) continue;
        const peers = ha.nodes.filter((n) => n.host !== node.host).map((n) => n.addresses[net.name]).filter(Boolean);
        policy.vrrp.push({ iface, peers, group: ha.mcastGroup });
      }
      policy.tcp.push({ port: ha.listenPort, daddr: ha.vips.map((v) => v.address) });
    }
    const backendOf = ha.backends.find((b) => b.host === r.host.name);
    if (backendOf) {
      const lbAddrs = ha.nodes.map((n) => n.addresses[backendOf.network]).filter(Boolean);
      policy.tcp.push({ port: backendOf.port, saddr: lbAddrs });
    }

    if (backend === 'firewalld') {
      await r.package('firewalld installed', { name: 'firewalld' });
      await r.service('firewalld enabled and running', { name: 'firewalld', state: 'started', enabled: true });
      const ifaces = node ? Object.values(node.interfaces) : facts.interfaces.filter((i) => i.name !== 'lo').map((i) => i.name);
      await r.task('VRRP, HTTP and SSH allowed (firewalld rich rules, runtime and permanent)', (c) => planFirewalld(c, policy, ifaces));
    } else {
      await r.package('nftables installed', { name: 'nftables' });
      await r.task('VRRP, HTTP and SSH allowed (nftables table inet provision)', (c) => planNftables(c, policy));
      await r.service('nftables rules restored at boot', { name: 'nftables', enabled: true });
    }
  },
});
