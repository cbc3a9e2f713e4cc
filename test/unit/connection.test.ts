// ConnectionSpec resolution: inventory vars > ssh config > caller fallbacks > built-in defaults.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import type { Host } from '../../src/inventory/types.js';
import { connectionSpecFor, connectionSpecForDestination, parseDestination, parseSshArgs } from '../../src/transport/connection.js';
import type { ConnectionSpecOptions } from '../../src/transport/connection.js';

let home: string;
let configPath: string;

const host = (name: string, vars: Record<string, unknown> = {}): Host => ({ name, groups: ['all'], vars });

function opts(extra: ConnectionSpecOptions = {}): ConnectionSpecOptions {
  return { home, sshConfigPath: configPath, env: {}, localUser: 'alice', globalKnownHostsFiles: [], ...extra };
}

before(() => {
  home = mkdtempSync(join(tmpdir(), 'provision-conn-'));
  mkdirSync(join(home, '.ssh'));
  writeFileSync(join(home, '.ssh', 'id_ed25519'), 'not read here');
  writeFileSync(join(home, '.ssh', 'id_rsa'), 'not read here');
  configPath = join(home, 'ssh_config');
  writeFileSync(
    configPath,
    `
Host bastion
  HostName 127.0.0.9
  User jumper
  Port 2200
  IdentityFile ~/.ssh/bastion_key

Host inner
  HostName 127.0.0.10
  ProxyJump bastion

Host web*
  HostName 127.0.0.%h
  User ops
  Port 2222
  IdentityFile ~/.ssh/web_key
  UserKnownHostsFile ~/.ssh/known_web
  StrictHostKeyChecking accept-new

Host chained
  HostName 127.0.0.20
  ProxyJump hop1@127.0.0.21:2021,bastion

Host noagent
  IdentityAgent none

Host loopy
  ProxyJump loopy

Host *
  ConnectTimeout 7
`,
  );
});
after(() => rmSync(home, { recursive: true, force: true }));

describe('connectionSpecFor', () => {
  it('uses built-in defaults for an unknown host', () => {
    const s = connectionSpecFor(host('plain'), opts());
    assert.equal(s.host, 'plain');
    assert.equal(s.address, 'plain');
    assert.equal(s.port, 22);
    assert.equal(s.user, 'alice');
    assert.deepEqual(s.privateKeyFiles, [join(home, '.ssh', 'id_ed25519'), join(home, '.ssh', 'id_rsa')]); // those that exist, in order
    assert.deepEqual(s.knownHostsFiles, [join(home, '.ssh', 'known_hosts')]);
    assert.equal(s.hostKeyPolicy, 'strict');
    assert.equal(s.connectTimeoutMs, 7000); // from Host *
    assert.equal(s.become, false);
    assert.equal(s.agent, undefined);
    assert.equal(s.proxyJump, undefined);
  });

  it('reads ssh config (HostName with %h, User, Port, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking)', () => {
    const s = connectionSpecFor(host('web5'), opts());
    assert.equal(s.address, '127.0.0.web5'); // %h is the name looked up
    assert.equal(s.user, 'ops');
    assert.equal(s.port, 2222);
    assert.deepEqual(s.privateKeyFiles, [join(home, '.ssh', 'web_key')]); // an IdentityFile replaces the defaults
    assert.deepEqual(s.knownHostsFiles, [join(home, '.ssh', 'known_web')]);
    assert.equal(s.hostKeyPolicy, 'accept-new');
  });

  it('inventory vars beat the ssh config', () => {
    const s = connectionSpecFor(
      host('web5', {
        ansible_port: 2299,
        ansible_user: 'deploy',
        ansible_ssh_private_key_file: '~/.ssh/inv_key',
        provision_known_hosts_file: '/tmp/inv_known_hosts',
        ansible_ssh_common_args: '-o StrictHostKeyChecking=no',
      }),
      opts(),
    );
    assert.equal(s.port, 2299);
    assert.equal(s.user, 'deploy');
    assert.deepEqual(s.privateKeyFiles, [join(home, '.ssh', 'inv_key'), join(home, '.ssh', 'web_key')]);
    assert.deepEqual(s.knownHostsFiles, ['/tmp/inv_known_hosts']);
    assert.equal(s.hostKeyPolicy, 'off');
  });

  it('looks the ssh config up by ansible_host, as ssh does when Ansible calls it', () => {
    const s = connectionSpecFor(host('frontend', { ansible_host: 'web7' }), opts());
    assert.equal(s.host, 'frontend');
    assert.equal(s.address, '127.0.0.web7');
    const t = connectionSpecFor(host('frontend', { ansible_host: '127.0.0.1', ansible_port: '2201' }), opts());
    assert.equal(t.address, '127.0.0.1');
    assert.equal(t.port, 2201);
  });

  it('reads -o options, -J and -i from ansible_ssh_common_args / ansible_ssh_extra_args', () => {
    const s = connectionSpecFor(
      host('x', {
        ansible_ssh_common_args: `-o 'UserKnownHostsFile=/tmp/a /tmp/b' -oStrictHostKeyChecking=accept-new -J jump@127.0.0.30:2030`,
        ansible_ssh_extra_args: '-i /tmp/extra_key -o "ConnectTimeout 3"',
      }),
      opts(),
    );
    assert.deepEqual(s.knownHostsFiles, ['/tmp/a', '/tmp/b']);
    assert.equal(s.hostKeyPolicy, 'accept-new');
    assert.equal(s.connectTimeoutMs, 3000);
    assert.deepEqual(s.privateKeyFiles, ['/tmp/extra_key']);
    assert.equal(s.proxyJump?.address, '127.0.0.30');
    assert.equal(s.proxyJump?.user, 'jump');
    assert.equal(s.proxyJump?.port, 2030);
  });

  it('resolves ProxyJump through the jump host own config', () => {
    const s = connectionSpecFor(host('inner'), opts());
    assert.equal(s.address, '127.0.0.10');
    const j = s.proxyJump!;
    assert.equal(j.host, 'bastion');
    assert.equal(j.address, '127.0.0.9');
    assert.equal(j.user, 'jumper');
    assert.equal(j.port, 2200);
    assert.deepEqual(j.privateKeyFiles, [join(home, '.ssh', 'bastion_key')]);
    assert.equal(j.proxyJump, undefined);
  });

  it('resolves a ProxyJump chain a,b as: a first, then b through a, then the target through b', () => {
    const s = connectionSpecFor(host('chained'), opts());
    const last = s.proxyJump!;
    assert.equal(last.host, 'bastion');
    assert.equal(last.address, '127.0.0.9');
    const first = last.proxyJump!;
    assert.equal(first.address, '127.0.0.21');
    assert.equal(first.user, 'hop1');
    assert.equal(first.port, 2021);
    assert.equal(first.proxyJump, undefined);
  });

  it('refuses a ProxyJump loop', () => {
    assert.throws(() => connectionSpecFor(host('loopy'), opts()), (e: unknown) => e instanceof InputError && /ProxyJump chain deeper/.test(e.message));
  });

  it('uses ssh-agent from SSH_AUTH_SOCK unless IdentityAgent none', () => {
    const env = { SSH_AUTH_SOCK: '/tmp/agent.sock' };
    assert.equal(connectionSpecFor(host('plain'), opts({ env })).agent, '/tmp/agent.sock');
    assert.equal(connectionSpecFor(host('noagent'), opts({ env })).agent, undefined);
  });

  it('become and its password: vars, then the option, then PROVISION_BECOME_PASS', () => {
    const warnings: string[] = [];
    const a = connectionSpecFor(host('h', { ansible_become: 'yes', ansible_become_password: 'fromvars' }), opts({ warn: (m) => warnings.push(m), becomePassword: 'opt' }));
    assert.equal(a.become, true);
    assert.equal(a.becomePassword, 'fromvars');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /ansible_become_password/);
    assert.equal(connectionSpecFor(host('h', { ansible_become: true }), opts({ becomePassword: 'opt', env: { PROVISION_BECOME_PASS: 'env' } })).becomePassword, 'opt');
    assert.equal(connectionSpecFor(host('h', { ansible_become: true }), opts({ env: { PROVISION_BECOME_PASS: 'env' } })).becomePassword, 'env');
    assert.equal(connectionSpecFor(host('h', { ansible_become: false }), opts({ become: true })).become, false);
    assert.equal(connectionSpecFor(host('h'), opts({ become: true })).become, true);
  });

  it('the SSH password: ansible_password (or ansible_ssh_pass), else the -k option; none by default', () => {
    assert.equal(connectionSpecFor(host('h', { ansible_password: 'inv' }), opts({ password: 'opt' })).password, 'inv');
    assert.equal(connectionSpecFor(host('h', { ansible_ssh_pass: 'old' }), opts()).password, 'old');
    assert.equal(connectionSpecFor(host('h'), opts({ password: 'opt' })).password, 'opt');
    assert.equal(connectionSpecFor(host('h'), opts()).password, undefined);
    assert.equal(connectionSpecFor(host('h', { ansible_password: '' }), opts()).password, undefined);
    assert.throws(() => connectionSpecFor(host('h', { ansible_password: ['x'] }), opts()), /ansible_password must be a string/);
  });

  it('an explicit hostKeyPolicy option (command line) overrides config and vars', () => {
    assert.equal(connectionSpecFor(host('web5'), opts({ hostKeyPolicy: 'strict' })).hostKeyPolicy, 'strict');
  });

  it('rejects invalid values with InputError naming the host', () => {
    const bad = (vars: Record<string, unknown>, re: RegExp): void =>
      assert.throws(() => connectionSpecFor(host('h1', vars), opts()), (e: unknown) => e instanceof InputError && re.test(e.message) && e.message.includes('h1'));
    bad({ ansible_port: 'abc' }, /ansible_port must be a port number/);
    bad({ ansible_port: 70000 }, /port number/);
    bad({ ansible_become: 'maybe' }, /ansible_become must be a boolean/);
    bad({ ansible_become_method: 'su' }, /only sudo/);
    bad({ ansible_ssh_common_args: '-o StrictHostKeyChecking=sometimes' }, /StrictHostKeyChecking/);
    bad({ ansible_ssh_common_args: "-o 'unterminated" }, /unterminated quote/);
    bad({ ansible_ssh_common_args: '-o ProxyCommand=nc %h %p' }, /ProxyCommand is not supported/);
  });

  it('works without any ssh config file', () => {
    const s = connectionSpecFor(host('h', { ansible_host: '127.0.0.1' }), { home, sshConfigPath: join(home, 'nope'), env: {}, localUser: 'bob', globalKnownHostsFiles: [] });
    assert.equal(s.address, '127.0.0.1');
    assert.equal(s.user, 'bob');
    assert.equal(s.connectTimeoutMs, 10_000);
  });

  it('adds the global known_hosts files after the user ones by default', () => {
    const s = connectionSpecFor(host('h'), { home, sshConfigPath: configPath, env: {}, localUser: 'bob' });
    assert.deepEqual(s.knownHostsFiles, [join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  });
});

describe('destinations and ssh args', () => {
  it('parses [user@]host[:port] forms', () => {
    assert.deepEqual(parseDestination('ops@127.0.0.1:2201', 'x'), { user: 'ops', host: '127.0.0.1', port: 2201 });
    assert.deepEqual(parseDestination('bastion', 'x'), { user: undefined, host: 'bastion', port: undefined });
    assert.deepEqual(parseDestination('u@[::1]:2222', 'x'), { user: 'u', host: '::1', port: 2222 });
    assert.deepEqual(parseDestination('ssh://u@h:2', 'x'), { user: 'u', host: 'h', port: 2 });
    assert.throws(() => parseDestination('@h', 'x'), InputError);
    assert.throws(() => parseDestination('h:99999', 'x'), InputError);
  });

  it('resolves a destination with the ssh config', () => {
    const s = connectionSpecForDestination('other@bastion:2201', opts());
    assert.equal(s.address, '127.0.0.9');
    assert.equal(s.user, 'other');
    assert.equal(s.port, 2201);
  });

  it('keeps the first -o value, like ssh', () => {
    assert.equal(parseSshArgs('-o Port=1 -o Port=2', 'x').options.port, '1');
  });
});
