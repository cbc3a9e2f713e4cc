// SELinux: nginx must connect to its upstreams (httpd_can_network_connect) and keepalived
// must be allowed to run its scripts. Hosts without SELinux skip this with the reason.
import { defineRole, planSebool, planFileContext } from 'provision';

export default defineRole({
  name: 'selinux',
  facts: ['os', 'packageManager', 'packages', 'selinux'],
  async tasks(r) {
    const facts = await r.facts();
    const active = facts.selinux === 'enforcing' || facts.selinux === 'permissive';
    if (!active) {
      await r.skip('SELinux policy for nginx and keepalived', `SELinux is ${facts.selinux} on this host`);
      return;
    }
    await r.package('SELinux tools', { name: ['policycoreutils-python-utils'] });
    await r.task('nginx may connect to upstreams (httpd_can_network_connect)', (c) => planSebool(c, 'httpd_can_network_connect', true));
    const isLb = r.host.groups.includes(String((r.vars.ha as { lb_group?: string } | undefined)?.lb_group ?? 'lb'));
    await r.task('keepalived may run its scripts (keepalived_t scripts labelled)', (c) => planFileContext(c, '/etc/keepalived/scripts(/.*)?', 'keepalived_unconfined_script_exec_t'), {
      when: isLb,
      skipReason: 'not a load balancer',
    });
  },
});
