// Time sync with chrony. A container shares its host's clock and cannot set it:
// there the service task is skipped with that reason instead of failing.
import { defineRole } from 'provision';

export default defineRole({
  name: 'timesync',
  facts: ['os', 'packageManager', 'packages', 'services', 'clock', 'virt'],
  handlers: {
    'restart chrony': (r) => r.service('restart chrony', { name: 'chrony', state: 'restarted' }),
  },
  async tasks(r) {
    const facts = await r.facts();
    const redhat = facts.os.family === 'redhat';
    await r.package('chrony installed', { name: 'chrony' });
    await r.template('chrony configured', {
      src: 'chrony.conf.ejs',
      dest: redhat ? '/etc/chrony.conf' : '/etc/chrony/chrony.conf',
      mode: '0644', owner: 'root', group: 'root',
      data: { servers: r.vars.timesync_servers ?? [] },
    }, { notify: facts.canSetClock ? 'restart chrony' : undefined });
    await r.service('chrony enabled and running', { name: redhat ? 'chronyd' : 'chrony', state: 'started', enabled: true }, {
      when: facts.canSetClock,
      skipReason: `this host cannot set its clock (${facts.virtualization}: no CAP_SYS_TIME); it keeps the host machine's time`,
    });
  },
});
