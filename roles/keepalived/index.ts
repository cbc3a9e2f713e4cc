// keepalived: every VRRP instance of this node, nginx health tracking chosen from facts
// (track_process on VMs and bare metal; in containers nginx's systemd unit writes a state
// file that keepalived watches with track_file), a notify script that only logs, and
// `keepalived -t` on the target before a config replaces the live one.
import { defineRole } from '../../src/runner/role.js';
import { sh } from '../../src/transport/quote.js';
import { haModel } from '../../src/topology/role-data.js';
import { keepalivedConfData, notifyScriptData, nginxTrackDropIn, chooseTrackMethod, PATHS } from '../../src/topology/render.js';
import { run } from '../../src/ops/remote.js';

export default defineRole({
  name: 'keepalived',
  handlers: {
    'reload keepalived': (r) => r.service('reload keepalived', { name: 'keepalived', state: 'reloaded' }),
  },
  async tasks(r) {
    const ha = haModel(r);
    const facts = await r.facts();
    await r.package('keepalived and psmisc installed', { name: ['keepalived', 'psmisc'] });
    const method = ha.profile.fixedMethod ?? chooseTrackMethod(facts);

    if (method === 'file') {
      const dropInDir = PATHS.nginxDropIn.replace(/\/[^/]+$/, '');
      await r.directory('nginx drop-in directory', { path: dropInDir, mode: '0755', owner: 'root', group: 'root' });
      const dropIn = await r.file('nginx tells keepalived when it starts and stops (systemd drop-in)', {
        path: PATHS.nginxDropIn, content: nginxTrackDropIn(), mode: '0644', owner: 'root', group: 'root',
      });
      await r.task('systemd reads the drop-in', async (c) => ({
        changed: dropIn.changed,
        apply: async () => void (await run(c, sh`systemctl daemon-reload`, 'systemctl daemon-reload')),
      }));
      // The drop-in speaks at nginx's next start; until then the state file must say what is true now.
      await r.task('nginx state file tells the truth now', async (c) => {
        const now = await c.transport.exec(sh`systemctl is-active --quiet nginx && echo 0 || echo 1; cat ${PATHS.trackFile} 2>/dev/null || echo missing`);
        const [want, have] = now.stdout.trim().split('\n');
        return {
          changed: want !== have,
          message: `${have} -> ${want}`,
          apply: async () => void (await run(c, sh`echo ${want} > ${PATHS.trackFile}`, 'write nginx state file')),
        };
      });
    }

    await r.template('notify script logs VRRP transitions', {
      src: 'notify.sh.ejs', dest: PATHS.notifyScript, mode: '0755', owner: 'root', group: 'root',
      data: notifyScriptData(ha, r.host.name),
    });
    await r.template('keepalived.conf with this node\'s VRRP instances', {
      src: 'keepalived.conf.ejs', dest: PATHS.keepalivedConf, mode: '0640', owner: 'root', group: 'root',
      data: keepalivedConfData(ha, r.host.name, { trackMethod: method, keepalivedVersion: facts.keepalivedVersion }),
      validate: (candidate) => sh`keepalived -t -f ${candidate}`,
    }, { notify: 'reload keepalived' });
    await r.service('keepalived enabled and running', { name: 'keepalived', state: 'started', enabled: true });
  },
});
