// The scale bench's representative role: what a typical role does on every host, each task a
// remote check on a no-op run. Everything lives under the target's own `bench_root`
// (bench/lib/farm.ts), in a `provision/` directory (the Ansible twin writes `ansible/`).
//
// The service-state check: the farm's targets have no systemd (sshd alone in a network
// namespace), so `r.service` (systemctl) cannot apply. A small daemon managed with
// start-stop-daemon and a pid file stands in for a service: "running, else start it" is a
// command with `unless` (start-stop-daemon --status exits 0 when the pid file's process lives).
import { defineRole, sh } from 'provision';

export default defineRole({
  name: 'bench_app',
  // The app.conf template names the host and its OS; nothing else reads facts. (Ansible's twin
  // gathers its `min` subset for the same template.)
  facts: ['hostname', 'os'],
  handlers: {
    'reload app': (r) => r.command('reload app', { cmd: sh`date +%s%N >> ${`${root(r.vars)}/run/reloads`}` }),
  },
  async tasks(r) {
    const base = root(r.vars);
    await r.directory('config directory', { path: `${base}/etc`, mode: '0755' });
    await r.directory('state directories', { path: `${base}/run`, mode: '0755' });
    await r.file('motd', { path: `${base}/etc/motd`, content: `Managed host ${r.host.name}. Changes are overwritten.\n`, mode: '0644' });
    await r.file('environment', { path: `${base}/etc/app.env`, content: 'APP_ENV=production\nAPP_LOG_LEVEL=info\n', mode: '0640' });
    await r.file('limits', { path: `${base}/etc/limits.conf`, content: '* soft nofile 65536\n* hard nofile 65536\n', mode: '0644' });
    await r.template('app config', { src: 'app.conf.ejs', dest: `${base}/etc/app.conf`, mode: '0644', data: { root: base } }, { notify: 'reload app' });
    await r.template('upstreams', { src: 'upstreams.conf.ejs', dest: `${base}/etc/upstreams.conf`, mode: '0644' }, { notify: 'reload app' });
    await r.command('data initialized', { cmd: sh`mkdir -p ${`${base}/data`} && date > ${`${base}/data/initialized`}`, creates: `${base}/data/initialized` });
    const pidfile = `${base}/run/app.pid`;
    await r.command('app daemon running', {
      cmd: sh`start-stop-daemon --start --background --make-pidfile --pidfile ${pidfile} --exec /bin/sleep -- infinity`,
      unless: sh`start-stop-daemon --status --pidfile ${pidfile}`,
    });
  },
});

function root(vars: Record<string, unknown>): string {
  const b = vars.bench_root;
  if (typeof b !== 'string' || !b.startsWith('/')) throw new Error('bench_app needs an absolute bench_root');
  return `${b}/provision`;
}
