// The account and init-system facts parse what getent, id and the init probe print (output as
// Debian 12 prints it for root and for a missing name).
import test from 'node:test';
import assert from 'node:assert/strict';
import { account, groupId, initSystem, shadowHash } from '../../src/facts/accounts.js';
import { factNamed } from '../../src/facts/catalog.js';

const r = (stdout: string, code = 0, stderr = '') => ({ stdout, code, stderr });

test('account: passwd entry, primary group and every group; a missing user (getent exit 2) is undefined', () => {
  assert.deepEqual(account.parse(r('root:x:0:0:root:/root:/bin/bash\nroot\nroot adm\n'), 'root'), {
    uid: 0, gid: 0, comment: 'root', home: '/root', shell: '/bin/bash', group: 'root', groups: ['root', 'adm'],
  });
  assert.equal(account.parse(r('', 2), 'nobody-here'), undefined);
  assert.match(account.command('a b').text, /getent passwd -- 'a b' && id -gn -- 'a b'/);
});

test('groupId: the gid, undefined for no such group, and any other failure says why', () => {
  assert.equal(groupId.parse(r('adm:x:4:\n'), 'adm'), 4);
  assert.equal(groupId.parse(r('', 2), 'nope'), undefined);
  assert.throws(() => groupId.parse(r('', 1, 'getent: cannot read'), 'adm'), /getent group adm failed \(exit 1\): getent: cannot read/);
});

test('shadowHash and initSystem', () => {
  assert.equal(shadowHash.parse(r('app:$6$salt$hash:19000:0:99999:7:::\n'), 'app'), '$6$salt$hash');
  assert.equal(shadowHash.parse(r('', 2), 'app'), undefined);
  assert.equal(initSystem.parse(r('systemd\n')), 'systemd');
  assert.equal(initSystem.parse(r('openrc\n')), 'openrc');
  assert.equal(initSystem.parse(r('\n')), 'sysvinit');
});

test('the read-ahead can replay them by name and arguments', () => {
  assert.equal(factNamed('account', ['root']), account);
  assert.equal(factNamed('groupId', ['adm']), groupId);
  assert.equal(factNamed('initSystem', []), initSystem);
  assert.equal(factNamed('account', []), undefined, 'wrong arity');
});

test('link, owner, crontab and file-text facts parse what the host prints', async () => {
  const { linkState, pathOwner, fileText } = await import('../../src/facts/file.js');
  const { crontab } = await import('../../src/facts/system.js');
  assert.deepEqual(linkState.parse(r('link\t../sites-available/app\n'), '/x'), { kind: 'link', target: '../sites-available/app' });
  assert.deepEqual(linkState.parse(r('other\tregular file\n'), '/x'), { kind: 'other', type: 'regular file' });
  assert.deepEqual(linkState.parse(r('absent\n'), '/x'), { kind: 'absent' });
  assert.throws(() => linkState.parse(r('', 1, 'Permission denied'), '/x'), /cannot read \/x: Permission denied/);
  assert.deepEqual(pathOwner.parse(r('root:adm\n'), '/x'), { owner: 'root', group: 'adm' });
  assert.equal(crontab.parse(r('', 1, 'no crontab for app\n'), 'app'), '');
  assert.equal(crontab.parse(r('* * * * * true\n'), 'app'), '* * * * * true\n');
  assert.throws(() => crontab.parse(r('', 1, 'must be privileged'), 'app'), /crontab -l -u app failed \(exit 1\): must be privileged/);
  assert.equal(fileText.parse(r(''), '/etc/cron.d/x'), '');
  assert.throws(() => fileText.parse(r('', 1, 'cat: /etc/cron.d/x: Permission denied'), '/etc/cron.d/x'), /cannot read/);
});
