// A backend: nginx serving a page that names the host, as in the how-to.
import { defineRole } from 'provision';

export default defineRole({
  name: 'nginx_web',
  facts: ['os', 'packageManager', 'packages', 'services'],
  handlers: {
    'reload nginx': (r) => r.service('reload nginx', { name: 'nginx', state: 'reloaded' }),
  },
  async tasks(r) {
    const facts = await r.facts();
    const root = facts.os.family === 'redhat' ? '/usr/share/nginx/html' : '/var/www/html';
    const addrs = (r.host.vars.addresses ?? {}) as Record<string, string>;
    await r.package('nginx installed', { name: 'nginx' });
    await r.template('page naming this backend', {
      src: 'index.html.ejs',
      dest: `${root}/index.html`,
      mode: '0644', owner: 'root', group: 'root',
      data: { name: r.host.name, address: Object.values(addrs)[0] ?? '' },
    });
    await r.service('nginx enabled and running', { name: 'nginx', state: 'started', enabled: true });
  },
});
