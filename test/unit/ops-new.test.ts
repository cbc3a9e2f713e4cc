// The catalogue's newer operations against a recording transport: what each reads, what it
// sends when the host differs, and that a converged host gets no command that changes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RecordingTransport } from '../../src/transport/recording.js';
import type { OpContext } from '../../src/ops/types.js';
import { emptyFacts } from '../../src/facts/index.js';
import { CATALOGUE } from '../../src/ops/catalogue.js';
import { withCronJob, cronLine } from '../../src/ops/cron.js';
import { file, fileAnswer } from '../../src/facts/file.js';

function ctx(t: RecordingTransport, o: { dir?: string; systemd?: boolean } = {}): OpContext {
  return {
    host: { name: 'h', groups: ['all'], vars: {} },
    transport: t,
    read: (c) => t.exec(c),
    facts: async () => ({ ...emptyFacts(), systemd: o.systemd ?? true }),
    factsChanged: () => {},
    check: false,
    diff: true,
    dir: o.dir,
  };
}

/** Plan with the entry `op`, apply when changed; the plan's result. */
async function converge<K extends keyof typeof CATALOGUE>(t: RecordingTransport, op: K, spec: unknown, o?: { dir?: string; systemd?: boolean }) {
  const plan = await (CATALOGUE[op].run as (c: OpContext, s: unknown) => ReturnType<(typeof CATALOGUE)[K]['run']>)(ctx(t, o), spec);
  if (plan.changed && plan.apply) await plan.apply();
  return plan;
}

const statAnswer = (p: string, line: string) => {
  const [mode, owner, group, type, sha] = line.split('\t');
  return [file.command(p).text, { stdout: fileAnswer({ exists: true, mode: parseInt(mode, 8), owner, group, type, sha256: sha.split(' ')[0] }) }] as [string, { stdout: string }];
};

test('user: created with useradd when absent; a converged user sends nothing; groups corrected with usermod', async () => {
  const t = new RecordingTransport('h', { answers: [['getent passwd', { code: 2 }]] });
  const p = await converge(t, 'user', { name: 'deploy', groups: ['adm', 'www-data'], shell: '/bin/bash', uid: 1500 });
  assert.equal(p.changed, true);
  assert.deepEqual(t.commands.slice(1), ["useradd -u 1500 -G adm,www-data -s /bin/bash -m -- deploy"]);

  const ok = new RecordingTransport('h', { answers: [['getent passwd', { stdout: 'deploy:x:1500:1500::/home/deploy:/bin/bash\ndeploy\ndeploy adm www-data\n' }]] });
  assert.equal((await converge(ok, 'user', { name: 'deploy', groups: 'adm,www-data', shell: '/bin/bash', uid: 1500 })).changed, false);
  assert.equal(ok.commands.length, 1, 'only the read');

  const fix = new RecordingTransport('h', { answers: [['getent passwd', { stdout: 'deploy:x:1500:1500::/home/deploy:/bin/sh\ndeploy\ndeploy adm\n' }]] });
  const f = await converge(fix, 'user', { name: 'deploy', groups: ['www-data'], shell: '/bin/bash' });
  assert.match(f.message!, /shell \/bin\/sh -> \/bin\/bash, groups adm -> www-data/);
  assert.equal(fix.commands[1], 'usermod -s /bin/bash -G www-data -- deploy');

  const gone = new RecordingTransport('h', { answers: [['getent passwd', { stdout: 'deploy:x:1500:1500::/home/deploy:/bin/sh\ndeploy\ndeploy\n' }]] });
  await converge(gone, 'user', { name: 'deploy', state: 'absent', remove: true });
  assert.equal(gone.commands[1], 'userdel -r -- deploy');
});

test('user: the password hash goes on stdin to chpasswd -e, never in a command', async () => {
  const hash = '$6$salt$abcdef';
  const t = new RecordingTransport('h', { answers: [['getent passwd', { stdout: 'u:x:1:1::/home/u:/bin/sh\nu\nu\n' }], ['getent shadow', { stdout: 'u:!:19000::::::\n' }]] });
  const p = await converge(t, 'user', { name: 'u', password: hash });
  assert.equal(p.message, 'password');
  assert.ok(!t.commands.some((c) => c.includes(hash)));
  assert.equal(t.ran('chpasswd -e')[0].opts.stdin, `u:${hash}\n`);
  const same = new RecordingTransport('h', { answers: [['getent passwd', { stdout: 'u:x:1:1::/home/u:/bin/sh\nu\nu\n' }], ['getent shadow', { stdout: `u:${hash}:19000::::::\n` }]] });
  assert.equal((await converge(same, 'user', { name: 'u', password: hash })).changed, false);
});

test('group: groupadd with gid when absent, groupmod when the gid differs, nothing when equal', async () => {
  const a = new RecordingTransport('h', { answers: [['getent group', { code: 2 }]] });
  await converge(a, 'group', { name: 'app', gid: 990, system: true });
  assert.equal(a.commands[1], 'groupadd -g 990 -r -- app');
  const b = new RecordingTransport('h', { answers: [['getent group', { stdout: 'app:x:991:\n' }]] });
  await converge(b, 'group', { name: 'app', gid: 990 });
  assert.equal(b.commands[1], 'groupmod -g 990 -- app');
  const c = new RecordingTransport('h', { answers: [['getent group', { stdout: 'app:x:990:\n' }]] });
  assert.equal((await converge(c, 'group', { name: 'app', gid: 990 })).changed, false);
});

test('copy: src from the role files/ directory, uploaded byte for byte; backup copies the old file first', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provision-copy-'));
  mkdirSync(path.join(dir, 'files'));
  writeFileSync(path.join(dir, 'files', 'app.sh'), '#!/bin/sh\necho hi\n');
  const t = new RecordingTransport('h', { answers: [statAnswer('/usr/local/bin/app', '644\troot\troot\tregular file\tdeadbeef  -')] });
  const p = await converge(t, 'copy', { src: 'app.sh', dest: '/usr/local/bin/app', mode: '0755', backup: true }, { dir });
  assert.equal(p.changed, true);
  assert.match(t.commands.find((c) => c.includes('cp -p'))!, /cp -p -- \/usr\/local\/bin\/app '\/usr\/local\/bin\/app\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~'/);
  assert.equal(t.puts[0].text, '#!/bin/sh\necho hi\n');
  assert.equal(t.puts[0].opts.mode, '0755');
  await assert.rejects(converge(new RecordingTransport(), 'copy', { src: '../../etc/passwd', dest: '/x' }, { dir }), /outside/);
  await assert.rejects(converge(new RecordingTransport(), 'copy', { dest: '/x' }, { dir }), /exactly one of "src" and "content"/);
  rmSync(dir, { recursive: true });
});

test('link: ln -sfn when absent or pointing elsewhere; a right link is a no-op; a file needs force', async () => {
  const a = new RecordingTransport('h', { answers: [['[ -L', { stdout: 'absent\n' }]] });
  await converge(a, 'link', { path: '/etc/nginx/sites-enabled/app', src: '../sites-available/app' });
  assert.equal(a.commands[1], 'ln -sfn -- ../sites-available/app /etc/nginx/sites-enabled/app');
  const b = new RecordingTransport('h', { answers: [['[ -L', { stdout: 'link\t../sites-available/app\n' }]] });
  assert.equal((await converge(b, 'link', { path: '/etc/nginx/sites-enabled/app', src: '../sites-available/app' })).changed, false);
  const c = new RecordingTransport('h', { answers: [['[ -L', { stdout: 'other\tregular file\n' }]] });
  await assert.rejects(converge(c, 'link', { path: '/x', src: '/y' }), /force: true replaces it/);
});

test('cron: Ansible\'s "#Ansible: name" format, set and replaced in the crontab, other lines kept; cron_file has the user column', async () => {
  assert.equal(withCronJob('MAILTO=x\n', 'backup', '0 3 * * * /b'), 'MAILTO=x\n#Ansible: backup\n0 3 * * * /b\n');
  assert.equal(withCronJob('#Ansible: backup\n0 3 * * * /b\n5 * * * * other\n', 'backup', '0 4 * * * /b'), '#Ansible: backup\n0 4 * * * /b\n5 * * * * other\n');
  assert.equal(withCronJob('#Ansible: backup\n0 3 * * * /b\n', 'backup', null), '');
  assert.equal(cronLine({ name: 'x', job: '/j', special_time: 'reboot' }), '@reboot /j');
  assert.equal(cronLine({ name: 'x', job: '/j', cron_file: 'f', user: 'www-data', minute: '*/5' }), '*/5 * * * * www-data /j');
  const t = new RecordingTransport('h', { answers: [['crontab -l', { code: 1, stderr: 'no crontab for root\n' }]] });
  const p = await converge(t, 'cron', { name: 'backup', job: '/usr/local/bin/backup', hour: '3', minute: '0' });
  assert.match(p.diff!, /\+#Ansible: backup\n\+0 3 \* \* \* \/usr\/local\/bin\/backup/);
  assert.equal(t.ran('crontab -u root -')[0].opts.stdin, '#Ansible: backup\n0 3 * * * /usr/local/bin/backup\n');
  const same = new RecordingTransport('h', { answers: [['crontab -l', { stdout: '#Ansible: backup\n0 3 * * * /usr/local/bin/backup\n' }]] });
  assert.equal((await converge(same, 'cron', { name: 'backup', job: '/usr/local/bin/backup', hour: '3', minute: '0' })).changed, false);
  const f = new RecordingTransport('h');
  await converge(f, 'cron', { name: 'x', job: '/j', cron_file: 'provision-x', user: 'nobody' });
  assert.equal(f.puts[0].path, '/etc/cron.d/provision-x');
  assert.equal(f.puts[0].text, '#Ansible: x\n* * * * * nobody /j\n');
});

test('getUrl: a dest whose checksum matches is not fetched; otherwise curl/wget to a temp file, checksum verified, then renamed', async () => {
  const digest = 'a'.repeat(64);
  const ok = new RecordingTransport('h', { answers: [statAnswer('/opt/t.tgz', `644\troot\troot\tregular file\t${digest}  -`)] });
  assert.equal((await converge(ok, 'getUrl', { url: 'http://127.0.0.1:8000/t.tgz', dest: '/opt/t.tgz', checksum: `sha256:${digest}` })).changed, false);
  assert.equal(ok.commands.length, 1);
  const t = new RecordingTransport('h', { answers: [['sha256sum --', { stdout: `${digest}  /opt/.t.tgz.tmp\n` }]] });
  await converge(t, 'getUrl', { url: 'http://127.0.0.1:8000/t.tgz', dest: '/opt/t.tgz', checksum: `sha256:${digest}` });
  assert.match(t.commands[1], /curl -fsSL --max-time 10 -o \/opt\/\.t\.tgz\.provision-tmp-\w+ -- http:\/\/127\.0\.0\.1:8000\/t\.tgz; else wget/);
  assert.match(t.commands.at(-1)!, /^mv -f -- \/opt\/\.t\.tgz\.provision-tmp-\w+ \/opt\/t\.tgz$/);
  const bad = new RecordingTransport('h', { answers: [['sha256sum --', { stdout: `${'b'.repeat(64)}  x\n` }]] });
  await assert.rejects(converge(bad, 'getUrl', { url: 'http://127.0.0.1/t', dest: '/opt/t', checksum: `sha256:${digest}` }), /expected a{64}; \/opt\/t left alone/);
  assert.match(bad.commands.at(-1)!, /^rm -f -- \/opt\/\.t\.provision-tmp-/);
  assert.ok(!bad.commands.some((c) => c.startsWith('mv ')));
});

test('unarchive: remote_src lists the members on the host; all present: no-op; missing: tar -xf', async () => {
  const done = new RecordingTransport('h', { answers: [['tar -tf', { stdout: '' }]] });
  assert.equal((await converge(done, 'unarchive', { src: '/tmp/a.tar.gz', dest: '/opt/a', remote_src: true })).changed, false);
  const t = new RecordingTransport('h', { answers: [['tar -tf', { stdout: 'missing: bin/app\n' }]] });
  await converge(t, 'unarchive', { src: '/tmp/a.tar.gz', dest: '/opt/a/', remote_src: true });
  assert.equal(t.commands[1], 'tar -xf /tmp/a.tar.gz -C /opt/a');
  const c = new RecordingTransport('h');
  assert.equal((await converge(c, 'unarchive', { src: '/tmp/a.zip', dest: '/opt/a', remote_src: true, creates: '/opt/a/bin' })).changed, false);
  assert.deepEqual(c.commands, ['test -e /opt/a/bin']);
});

test('waitFor: one poll loop on the host; a timeout fails the task; nothing changed', async () => {
  const t = new RecordingTransport('h');
  const p = await converge(t, 'waitFor', { port: 8080, timeout: 5 });
  assert.equal(p.changed, false);
  assert.match(t.commands[0], /bash -c 'exec 3<>"\/dev\/tcp\/\$1\/\$2"' _ 127\.0\.0\.1 8080/);
  const late = new RecordingTransport('h', { fallback: { code: 1 } });
  await assert.rejects(converge(late, 'waitFor', { path: '/run/app.pid', timeout: 1 }), /timed out after 1 s waiting for \/run\/app\.pid present/);
});

test('service: without systemd the SysV or OpenRC commands are used and the message says which', async () => {
  const sysv = new RecordingTransport('h', { answers: [['rc-service >/dev/null', { stdout: 'sysvinit\n' }], ['service nginx status', { code: 3 }], ['ls /etc/rc', { code: 1 }]] });
  const p = await converge(sysv, 'service', { name: 'nginx', state: 'started', enabled: true }, { systemd: false });
  assert.equal(p.message, 'enabled, started (SysV service)');
  assert.ok(sysv.commands.includes('service nginx start'));
  assert.match(sysv.commands.find((c) => c.includes('update-rc.d nginx defaults'))!, /chkconfig nginx on/);
  const rc = new RecordingTransport('h', { answers: [['rc-service >/dev/null', { stdout: 'openrc\n' }], ['rc-service nginx status', { code: 0 }]] });
  const q = await converge(rc, 'service', { name: 'nginx', state: 'restarted' }, { systemd: false });
  assert.equal(q.message, 'restarted (OpenRC rc-service)');
  assert.equal(rc.commands.at(-1), 'rc-service nginx restart');
  const forced = new RecordingTransport('h', { answers: [['service cron status', { code: 0 }]] });
  assert.equal((await converge(forced, 'service', { name: 'cron', state: 'started', use: 'sysvinit' })).changed, false);
  assert.ok(!forced.commands.some((c) => c.includes('systemctl')));
});

test('getUrl and unarchive for real: a loopback HTTP server, this machine as the host, twice (the second a no-op)', async () => {
  const { createServer } = await import('node:http');
  const { createHash } = await import('node:crypto');
  const { execFileSync } = await import('node:child_process');
  const { LocalTransport } = await import('../helpers/local-transport.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'provision-geturl-'));
  mkdirSync(path.join(dir, 'src', 'app'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'app', 'run.sh'), 'echo app\n');
  execFileSync('tar', ['-czf', path.join(dir, 'app.tar.gz'), '-C', path.join(dir, 'src'), 'app']);
  const body = (await import('node:fs')).readFileSync(path.join(dir, 'app.tar.gz'));
  let hits = 0;
  const server = createServer((_req, res) => (hits++, res.end(body)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/app.tar.gz`;
  const checksum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  try {
    const t = new LocalTransport();
    const c: OpContext = { ...ctx(new RecordingTransport()), transport: t, read: (x) => t.exec(x) };
    mkdirSync(path.join(dir, 'out'));
    for (const round of [1, 2]) {
      const g = await CATALOGUE.getUrl.run(c, { url, dest: path.join(dir, 'out'), checksum });
      assert.equal(g.changed, round === 1);
      if (g.apply) await g.apply();
      const u = await CATALOGUE.unarchive.run(c, { src: path.join(dir, 'out', 'app.tar.gz'), dest: path.join(dir, 'out'), remote_src: true });
      assert.equal(u.changed, round === 1);
      if (u.apply) await u.apply();
    }
    assert.equal(hits, 1, 'the second round did not download');
    assert.equal((await import('node:fs')).readFileSync(path.join(dir, 'out', 'app', 'run.sh'), 'utf8'), 'echo app\n');
    const wrong = await CATALOGUE.getUrl.run(c, { url, dest: path.join(dir, 'other'), checksum: `sha256:${'0'.repeat(64)}` });
    await assert.rejects(wrong.apply!(), /expected 0{64}/);
    assert.deepEqual((await import('node:fs')).readdirSync(dir).sort(), ['app.tar.gz', 'out', 'src'], 'no temp file left');
  } finally {
    server.close();
    rmSync(dir, { recursive: true });
  }
});
