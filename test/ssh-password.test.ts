// SSH password authentication (ansible_password, -k) against a real sshd on loopback that
// allows passwords: the password logs in, a wrong one fails as an authentication failure, and
// neither ever appears in an error message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HostError } from '../src/errors.js';
import { SshTransport, sh } from '../src/transport/index.js';
import { TEST_PASSWORD, TEST_PW_USER, sshdUnavailable, startSshd, type Sshd } from './helpers/sshd.js';

describe('SSH password authentication (real sshd)', { skip: sshdUnavailable() }, () => {
  let d: Sshd;
  before(async () => {
    d = await startSshd({ users: [TEST_PW_USER], extraConfig: 'PasswordAuthentication yes' });
  });
  after(async () => {
    await d?.stop();
  });

  it('logs in with the password alone (no key), and says nothing of it', async () => {
    const t = new SshTransport(d.spec({ user: TEST_PW_USER, privateKeyFiles: [], password: TEST_PASSWORD }));
    try {
      await t.connect();
      const r = await t.exec(sh`id -un`, { sudo: false });
      assert.equal(r.stdout.trim(), TEST_PW_USER);
    } finally {
      await t.close();
    }
    assert.match(d.log(), new RegExp(`Accepted password for ${TEST_PW_USER}`));
  });

  it('a wrong password is an authentication failure that names the method, never the password', async () => {
    const secret = 'wrong-Ssh-pw-83';
    const t = new SshTransport(d.spec({ user: TEST_PW_USER, privateKeyFiles: [], password: secret }));
    const e = await t.connect().then(
      () => assert.fail('connected with a wrong password'),
      (x: unknown) => x,
    );
    await t.close();
    assert.ok(e instanceof HostError, String(e));
    assert.equal(e.kind, 'unreachable');
    assert.match(e.message, /authentication failed for provtestpw@127\.0\.0\.1:\d+ \(tried: password/);
    assert.ok(!e.message.includes(secret));
  });
});
