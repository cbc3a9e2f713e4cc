// --tags and --skip-tags (src/runner/tags.ts), and handlers under them: a handler runs because
// it was notified, whatever its operations (r.template, r.file, r.command, r.task) and whatever
// the tag selection, once per host at the end of the role.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybook } from '../../src/runner/playbook.js';
import { runPlaybook } from '../../src/runner/run.js';
import { tagSelected } from '../../src/runner/tags.js';
import { RecordingTransport } from '../../src/transport/recording.js';
import { emptyFacts } from '../../src/facts/index.js';

let dir = '';

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'provision-tags-'));
  writeFileSync(path.join(dir, 'inventory.yaml'), 'all:\n  hosts:\n    a: {}\n');
  writeFileSync(path.join(dir, 'site.yaml'), '- hosts: all\n  tags: [web]\n  roles: [app]\n');
  mkdirSync(path.join(dir, 'roles', 'app', 'templates'), { recursive: true });
  writeFileSync(path.join(dir, 'roles', 'app', 'templates', 'app.conf.ejs'), 'host <%- host.name %>\n');
  writeFileSync(
    path.join(dir, 'roles', 'app', 'index.ts'),
    `import { defineRole, sh } from 'provision';
export default defineRole({
  name: 'app',
  facts: [],
  handlers: {
    'write conf': async (r) => {
      await r.template('conf from a template', { src: 'app.conf.ejs', dest: '/etc/app.conf' });
      await r.file('flag file', { path: '/etc/app.flag', content: 'x' });
      await r.command('reload app', { cmd: sh\`true\` });
      await r.task('own plan', async () => ({ changed: false }));
    },
  },
  async tasks(r) {
    await r.file('trigger', { path: '/etc/app.trigger', content: 't' }, { tags: ['deploy'], notify: 'write conf' });
    await r.file('other', { path: '/etc/app.other', content: 'o' }, { tags: ['other'] });
  },
});
`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(sel: { tags?: string[]; skipTags?: string[] }) {
  const inv = await loadInventory(path.join(dir, 'inventory.yaml'));
  const playbook = await loadPlaybook(path.join(dir, 'site.yaml'));
  const report = await runPlaybook({
    inventory: inv,
    playbook,
    selectHosts: () => [...inv.hosts.values()],
    connect: async (h) => new RecordingTransport(h.name),
    gatherFacts: async () => emptyFacts(),
    ...sel,
  });
  return report.tasks.map((t) => `${t.task}: ${t.status}`);
}

test('tagSelected: skip wins, always runs unless skipped, all selects everything, no selection runs all', () => {
  assert.equal(tagSelected({}, ['x']), true);
  assert.equal(tagSelected({ tags: ['x'] }, ['x', 'y']), true);
  assert.equal(tagSelected({ tags: ['x'] }, ['y']), false);
  assert.equal(tagSelected({ tags: ['x'] }, ['always']), true);
  assert.equal(tagSelected({ tags: ['all'] }, ['y']), true);
  assert.equal(tagSelected({ tags: ['x'], skipTags: ['x'] }, ['x']), false);
  assert.equal(tagSelected({ skipTags: ['always'] }, ['always']), false);
});

test('--tags selects the notifying task; the handler it notifies runs every operation, templates included', async () => {
  assert.deepEqual(await run({ tags: ['deploy'] }), ['trigger: changed', 'conf from a template: changed', 'flag file: changed', 'reload app: changed', 'own plan: ok']);
});

test('the play and the role are tags; --skip-tags of the notifying task runs neither it nor the handler', async () => {
  assert.deepEqual(await run({ tags: ['app'] }), ['trigger: changed', 'other: changed', 'conf from a template: changed', 'flag file: changed', 'reload app: changed', 'own plan: ok']);
  assert.deepEqual(await run({ tags: ['web'], skipTags: ['deploy'] }), ['other: changed']);
  assert.deepEqual(await run({ tags: ['nothing'] }), []);
});
