// keepalived: every VRRP instance of this node, nginx health tracking chosen from facts
// (track_process on VMs and bare metal; in containers nginx's systemd unit writes a state
// file that keepalived watches with track_file), a notify script that only logs, and
// `keepalived -t` on the target before a config replaces the live one.
import { defineRole, sh, run, fact, facts as factsWithArgs, planHandoverRestart, drainKeepalivedConf, renderTemplateFile } from 'provision';
import { haModel, keepalivedConfData, notifyScriptData, nginxTrackDropIn, chooseTrackMethod, PATHS, templatePath } from 'provision/ha';

const CONF_TEMPLATE = templatePath('keepalived', 'keepalived.conf.ejs');
const truthy = (v: unknown) => v === true || (typeof v === 'string' && /^(1|true|yes)$/i.test(v));

export default defineRole({
  name: 'keepalived',
  facts: ['os', 'packageManager', 'packages', 'services', 'virt', 'keepalived'],
  handlers: {
    'reload keepalived': (r) => r.service('reload keepalived', { name: 'keepalived', state: 'reloaded' }),
  },
  async tasks(r) {
    const ha = haModel(r);
    const facts = await r.facts();
    const wasActive = facts.services.keepalived?.active === 'active';
    const pkg = await r.package('keepalived and psmisc installed', { name: ['keepalived', 'psmisc'] });
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
        const want = (await fact(c, factsWithArgs.service, 'nginx')).active === 'active' ? '0' : '1';
        const have = (await fact(c, factsWithArgs.fileContent, PATHS.trackFile))?.trim() ?? 'missing';
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
    // A reload keeps VRRP state and loses no request; a restart (keepalived upgraded under a
    // running daemon, or asked for with keepalived_restart=true) hands the VIPs over first.
    const restart = wasActive && (pkg.changed || truthy(r.vars.keepalived_restart));
    const data = keepalivedConfData(ha, r.host.name, { trackMethod: method, keepalivedVersion: facts.keepalivedVersion });
    const validate = (candidate: string) => sh`keepalived -t -f ${candidate}`;
    await r.template('keepalived.conf with this node\'s VRRP instances', {
      src: 'keepalived.conf.ejs', dest: PATHS.keepalivedConf, mode: '0640', owner: 'root', group: 'root', data, validate,
    }, restart ? {} : { notify: 'reload keepalived' });
    if (restart) {
      const finalConf = await renderTemplateFile(CONF_TEMPLATE, data as unknown as Record<string, unknown>);
      await r.task('keepalived restarted, its VIPs handed to the peer first', (c) => planHandoverRestart(c, {
        vips: ha.vips.filter((v) => v.master === r.host.name).map((v) => v.address),
        confPath: PATHS.keepalivedConf, finalConf, drainedConf: drainKeepalivedConf(finalConf), validate,
      }));
    }
    await r.service('keepalived enabled and running', { name: 'keepalived', state: 'started', enabled: true });
  },
});
