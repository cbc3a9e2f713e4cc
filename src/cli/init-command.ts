// `provision init [DIR]`: a new project to start from: one example host, a playbook, a role
// with a few operations, a handler and a template, and the package.json and tsconfig.json that
// make `npm install && npx tsc --noEmit` and `npx provision check inventory/hosts.yaml` pass.
// provision is a dependency on this copy (file:), so it installs without network access.
import path from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { EXIT, InputError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { CliValues, Io } from './options.js';

const ROLE = `// The example role: a recipe of named tasks, each an operation of the catalogue
// (docs/operations.md of provision). Your editor completes operation names and options.
import { defineRole, sh } from 'provision';

export default defineRole({
  name: 'example',
  facts: [],
  handlers: {
    'record the change': (r) => r.command('note the new config', { cmd: sh\`date >> \${appRoot(r.vars)}/changes.log\` }),
  },
  async tasks(r) {
    const root = appRoot(r.vars);
    await r.directory('app directory', { path: root, mode: '0755' });
    await r.template('app config', { src: 'app.conf.ejs', dest: \`\${root}/app.conf\`, mode: '0644' }, { notify: 'record the change' });
    await r.copy('readme', { src: 'README.txt', dest: \`\${root}/README.txt\` });
    await r.line('debug off', { path: \`\${root}/app.conf\`, regexp: /^debug\\s*=/, line: 'debug = false' });
  },
});

function appRoot(vars: Record<string, unknown>): string {
  return typeof vars.app_root === 'string' ? vars.app_root : '/opt/example';
}
`;

const TEMPLATE = `# app.conf for <%- host.name %>, written by provision
greeting = <%- vars.greeting ?? 'hello' %>
debug = false
`;

const INVENTORY = `# Your hosts, as in Ansible (YAML or INI). One example host: point it at a machine you can
# reach with SSH, your key loaded in ssh-agent or named by ansible_ssh_private_key_file.
all:
  hosts:
    web1:
      ansible_host: 192.0.2.10
      ansible_user: admin
      ansible_become: true
      greeting: hello from provision
`;

const PLAYBOOK = `# Which roles run on which hosts (roles are found in ../roles).
- name: example
  hosts: all
  roles:
    - example
`;

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
  include: ['roles'],
};

/** The files of a new project, by path relative to its directory. */
export function scaffold(name: string): Record<string, string> {
  const own = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  // TypeScript and node's types: this copy's own when it has them (a checkout: installs with no
  // network), else the versions it was built with, from the registry.
  const dev = (name: string) => {
    const local = path.join(PACKAGE_ROOT, 'node_modules', name);
    return existsSync(path.join(local, 'package.json')) ? `file:${local}` : (own.devDependencies?.[name] ?? 'latest');
  };
  const pkg = {
    name,
    private: true,
    type: 'module',
    scripts: { check: 'provision check inventory/hosts.yaml', converge: 'provision inventory/hosts.yaml' },
    dependencies: { provision: `file:${PACKAGE_ROOT}` },
    devDependencies: { typescript: dev('typescript'), '@types/node': dev('@types/node') },
  };
  return {
    'package.json': JSON.stringify(pkg, null, 2) + '\n',
    'tsconfig.json': JSON.stringify(TSCONFIG, null, 2) + '\n',
    'inventory/hosts.yaml': INVENTORY,
    'playbooks/site.yaml': PLAYBOOK,
    'roles/example/index.ts': ROLE,
    'roles/example/templates/app.conf.ejs': TEMPLATE,
    'roles/example/files/README.txt': 'Managed by provision: edit roles/example/files/README.txt instead.\n',
  };
}

export async function initCommand(positionals: string[], _values: CliValues, io: Io): Promise<number> {
  if (positionals.length > 1) throw new InputError('usage: provision init [DIR]', { file: '<command line>' });
  const dir = path.resolve(positionals[0] ?? '.');
  const files = scaffold(path.basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'provision-project');
  const existing = Object.keys(files).filter((f) => existsSync(path.join(dir, f)));
  if (existing.length) throw new InputError(`${dir} already has ${existing.join(', ')}; nothing was written`, { file: dir });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  io.out(`Created a provision project in ${dir}:\n${Object.keys(files).map((f) => `  ${f}`).join('\n')}\n\nNext:\n  cd ${path.relative(process.cwd(), dir) || '.'}\n  npm install\n  npx tsc --noEmit\n  npx provision check inventory/hosts.yaml\n  npx provision inventory/hosts.yaml --check --diff`);
  return EXIT.OK;
}
