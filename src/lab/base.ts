// The cached base image (debootstrap'ed Debian 12, shared read-only by every host through
// overlayfs) and the offline apt repository the hosts install from. Both live under the
// cache dir, outside the repo, and are rebuilt only when the recipe changes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAptSources, pickDebianMirror, renderSourcesList } from './apt-sources.js';
import { BASE_INCLUDE, RECIPE_VERSION, REPO_MOUNT, REPO_PACKAGES, REPO_SOURCE_LINE, SUITE, type LabPaths } from './config.js';
import { have, removeTree, run, runStreaming, type Log } from './sys.js';

/** What the cache must have been built from; any change rebuilds it. */
export function recipeKey(): string {
  const recipe = JSON.stringify({ v: RECIPE_VERSION, suite: SUITE, include: BASE_INCLUDE, packages: REPO_PACKAGES, mount: REPO_MOUNT });
  return createHash('sha256').update(recipe).digest('hex').slice(0, 16);
}

function stampFile(p: LabPaths): string {
  return join(p.cacheDir, 'stamp.json');
}

export function cacheReady(p: LabPaths): boolean {
  try {
    const s = JSON.parse(readFileSync(stampFile(p), 'utf8')) as { key?: string };
    return s.key === recipeKey() && existsSync(join(p.base, 'etc', 'os-release')) && existsSync(join(p.repo, 'Packages'));
  } catch {
    return false;
  }
}

/** Run a command inside a directory tree with systemd-nspawn (not booted). */
export async function inTree(root: string, script: string, extra: string[] = []): Promise<void> {
  await runStreaming(
    'systemd-nspawn',
    ['-q', '--register=no', '--keep-unit', '-M', 'provision-lab-build', '--timezone=off', '--link-journal=no', '-D', root, ...extra, '/bin/sh', '-euc', script],
    () => {},
  );
}

/** The shell script that turns a fresh debootstrap into the lab's stock server image. */
/** Shell lines: the offline repository at REPO_MOUNT becomes the tree's only apt source. */
export const OFFLINE_APT_LINES = [
  'rm -f /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources',
  `echo ${JSON.stringify(REPO_SOURCE_LINE)} > /etc/apt/sources.list`,
  'rm -rf /var/lib/apt/lists/*',
  'apt-get -q update',
  'apt-get clean',
];

function configureScript(): string {
  return [
    // apt: the bind-mounted offline repository is the only source; lists are read from it.
    ...OFFLINE_APT_LINES,
    // the operator account Ansible-style tools log in as
    'id ops >/dev/null 2>&1 || useradd -m -s /bin/bash -G sudo ops',
    "echo 'ops ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/ops",
    'chmod 0440 /etc/sudoers.d/ops',
    'install -d -m 0700 -o ops -g ops /home/ops/.ssh',
    // sshd: one host key per host (generated before each host boots), keys only, no root
    'rm -f /etc/ssh/ssh_host_*',
    "printf '%s\\n' 'HostKey /etc/ssh/ssh_host_ed25519_key' 'PermitRootLogin no' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' > /etc/ssh/sshd_config.d/10-provision-lab.conf",
    // identity comes per host; no DNS server is reachable from the lab
    ': > /etc/machine-id',
    'rm -f /var/lib/dbus/machine-id',
    "echo '# provision lab: no DNS; names come from /etc/hosts' > /etc/resolv.conf",
    // periodic apt jobs would race provisioning for the dpkg lock
    'systemctl mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true',
    `mkdir -p ${REPO_MOUNT}`,
  ].join('\n');
}

/**
 * Make sure the base image and the offline repository exist and match the recipe. Builds
 * under *.new and renames into place, so an interrupted build is simply redone.
 */
export async function ensureBase(p: LabPaths, log: Log): Promise<boolean> {
  if (cacheReady(p)) return false;
  const t0 = Date.now();
  mkdirSync(p.cacheDir, { recursive: true });
  const mirror = pickDebianMirror(readAptSources(), SUITE);
  const baseNew = `${p.base}.new`;
  const repoNew = `${p.repo}.new`;
  await removeTree(baseNew);
  await removeTree(repoNew);

  log(`base image: debootstrap ${SUITE} (minbase + ${BASE_INCLUDE.length} packages) into ${p.base} — about a minute`);
  const args = ['--variant=minbase', `--include=${BASE_INCLUDE.join(',')}`];
  if (mirror.keyring && existsSync(mirror.keyring)) args.push(`--keyring=${mirror.keyring}`);
  args.push(SUITE, baseNew, mirror.uri);
  let retrieved = 0;
  let lastTick = Date.now();
  let lastLine = '';
  await runStreaming('debootstrap', args, (line) => {
    if (line.startsWith('I: Retrieving')) retrieved++;
    lastLine = line;
    if (Date.now() - lastTick > 10_000) {
      lastTick = Date.now();
      log(`  debootstrap: ${retrieved} files retrieved; ${lastLine.replace(/^I: /, '')}`);
    }
  });
  log(`  debootstrap done in ${Math.round((Date.now() - t0) / 1000)} s`);

  // Offline repository: resolve the roles' packages against the base image itself, with
  // the machine's own Debian sources, and download them (dependencies included).
  const t1 = Date.now();
  log(`apt repository: downloading ${REPO_PACKAGES.join(' ')} with their dependencies`);
  mkdirSync(repoNew, { recursive: true });
  writeFileSync(join(baseNew, 'etc/apt/sources.list'), renderSourcesList(mirror, (k) => existsSync(join(baseNew, k))));
  await inTree(
    baseNew,
    [
      'rm -f /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources',
      'apt-get -q update',
      `apt-get -q -y install --download-only -o Dir::Cache::archives=/var/cache/apt/archives/lab ${REPO_PACKAGES.join(' ')}`,
      'rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin',
    ].join('\n'),
    [`--bind=${repoNew}:/var/cache/apt/archives/lab`],
  );
  await run`rm -rf ${join(repoNew, 'partial')} ${join(repoNew, 'lock')}`;
  const debs = readdirSync(repoNew).filter((f) => f.endsWith('.deb'));
  if (debs.length === 0) throw new Error('apt repository: the download produced no .deb files');
  await indexRepo(repoNew);
  log(`  ${debs.length} packages in ${Math.round((Date.now() - t1) / 1000)} s`);

  // Turn the tree into the lab's server image; `apt-get update` runs against the repository
  // bind-mounted where the hosts will see it, so their apt lists match it.
  await inTree(baseNew, configureScript(), ['--private-network', `--bind-ro=${repoNew}:${REPO_MOUNT}`]);

  await removeTree(p.base);
  await removeTree(p.repo);
  renameSync(repoNew, p.repo);
  renameSync(baseNew, p.base);
  writeFileSync(stampFile(p), JSON.stringify({ key: recipeKey(), built: new Date().toISOString(), mirror: mirror.uri }, null, 2) + '\n');
  log(`base image and apt repository ready in ${Math.round((Date.now() - t0) / 1000)} s`);
  return true;
}

/** Write the flat repository's Packages index (dpkg-scanpackages, else apt-ftparchive). */
async function indexRepo(dir: string): Promise<void> {
  const out = join(dir, 'Packages');
  if (await have('dpkg-scanpackages')) {
    writeFileSync(out, await run`cd ${dir} && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null`);
  } else if (await have('apt-ftparchive')) {
    writeFileSync(out, await run`cd ${dir} && apt-ftparchive packages .`);
  } else {
    throw new Error('no repository indexer: install dpkg-dev (dpkg-scanpackages) or apt-utils (apt-ftparchive)');
  }
}
