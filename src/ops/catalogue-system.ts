// Catalogue entries of packages, services, sysctls and commands (plans in ./system.ts).
import { defineOperation } from './operation.js';
import { t, required } from './schema.js';
import { planPackage, planService, planSysctl, planCommand } from './system.js';

export const pkg = defineOperation({
  summary: "Packages installed or removed with the host's package manager (apt, dnf, yum).",
  ansible: 'ansible.builtin.package / apt / dnf / yum',
  options: {
    name: required(t.strings('package name(s)')),
    state: t.oneOf(['present', 'absent'], 'installed or removed', { default: 'present' }),
  },
  reads: 'the package list from the facts (os, packageManager, packages)',
  changes: 'apt-get install/purge (one apt-get update and a retry when lists are stale), dnf/yum install/remove',
  checkMode: '--check names the packages it would install or remove',
  example: `await r.package('nginx installed', { name: ['nginx', 'curl'] });`,
  run: (ctx, spec) => planPackage(ctx, spec),
});

export const service = defineOperation({
  summary: 'A service started, stopped, restarted or reloaded, and enabled or not at boot.',
  ansible: 'ansible.builtin.service / ansible.builtin.systemd',
  options: {
    name: required(t.string('service (unit) name')),
    state: t.oneOf(['started', 'stopped', 'restarted', 'reloaded'], 'wanted state; restarted and reloaded always act'),
    enabled: t.boolean('started at boot'),
    use: t.oneOf(['auto', 'systemd', 'openrc', 'sysvinit'], 'the init system; auto: systemd where it is PID 1, else OpenRC (rc-service) or SysV (service)', { default: 'auto' }),
  },
  reads: 'the unit state from the facts (services), else one systemctl show; without systemd the status and boot links (rc-service/rc-update, service/update-rc.d or chkconfig)',
  changes: 'systemctl enable/disable/start/stop/restart/reload; without systemd rc-service/rc-update or service/update-rc.d/chkconfig, the message naming which',
  checkMode: '--check says what it would do',
  example: `await r.service('nginx running', { name: 'nginx', state: 'started', enabled: true });`,
  run: (ctx, spec) => planService(ctx, spec),
});

export const sysctl = defineOperation({
  summary: 'A kernel parameter set now and persisted in /etc/sysctl.d.',
  ansible: 'ansible.posix.sysctl',
  options: {
    name: required(t.string('parameter name (net.ipv4.ip_forward)')),
    value: required(t.stringOrNumber('wanted value')),
    file: t.string('file under /etc/sysctl.d', { default: '"60-provision-<name>.conf"' }),
  },
  reads: 'sysctl -n and the persisted file',
  changes: 'sysctl -w and the file',
  checkMode: '--diff shows the persisted file',
  example: `await r.sysctl('forwarding', { name: 'net.ipv4.ip_forward', value: 1 });`,
  run: (ctx, spec) => planSysctl(ctx, spec),
});

export const command = defineOperation({
  summary: 'A command run unless `creates` exists or `unless` succeeds.',
  ansible: 'ansible.builtin.command / ansible.builtin.shell (creates=)',
  options: {
    cmd: required(t.shell('the command, built with sh`...`')),
    creates: t.string('skip when this path exists'),
    unless: t.shell('skip when this read-only check succeeds'),
    readOnly: t.boolean('a read: also run in --check', { default: 'false' }),
  },
  reads: '`creates` (test -e) and `unless`',
  changes: 'whatever the command does',
  checkMode: '--check does not run it (reported as a change)',
  example: 'await r.command(\'initdb\', { cmd: sh`pg_createcluster 15 main`, creates: \'/etc/postgresql/15/main\' });',
  run: (ctx, spec) => planCommand(ctx, spec),
});
