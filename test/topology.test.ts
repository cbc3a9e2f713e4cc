// Golden tests of the config templates, each validated by the real tools:
//   keepalived -t (2.2.7) inside a network namespace with eth0/eth1, with a tmpfs over
//   /etc/keepalived (in a private mount namespace) holding the rendered notify.sh;
//   nginx -t with tmpfs over /var/log/nginx and /var/lib/nginx (nginx -t opens its logs
//   and creates its temp dirs).
// Plus runtime checks in namespaces: keepalived's track_file with weight 0 moves a VIP
// on the value nginx's drop-in writes, and nginx answers /healthz on a VIP.
// Regenerate the golden files with UPDATE_GOLDEN=1.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GOLDEN, ROOT, canUseNetns, loadFixture, tempDir, withNetns, withNetnsAsync } from './unit/topology-helpers.js';
import { deriveTopology } from '../src/topology/model.js';
import {
  keepalivedConfData,
  nginxLbConfData,
  nginxTrackDropIn,
  notifyScriptData,
  renderString,
  renderTemplate,
  templatePath,
  webIndexData,
  type KeepalivedHostOptions,
} from '../src/topology/render.js';
import type { HaModel, ProfileName, TrackMethod } from '../src/topology/types.js';

const ENV = { PROVISION_VRRP_PASS: 'k33pal1v' };
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const HOSTS = ['ka67', 'ka68'];
const haveRoot = canUseNetns();
const haveKeepalived = existsSync('/usr/sbin/keepalived');
const haveNginx = existsSync('/usr/sbin/nginx');
const skipNs = !haveRoot ? 'needs root and ip netns' : undefined;

function model(patch: Record<string, unknown> = {}): HaModel {
  const f = loadFixture('reference.yaml');
  Object.assign(f.hosts[0].vars.ha as Record<string, unknown>, patch);
  return deriveTopology(f.hosts, { baseDir: f.dir, env: ENV });
}

function golden(rel: string, actual: string): void {
  const file = join(GOLDEN, rel);
  if (UPDATE) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `missing golden file ${rel}; run with UPDATE_GOLDEN=1`);
  assert.equal(actual, readFileSync(file, 'utf8'), `${rel} differs from the golden file (UPDATE_GOLDEN=1 regenerates)`);
}

function run(cmd: string, args: string[], timeout = 30_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout });
}

// The keepalived variants: each profile with each tracking method (howto always uses its
// vrrp_script), plus sync groups with a weight-0 and a weighted tracker.
const CASES: { profile: ProfileName; method: TrackMethod; sync?: boolean }[] = [
  { profile: 'howto', method: 'script' },
  { profile: 'default', method: 'script' },
  { profile: 'default', method: 'process' },
  { profile: 'default', method: 'file' },
  { profile: 'fast', method: 'script' },
  { profile: 'fast', method: 'process' },
  { profile: 'fast', method: 'file' },
  { profile: 'default', method: 'process', sync: true },
  { profile: 'howto', method: 'script', sync: true },
];
const caseName = (c: (typeof CASES)[number], host: string) => `${c.profile}${c.sync ? '-sync' : ''}-${c.method}-${host}.conf`;

function renderKeepalived(m: HaModel, host: string, opts: Partial<KeepalivedHostOptions> & { trackMethod: TrackMethod }): string {
  return renderTemplate(templatePath('keepalived', 'keepalived.conf.ejs'), { ...keepalivedConfData(m, host, { keepalivedVersion: '2.2.7', ...opts }) });
}

function renderNotify(m: HaModel, host: string): string {
  return renderTemplate(templatePath('keepalived', 'notify.sh.ejs'), { ...notifyScriptData(m, host) });
}

/**
 * `keepalived -t -f conf` in namespace `ns`, in a private mount namespace whose
 * /etc/keepalived is a tmpfs holding `notify` as notify.sh (0755, root-owned).
 */
function keepalivedTest(ns: string, conf: string, notify: string): SpawnSyncReturns<string> {
  const script = 'mount -t tmpfs -o mode=0755 tmpfs /etc/keepalived && cp "$1" /etc/keepalived/notify.sh && chmod 0755 /etc/keepalived/notify.sh && exec keepalived -t -f "$2"';
  return run('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', notify, conf]);
}

describe('keepalived.conf', () => {
  const tmp = tempDir('pv-ka-');
  after(() => tmp.cleanup());

  for (const c of CASES) {
    for (const host of HOSTS) {
      test(`golden ${caseName(c, host)}`, () => {
        const text = renderKeepalived(model({ profile: c.profile, sync: !!c.sync }), host, { trackMethod: c.method });
        golden(`keepalived/${caseName(c, host)}`, text);
      });
    }
  }

  test('each golden keepalived.conf passes the real `keepalived -t` (2.2.7) with no warnings', { skip: skipNs ?? (!haveKeepalived && 'keepalived not installed') }, () => {
    withNetns((ns) => {
      for (const c of CASES) {
        const m = model({ profile: c.profile, sync: !!c.sync });
        for (const host of HOSTS) {
          const conf = join(tmp.dir, caseName(c, host));
          writeFileSync(conf, renderKeepalived(m, host, { trackMethod: c.method }));
          const notify = join(tmp.dir, `notify-${host}.sh`);
          writeFileSync(notify, renderNotify(m, host));
          const r = keepalivedTest(ns, conf, notify);
          assert.equal(r.status, 0, `${caseName(c, host)}: keepalived -t exited ${r.status} (signal ${r.signal}): ${r.stderr}${r.stdout}`);
          assert.equal((r.stderr + r.stdout).trim(), '', `${caseName(c, host)}: keepalived -t printed warnings`);
        }
      }
    });
  });

  test('the harness is not vacuous: keepalived -t rejects broken variants', { skip: skipNs ?? (!haveKeepalived && 'keepalived not installed') }, () => {
    const m = model();
    const good = renderKeepalived(m, 'ka67', { trackMethod: 'file' });
    const notify = join(tmp.dir, 'notify-neg.sh');
    writeFileSync(notify, renderNotify(m, 'ka67'));
    const variants: [string, string, number][] = [
      // VRRPv2 rounds a fractional advert_int (exit 5).
      ['v2 advert_int 0.5', good.replace(/advert_int 1\n/, 'advert_int 0.5\n'), 5],
      // VRRPv3 has no authentication (exit 5).
      ['v3 with PASS auth', good.replace(/advert_int 1\n/, 'version 3\n    advert_int 1\n'), 5],
      // Scripts without enable_script_security (exit 6 in 2.2.7).
      ['no script security', good.replace('    enable_script_security\n', ''), 6],
      // A non-root script_user that does not exist (exit 5).
      ['script_user keepalived_script (absent)', good.replace('script_user root', 'script_user keepalived_script'), 5],
      // An interface this machine lacks (exit 5 in 2.2.7, not 4).
      ['missing interface', good.replace(/interface eth0/g, 'interface eth9'), 5],
    ];
    withNetns((ns) => {
      for (const [name, text, code] of variants) {
        assert.notEqual(text, good, name);
        const conf = join(tmp.dir, `neg-${name.replace(/\W+/g, '_')}.conf`);
        writeFileSync(conf, text);
        const r = keepalivedTest(ns, conf, notify);
        assert.equal(r.status, code, `${name}: exit ${r.status}: ${r.stderr}`);
      }
      // A trap for whoever validates on the target: 2.2.7 passes `-t` on a file that does not exist.
      const r = keepalivedTest(ns, join(tmp.dir, 'does-not-exist.conf'), notify);
      assert.equal(r.status, 0);
    });
  });

  test('the templates never HTML-escape: no `<%=` anywhere, and renderString refuses it', () => {
    for (const role of ['keepalived', 'nginx_lb', 'nginx_web']) {
      const dir = join(ROOT, 'roles', role, 'templates');
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.ejs'))) assert.ok(!readFileSync(join(dir, f), 'utf8').includes('<%='), `${role}/${f}`);
    }
    assert.throws(() => renderString('a <%= b %>', { b: '"' }, 't.ejs'), /t\.ejs:1: "<%=" HTML-escapes/);
    assert.equal(renderString('notify "<%- x %>" & <%- y %>', { x: '/a b', y: '<ok>' }), 'notify "/a b" & <ok>');
  });

  test('the password reaches the rendered file and nothing else', () => {
    const m = model();
    const d = keepalivedConfData(m, 'ka67', { trackMethod: 'file', keepalivedVersion: '2.2.7' });
    assert.ok(!JSON.stringify(d).includes('k33pal1v'));
    assert.ok(renderKeepalived(m, 'ka67', { trackMethod: 'file' }).includes('auth_pass k33pal1v'));
    // VRRPv3: no authentication block at all.
    assert.ok(!renderKeepalived(model({ profile: 'fast' }), 'ka67', { trackMethod: 'file' }).includes('authentication'));
  });
});

describe('track_file at runtime (keepalived 2.2.7 in a namespace)', () => {
  test('weight 0: a missing file is FAULT (init_file 1), 0 takes the VIPs, 1 drops them at once', { skip: skipNs ?? (!haveKeepalived && 'keepalived not installed') }, async () => {
    const tmp = tempDir('pv-katrack-');
    try {
      const m = model({ profile: 'fast' });
      const state = join(tmp.dir, 'nginx.state');
      const conf = join(tmp.dir, 'keepalived.conf');
      writeFileSync(conf, renderKeepalived(m, 'ka67', { trackMethod: 'file', trackFile: state }));
      const notify = join(tmp.dir, 'notify.sh');
      writeFileSync(notify, renderNotify(m, 'ka67'));
      // The nginx drop-in's commands, run by hand.
      const dropIn = nginxTrackDropIn(state);
      const start = /ExecStartPost=-\/bin\/sh -c '(.*)'/.exec(dropIn)![1];
      const stop = /ExecStopPost=-\/bin\/sh -c '(.*)'/.exec(dropIn)![1];
      await withNetnsAsync(async (ns) => {
        run('ip', ['-n', ns, 'addr', 'add', '172.16.8.10/24', 'dev', 'eth0']);
        run('ip', ['-n', ns, 'addr', 'add', '10.16.8.10/24', 'dev', 'eth1']);
        const script = 'mount -t tmpfs -o mode=0755 tmpfs /etc/keepalived && cp "$1" /etc/keepalived/notify.sh && chmod 0755 /etc/keepalived/notify.sh && exec keepalived -n -l -D -P -f "$2" -p "$3/k.pid" -r "$3/v.pid"';
        const child = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', notify, conf, tmp.dir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        let log = '';
        child.stdout.on('data', (b) => (log += b));
        child.stderr.on('data', (b) => (log += b));
        const vips = () => run('ip', ['-n', ns, '-4', '-o', 'addr', 'show']).stdout.match(/(172|10)\.16\.8\.10[01]\/32/g)?.sort() ?? [];
        try {
          await waitFor(() => existsSync(state) && /FAULT/.test(log), 5000, () => `FAULT at start: ${log}`);
          assert.equal(readFileSync(state, 'utf8').trim(), '1', 'init_file 1 created the file with 1');
          assert.deepEqual(vips(), []);
          run('sh', ['-c', start]); // nginx started
          await waitFor(() => vips().length === 4, 5000, () => `VIPs after 0: ${vips()} ${log}`);
          const t0 = Date.now();
          run('sh', ['-c', stop]); // nginx stopped or died
          await waitFor(() => vips().length === 0, 2000, () => `VIPs after 1: ${vips()} ${log}`);
          assert.ok(Date.now() - t0 < 1500, `VIPs dropped after ${Date.now() - t0} ms`);
          // FAULT sends a priority-0 advert so a backup takes over without waiting 3 adverts.
          await waitFor(() => /sent 0 priority/.test(log), 2000, () => `no priority-0 advert: ${log}`);
        } finally {
          try {
            process.kill(-child.pid!, 'SIGTERM');
          } catch {
            /* already gone */
          }
          await new Promise((r) => setTimeout(r, 300));
        }
      });
    } finally {
      tmp.cleanup();
    }
  });
});

describe('notify.sh', () => {
  for (const mail of [false, true]) {
    test(`golden notify${mail ? '-mail' : ''}-ka67.sh, and it logs without touching nginx`, () => {
      const m = model(mail ? { notify_mail: 'root@localhost' } : {});
      const text = renderNotify(m, 'ka67');
      golden(`keepalived/notify${mail ? '-mail' : ''}-ka67.sh`, text);
      assert.equal(run('sh', ['-n', '-c', text]).status, 0, 'sh -n');
      assert.ok(!/systemctl|service |nginx -s/.test(text.replace(/^#.*$/gm, '')), 'never starts or restarts nginx');
      // Run it with stub logger/mail/systemctl that record their arguments.
      const tmp = tempDir('pv-notify-');
      try {
        const bin = join(tmp.dir, 'bin');
        mkdirSync(bin);
        for (const cmd of ['logger', 'mail', 'systemctl']) {
          writeFileSync(join(bin, cmd), `#!/bin/sh\necho "$@" >> ${tmp.dir}/${cmd}.calls\n${cmd === 'mail' ? `cat >> ${tmp.dir}/mail.body\n` : ''}`);
          chmodSync(join(bin, cmd), 0o755);
        }
        const script = join(tmp.dir, 'notify.sh');
        writeFileSync(script, text);
        chmodSync(script, 0o755);
        const env = { PATH: `${bin}:/usr/bin:/bin` };
        for (const state of ['master', 'backup', 'fault']) {
          const r = spawnSync(script, [state, 'EXTERNAL_1'], { env, encoding: 'utf8' });
          assert.equal(r.status, 0, r.stderr);
        }
        assert.equal(spawnSync(script, ['bogus'], { env }).status, 1);
        const calls = readFileSync(join(tmp.dir, 'logger.calls'), 'utf8').trim().split('\n');
        assert.deepEqual(calls, [
          '-t keepalived-notify -p daemon.notice ka67: EXTERNAL_1 entered MASTER state',
          '-t keepalived-notify -p daemon.notice ka67: EXTERNAL_1 entered BACKUP state',
          '-t keepalived-notify -p daemon.notice ka67: EXTERNAL_1 entered FAULT state',
        ]);
        assert.ok(!existsSync(join(tmp.dir, 'systemctl.calls')), 'systemctl was called');
        if (mail) {
          const deadline = Date.now() + 3000;
          while (Date.now() < deadline && (readFileSync(join(tmp.dir, 'mail.calls'), { flag: 'a+' }).toString().trim().split('\n').filter(Boolean).length < 3)) spawnSync('sleep', ['0.05']);
          const mails = readFileSync(join(tmp.dir, 'mail.calls'), 'utf8').trim().split('\n').sort();
          assert.deepEqual(mails, ['-s ka67 EXTERNAL_1 is BACKUP root@localhost', '-s ka67 EXTERNAL_1 is FAULT root@localhost', '-s ka67 EXTERNAL_1 is MASTER root@localhost']);
        } else {
          assert.ok(!existsSync(join(tmp.dir, 'mail.calls')), 'mail without notify_mail');
        }
      } finally {
        tmp.cleanup();
      }
    });
  }
});

/** Shell: a tmpfs over each directory nginx writes to at start (logs, temp dirs), when it exists. */
const TMPFS_NGINX = 'for d in /var/log/nginx /var/lib/nginx; do if [ -d "$d" ]; then mount -t tmpfs tmpfs "$d" || exit 1; fi; done';

/** `nginx -t -c conf` with tmpfs over the dirs nginx -t writes to; `nginxUser` is added to passwd if absent. */
function nginxTest(conf: string, nginxUser?: string): SpawnSyncReturns<string> {
  const tmp = tempDir('pv-nginx-t-');
  try {
    let extra = '';
    if (nginxUser && !readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${nginxUser}:`))) {
      writeFileSync(join(tmp.dir, 'passwd'), readFileSync('/etc/passwd', 'utf8') + `${nginxUser}:x:64999:64999::/nonexistent:/usr/sbin/nologin\n`);
      writeFileSync(join(tmp.dir, 'group'), readFileSync('/etc/group', 'utf8') + `${nginxUser}:x:64999:\n`);
      extra = ` && mount --bind "$2/passwd" /etc/passwd && mount --bind "$2/group" /etc/group`;
    }
    const script = `${TMPFS_NGINX}${extra} && exec nginx -t -q -e stderr -c "$1"`;
    return run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', conf, tmp.dir]);
  } finally {
    tmp.cleanup();
  }
}

describe('nginx.conf (load balancers)', () => {
  for (const os of ['debian', 'redhat'] as const) {
    test(`golden nginx-${os}-ka67.conf passes the real \`nginx -t\``, { skip: !haveNginx && 'nginx not installed' }, () => {
      const text = renderTemplate(templatePath('nginx_lb', 'nginx.conf.ejs'), { ...nginxLbConfData(model(), 'ka67', { osFamily: os }) });
      golden(`nginx_lb/nginx-${os}-ka67.conf`, text);
      assert.match(text, /upstream webserverapps \{\n\s+server 10\.16\.8\.8:80;.*\n\s+server 10\.16\.8\.9:80;/);
      assert.match(text, /^\s+listen 80;$/m);
      if (skipNs) return;
      const tmp = tempDir('pv-nginx-');
      try {
        const conf = join(tmp.dir, 'nginx.conf');
        writeFileSync(conf, text);
        const r = nginxTest(conf, os === 'redhat' ? 'nginx' : undefined);
        assert.equal(r.status, 0, `nginx -t: ${r.stderr}`);
      } finally {
        tmp.cleanup();
      }
    });
  }

  test('nginx answers /healthz itself on a VIP it does not listen on explicitly (listen 80 = all addresses)', { skip: skipNs ?? (!haveNginx && 'nginx not installed') }, async () => {
    const tmp = tempDir('pv-nginx-run-');
    try {
      const text = renderTemplate(templatePath('nginx_lb', 'nginx.conf.ejs'), {
        ...nginxLbConfData(model(), 'ka67', { osFamily: 'debian', pidFile: join(tmp.dir, 'nginx.pid'), errorLog: join(tmp.dir, 'error.log'), accessLog: join(tmp.dir, 'access.log') }),
      });
      const conf = join(tmp.dir, 'nginx.conf');
      writeFileSync(conf, text);
      await withNetnsAsync(async (ns) => {
        run('ip', ['-n', ns, 'addr', 'add', '172.16.8.10/24', 'dev', 'eth0']);
        const script = `${TMPFS_NGINX} && exec nginx -e stderr -g "daemon off;" -c "$1"`;
        const child = spawn('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', conf], { stdio: 'ignore', detached: true });
        try {
          // The VIP arrives after nginx started, as when keepalived moves it here.
          await waitFor(() => existsSync(join(tmp.dir, 'nginx.pid')), 5000, () => 'nginx did not start');
          run('ip', ['-n', ns, 'addr', 'add', '172.16.8.100/32', 'dev', 'eth0']);
          let out = '';
          await waitFor(() => (out = run('ip', ['netns', 'exec', ns, 'curl', '-s', '--max-time', '2', 'http://172.16.8.100/healthz']).stdout) !== '', 5000, () => 'no answer');
          assert.equal(out, 'ok ka67\n');
        } finally {
          try {
            process.kill(-child.pid!, 'SIGTERM');
          } catch {
            /* gone */
          }
          await new Promise((r) => setTimeout(r, 300));
        }
      });
    } finally {
      tmp.cleanup();
    }
  });
});

describe('index.html (backends) and the nginx drop-in', () => {
  test('golden index-web1.html names the host and its address', () => {
    const text = renderTemplate(templatePath('nginx_web', 'index.html.ejs'), { ...webIndexData(model(), 'web1') });
    golden('nginx_web/index-web1.html', text);
    assert.equal(text, 'Server web1 10.16.8.8\n');
  });

  test('golden nginx drop-in feeding track_file', () => {
    golden('systemd/nginx-keepalived-track.conf', nginxTrackDropIn());
    assert.throws(() => nginxTrackDropIn("/run/x'; rm -rf /"), /must be absolute and plain/);
  });
});

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out: ${what()}`);
}

