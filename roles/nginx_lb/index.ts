// nginx on the load balancers: an upstream of the backends from the inventory and the
// how-to's proxy settings; validated with `nginx -t` on the target before it goes live.
import { defineRole, sh } from 'provision';
import { haModel, nginxLbConfData } from 'provision/ha';

export default defineRole({
  name: 'nginx_lb',
  facts: ['os', 'packageManager', 'packages', 'services'],
  handlers: {
    'reload nginx': (r) => r.service('reload nginx', { name: 'nginx', state: 'reloaded' }),
  },
  async tasks(r) {
    const ha = haModel(r);
    const facts = await r.facts();
    await r.package('nginx installed', { name: 'nginx' });
    await r.template('nginx.conf proxies to the backends', {
      src: 'nginx.conf.ejs',
      dest: '/etc/nginx/nginx.conf',
      mode: '0644', owner: 'root', group: 'root',
      data: nginxLbConfData(ha, r.host.name, { osFamily: facts.os.family }),
      validate: (candidate) => sh`nginx -t -q -c ${candidate}`,
    }, { notify: 'reload nginx' });
    await r.service('nginx enabled and running', { name: 'nginx', state: 'started', enabled: true });
  },
});
