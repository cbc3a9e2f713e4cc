// Offline proof that the Ansible twin writes the same bytes as provision: render every file
// of every host both ways, without connecting to anything, and compare.
//
//   node --import tsx bench/ansible/compare.ts [inventory] [--set key=value]... [--vm] [--keepalived-version V]
//
// provision's side: the renderers of src/topology and src/ops/firewall.ts with the data the
// roles give them. Ansible's side: bench/ansible/render.yml (the twin's own templates and
// group_vars, run by ansible-playbook on the controller with delegate_to: localhost).
// Facts are assumed the same on both sides: Debian, a container (unless --vm), keepalived
// 2.2.7 (or --keepalived-version; "none" = not installed yet), firewalld not running.
// --set changes a key of `ha` on both sides (profile=fast, sync=true, advert_int=2 ...).
// Without an inventory: a lab inventory is generated (src/lab/inventory.ts), so this runs
// with the lab down. Exit 0 when every file is equal, 1 otherwise (with diffs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { loadInventory } from '../../src/inventory/index.js';
import type { Inventory } from '../../src/inventory/types.js';
import { deriveTopology } from '../../src/topology/index.js';
import { renderTemplate, templatePath, keepalivedConfData, notifyScriptData, nginxLbConfData, chooseTrackMethod } from '../../src/topology/render.js';
import { hostsEntries } from '../../src/topology/hosts.js';
import { renderNftables, firewalldRichRules, type FirewallPolicy } from '../../src/ops/firewall.js';
import { unifiedDiff } from '../../src/ops/diff.js';
import { renderLabInventory } from '../../src/lab/inventory.js';
import type { HaModel } from '../../src/topology/types.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');

export interface Assumed {
  container: boolean;
  keepalivedVersion: string | null;
  firewalldRunning: boolean;
}

/** The firewall policy of roles/firewall/index.ts for one host (same order of keys and items). */
export function firewallPolicy(model: HaModel, host: string, vars: Record<string, unknown>): FirewallPolicy {
  const sshPorts = [...new Set([22, Number(vars.ansible_port ?? 22)])];
  const node = model.nodes.find((n) => n.host === host);
  const policy: FirewallPolicy = { sshPorts, vrrp: [], tcp: [] };
  if (node) {
    for (const net of model.networks) {
      const iface = node.interfaces[net.name];
      if (!iface) continue;
      const peers = model.nodes.filter((n) => n.host !== node.host).map((n) => n.addresses[net.name]).filter(Boolean);
      policy.vrrp.push({ iface, peers, group: model.mcastGroup });
    }
    policy.tcp.push({ port: model.listenPort, daddr: model.vips.map((v) => v.address) });
  }
  const backendOf = model.backends.find((b) => b.host === host);
  if (backendOf) {
    const lbAddrs = model.nodes.map((n) => n.addresses[backendOf.network]).filter(Boolean);
    policy.tcp.push({ port: backendOf.port, saddr: lbAddrs });
  }
  return policy;
}

function roleDefault(role: string, key: string): unknown {
  const f = join(REPO, 'roles', role, 'defaults.yaml');
  return existsSync(f) ? (parseYaml(readFileSync(f, 'utf8')) as Record<string, unknown>)[key] : undefined;
}

/** Every file provision's roles would write, per host: relative path -> content. */
export function provisionFiles(inv: Inventory, a: Assumed): Map<string, Map<string, string>> {
  const hosts = [...inv.hosts.values()];
  const model = deriveTopology(hosts, { baseDir: dirname(inv.file) });
  const out = new Map<string, Map<string, string>>();
  for (const h of hosts) {
    const files = new Map<string, string>();
    const inGroup = (g: string) => h.groups.includes(g);
    const isLb = model.nodes.some((n) => n.host === h.name);
    files.set('etc/hosts.block', hostsEntries(inv));
    if (!inGroup(model.probeGroup) || isLb || inGroup(model.backendGroup)) {
      const servers = h.vars.timesync_servers ?? roleDefault('timesync', 'timesync_servers') ?? [];
      files.set('etc/chrony/chrony.conf', renderTemplate(templatePath('timesync', 'chrony.conf.ejs'), { servers }));
      const policy = firewallPolicy(model, h.name, h.vars);
      const backend = (h.vars.firewall_backend as string | undefined) ?? (a.firewalldRunning ? 'firewalld' : 'nftables');
      if (backend === 'nftables') files.set('etc/nftables.d/provision.nft', renderNftables(policy));
      files.set('etc/firewalld/rich-rules', backend === 'firewalld' ? firewalldRichRules(policy).join('\n') : '');
    } else {
      files.set('etc/firewalld/rich-rules', '');
    }
    if (model.backends.some((b) => b.host === h.name)) {
      const addrs = (h.vars.addresses ?? {}) as Record<string, string>;
      files.set('var/www/html/index.html', renderTemplate(templatePath('nginx_web', 'index.html.ejs'), { name: h.name, address: Object.values(addrs)[0] ?? '' }));
    }
    if (isLb) {
      files.set('etc/nginx/nginx.conf', renderTemplate(templatePath('nginx_lb', 'nginx.conf.ejs'), { ...nginxLbConfData(model, h.name, { osFamily: 'debian' }) }));
      files.set('etc/keepalived/notify.sh', renderTemplate(templatePath('keepalived', 'notify.sh.ejs'), { ...notifyScriptData(model, h.name) }));
      const method = model.profile.fixedMethod ?? chooseTrackMethod({ container: a.container, keepalivedVersion: a.keepalivedVersion });
      files.set(
        'etc/keepalived/keepalived.conf',
        renderTemplate(templatePath('keepalived', 'keepalived.conf.ejs'), { ...keepalivedConfData(model, h.name, { trackMethod: method, keepalivedVersion: a.keepalivedVersion }) }),
      );
    }
    out.set(h.name, files);
  }
  return out;
}

/** Render the twin's files with ansible-playbook (no connection) into `dir`. */
export function ansibleRender(inventory: string, dir: string, a: Assumed, haOverride?: Record<string, unknown>): void {
  const extra: Record<string, unknown> = {
    render_dir: dir,
    render_container: a.container,
    render_keepalived_version: a.keepalivedVersion ?? '',
    render_firewalld_running: a.firewalldRunning,
  };
  if (haOverride) extra.ha = haOverride;
  const r = spawnSync('ansible-playbook', ['-i', inventory, join(HERE, 'render.yml'), '-e', JSON.stringify(extra)], {
    cwd: HERE,
    env: { ...process.env, ANSIBLE_CONFIG: join(HERE, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`ansible-playbook render.yml failed (exit ${r.status}):\n${(r.stdout + r.stderr).split('\n').filter((l) => /fatal|failed|error/i.test(l)).slice(0, 12).join('\n')}`);
}

function setKey(obj: Record<string, unknown>, kv: string): void {
  const m = kv.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s);
  if (!m) throw new Error(`--set ${kv}: expected key=value`);
  obj[m[1]] = parseYaml(m[2]);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { set: { type: 'string', multiple: true }, vm: { type: 'boolean' }, 'keepalived-version': { type: 'string' }, firewalld: { type: 'boolean' } },
  });
  const tmp = mkdtempSync(join(tmpdir(), 'pv-twin-'));
  try {
    let invPath = positionals[0] ? resolve(positionals[0]) : '';
    if (!invPath) {
      invPath = join(tmp, 'lab.yaml');
      writeFileSync(invPath, renderLabInventory({ ports: { ka67: 2201, ka68: 2202, web1: 2203, web2: 2204, 'client-int': 2205, 'client-ext': 2206 }, keyFile: '/nonexistent/key', knownHostsFile: '/nonexistent/known_hosts' }));
    }
    const kv = values['keepalived-version'];
    const a: Assumed = { container: !values.vm, keepalivedVersion: kv === 'none' ? null : kv ?? '2.2.7', firewalldRunning: !!values.firewalld };
    const inv = await loadInventory(invPath);
    let haOverride: Record<string, unknown> | undefined;
    if (values.set?.length) {
      const first = [...inv.hosts.values()].find((h) => h.vars.ha !== undefined);
      haOverride = structuredClone((first?.vars.ha ?? {}) as Record<string, unknown>);
      for (const s of values.set) setKey(haOverride, s);
      for (const h of inv.hosts.values()) if (h.vars.ha !== undefined) h.vars.ha = structuredClone(haOverride);
    }
    const want = provisionFiles(inv, a);
    const dir = join(tmp, 'ansible');
    ansibleRender(invPath, dir, a, haOverride);
    let same = 0;
    const bad: string[] = [];
    for (const [host, files] of want) {
      for (const [rel, text] of files) {
        const f = join(dir, host, rel);
        const got = existsSync(f) ? readFileSync(f, 'utf8') : null;
        if (got === text) same++;
        else {
          bad.push(`${host}:/${rel}`);
          process.stdout.write(`${host}: /${rel} differs\n${unifiedDiff(`/${rel}`, text, got)}\n`);
        }
      }
    }
    const label = `${positionals[0] ?? 'generated lab inventory'}${values.set?.length ? ` with ${values.set.join(', ')}` : ''}; ${a.container ? 'container' : 'VM'}, keepalived ${a.keepalivedVersion ?? 'not installed'}`;
    process.stdout.write(bad.length ? `twin differs in ${bad.length} file(s) (${label}): ${bad.join(', ')}\n` : `twin renders ${same} files byte-identical to provision (${label})\n`);
    return bad.length ? 1 : 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
