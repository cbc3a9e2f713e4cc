// YAML tasks without a host: Jinja2 through nunjucks and Ansible's filters, k=v arguments,
// validation errors at file:line, Ansible's fact names, and one module run ad hoc on this
// machine (a temporary directory) through a local transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalTransport } from '../helpers/local-transport.js';
import type { OpContext } from '../../src/ops/types.js';
import type { Facts } from '../../src/facts/types.js';
import { renderString, condition, evaluate } from '../../src/tasks/jinja.js';
import { parseKeyValues } from '../../src/tasks/modules/args.js';
import { shlexSplit } from '../../src/tasks/modules/system.js';
import { parseYamlText } from '../../src/yamlfile.js';
import { parseTaskList } from '../../src/tasks/parse.js';
import { ansibleFacts } from '../../src/tasks/ansible-facts.js';
import { adhocModule, runAdhoc, ArgError } from '../../src/tasks/adhoc.js';
import { findModule } from '../../src/tasks/modules/index.js';
import { catalogueEntry } from '../../src/tasks/modules/mapped.js';
import { RecordingTransport } from '../../src/transport/recording.js';
import { emptyFacts } from '../../src/facts/index.js';

test('Jinja2 values: native types for a lone expression, Ansible filters, Python literals, undefined is an error', () => {
  const v = { users: ['a', 'b'], n: '7', on: 'yes', d: { k: 1 }, s: "it's" };
  assert.deepEqual(renderString('{{ users }}', v), ['a', 'b']);
  assert.equal(renderString('{{ users | join(",") | upper }}', v), 'A,B');
  assert.equal(renderString('{{ n | int + 1 }}', v), 8);
  assert.equal(renderString('{{ on | bool }}', v), true);
  assert.equal(renderString('{{ d | to_json }}', v), '{"k": 1}');
  assert.equal(renderString('{{ s | quote }}', v), `'it'"'"'s'`.replace(`'"'"'`, `'\\''`));
  assert.equal(renderString('x={{ missing | default("dflt") }}', v), 'x=dflt');
  assert.equal(renderString('{{ "a-b" | regex_replace("-(\\\\w)", "+\\\\1") }}', v), 'a+b');
  assert.deepEqual(renderString('{{ [1, [2, [3]]] | flatten }}', v), [1, 2, 3]);
  assert.deepEqual(renderString('{{ d | combine({"j": 2}) }}', v), { k: 1, j: 2 });
  assert.deepEqual(renderString('{{ d | dict2items }}', v), [{ key: 'k', value: 1 }]);
  assert.deepEqual(renderString('{{ [{"a": 1}, {"a": 2}] | map(attribute="a") | list }}', v), [1, 2]);
  assert.equal(renderString('{{ "/etc/x.conf" | basename }}', v), 'x.conf');
  assert.equal(evaluate('True and not False and None is none', v), true);
  assert.throws(() => renderString('{{ nope }}', v), /a variable is undefined/);
  assert.equal(condition('users | length == 2', v), true);
  assert.equal(condition(['users is defined', 'nope is defined'], v), false);
  assert.equal(condition('{{ d.k == 1 }}', v), true);
  const out = { changed: true, failed: false, stdout: 'v2.1' };
  assert.equal(condition(['out is changed', 'out is succeeded', 'out is not skipped', 'out.stdout is match("v2")', 'out.stdout is search("2\\.1")'], { out }), true);
});

test('k=v arguments: quotes group words; a free-form module keeps everything that is not its own argument', () => {
  assert.deepEqual(parseKeyValues(`path=/tmp/x state=touch mode="0644" content='a b'`), { path: '/tmp/x', state: 'touch', mode: '0644', content: 'a b' });
  const command = findModule('ansible.builtin.command')!;
  assert.deepEqual(parseKeyValues('echo a=b "c d" creates=/tmp/done', command), { cmd: 'echo a=b "c d"', creates: '/tmp/done' });
  assert.deepEqual(shlexSplit(`echo a=b "c d" 'e\\f' g\\ h`), ['echo', 'a=b', 'c d', 'e\\f', 'g h']);
  assert.throws(() => parseKeyValues('just words'), /expected key=value/);
});

test('tasks are checked before connecting: module, argument and value errors name file:line and the closest name', () => {
  const parse = (text: string) => {
    const y = parseYamlText('t.yml', text);
    return parseTaskList(y, [], y.value);
  };
  assert.throws(() => parse('- name: x\n  copy:\n    contnet: x\n    dest: /x\n'), (e: Error & { format(): string }) => /t\.yml:3:5: copy: unsupported argument "contnet" \(did you mean "content"\?\)/.test(e.format()));
  assert.throws(() => parse('- fiel: path=/x\n'), (e: Error & { format(): string }) => /t\.yml:1:3: unknown module or task keyword "fiel" \(did you mean "file"\?\)/.test(e.format()));
  assert.throws(() => parse('- file: path=/x state=directroy\n'), (e: Error & { format(): string }) => /state="directroy" is not supported \(did you mean "directory"\?\)/.test(e.format()));
  assert.throws(() => parse('- copy: content=x\n'), (e: Error & { format(): string }) => /missing required argument "dest"/.test(e.format()));
  assert.throws(() => parse('- debug: msg=x\n  loop: [1]\n  with_items: [2]\n'), (e: Error & { format(): string }) => /use one of loop, with_items/.test(e.format()));
  assert.throws(() => parse('- debug: msg=x\n  delegate_to: other\n'), (e: Error & { format(): string }) => /"delegate_to" is not supported/.test(e.format()));
  assert.throws(() => parse('- copy: {content: x, dest: /x, mode: 0644}\n'), (e: Error & { format(): string }) => /quoted octal string/.test(e.format()));
  // Values with Jinja2 are checked once rendered, at run time.
  const [t] = parse('- file: path=/x state="{{ s }}"\n  when: x is defined\n  notify: h\n  register: out\n');
  assert.equal(t.module.name, 'file');
  assert.deepEqual(t.notify, ['h']);
  assert.equal(t.where, 't.yml:1');
});

test("facts under Ansible's names", () => {
  const f = {
    hostname: 'web1.lab', os: { id: 'debian', versionId: '12', family: 'debian', prettyName: '' }, packageManager: 'apt',
    interfaces: [
      { name: 'lo', up: true, multicast: false, ipv4: ['127.0.0.1/8'], ipv6: [] },
      { name: 'eth0', up: true, multicast: true, mac: '02:00:00:00:00:01', ipv4: ['10.16.8.8/24'], ipv6: [] },
    ],
  } as unknown as Facts;
  const v = ansibleFacts(f, { os: true, hostname: true, interfaces: true });
  assert.equal(v.ansible_os_family, 'Debian');
  assert.equal(v.ansible_distribution, 'Debian');
  assert.equal(v.ansible_distribution_major_version, '12');
  assert.equal(v.ansible_hostname, 'web1');
  assert.deepEqual(v.ansible_interfaces, ['lo', 'eth0']);
  assert.equal((v.ansible_default_ipv4 as { address: string }).address, '10.16.8.8');
  assert.equal((v.ansible_facts as Record<string, unknown>).os_family, 'Debian');
});

test('adhoc: one module by name with a k=v string, checked first, then run (and a no-op the second time)', async () => {
  assert.throws(() => adhocModule('fille', 'path=/x'), (e: Error) => e instanceof ArgError && /did you mean "file"/.test(e.message));
  assert.throws(() => adhocModule('file', 'paht=/x'), /did you mean "path"/);
  const dir = await mkdtemp(path.join(tmpdir(), 'provision-adhoc-'));
  const t = new LocalTransport();
  const op: OpContext = {
    host: { name: 'local', groups: ['all'], vars: {} }, transport: t, read: (c) => t.exec(c),
    facts: async () => ({}) as Facts, factsChanged: () => {}, check: false, diff: false,
  };
  const m = adhocModule('file', `path=${dir}/{{ inventory_hostname }}.d state=directory mode=0750`);
  const first = await runAdhoc(m, op);
  assert.equal(first.changed, true);
  assert.equal((await stat(path.join(dir, 'local.d'))).mode & 0o777, 0o750);
  assert.equal((await runAdhoc(m, op)).changed, false);
  const sh = await runAdhoc(adhocModule('shell', `echo hi > ${dir}/out; echo done`), op);
  assert.equal(sh.result.stdout, 'done');
  assert.equal(sh.result.rc, 0);
  assert.equal(await readFile(path.join(dir, 'out'), 'utf8'), 'hi\n');
  await assert.rejects(runAdhoc(adhocModule('command', 'false'), op), /non-zero return code \(rc 1\)/);
  await rm(dir, { recursive: true, force: true });
});

test("the modules that are one catalogue operation find it by the Ansible module its entry names", () => {
  for (const [module, op] of [['user', 'user'], ['group', 'group'], ['cron', 'cron'], ['get_url', 'getUrl'], ['unarchive', 'unarchive'], ['wait_for', 'waitFor'], ['reboot', 'reboot']]) {
    assert.equal(catalogueEntry(module)?.[0], op, module);
    assert.ok(findModule(`ansible.builtin.${module}`), module);
  }
  // Ansible's argument names are checked before connecting, aliases included.
  assert.deepEqual(adhocModule('user', 'name=x createhome=no groups=a,b').args, { name: 'x', create_home: false, groups: ['a', 'b'] });
  assert.throws(() => adhocModule('get_url', 'url=http://127.0.0.1/ dest=/tmp/x checksm=sha256:00'), /did you mean "checksum"/);
});

test("service's use: picks the init system as Ansible's does (sysvinit: service, never systemctl, even with systemd facts)", async () => {
  const t = new RecordingTransport('h', { answers: [['service cron status', { code: 3 }]] });
  const op: OpContext = {
    host: { name: 'h', groups: ['all'], vars: {} }, transport: t, read: (c) => t.exec(c),
    facts: async () => ({ ...emptyFacts(), systemd: true }), factsChanged: () => {}, check: false, diff: false,
  };
  const r = await runAdhoc(adhocModule('service', 'name=cron state=started use=sysvinit'), op);
  assert.equal(r.message, 'started (SysV service)');
  assert.deepEqual(t.commands, ['service cron status', 'service cron start']);
  assert.throws(() => adhocModule('service', 'name=cron use=upstart'), /choose from auto, systemd, openrc, sysvinit/);
});
