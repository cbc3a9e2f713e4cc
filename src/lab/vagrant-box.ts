// The Vagrant box for `lab up --vagrant`: no box can be downloaded here, so one is built from
// the machine's own apt sources as the container lab's base image is (debootstrap), plus a
// kernel, udev, ifupdown with DHCP on the management NIC, the `vagrant` user with Vagrant's
// insecure key (replaced at the first `up`) and the lab's offline apt repository inside the
// image. The kernel boots directly (vagrant-libvirt's kernel/initrd/cmdline, set by the
// box's own Vagrantfile), so no bootloader is installed. Cached like the lab's base image.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAptSources, pickDebianMirror } from './apt-sources.js';
import { OFFLINE_APT_LINES, inTree } from './base.js';
import { BASE_INCLUDE, REPO_MOUNT, SUITE, type LabPaths } from './config.js';
import { removeTree, run, runStreaming, type Log } from './sys.js';

export const BOX_NAME = 'provision/bookworm';
/** What the box adds to the lab's base packages: a kernel that boots, devices, networking. */
export const BOX_INCLUDE = [...BASE_INCLUDE, 'linux-image-amd64', 'initramfs-tools', 'udev', 'kmod', 'ifupdown', 'isc-dhcp-client', 'ca-certificates'];
export const BOX_CMDLINE = 'root=/dev/vda rw console=ttyS0 net.ifnames=0 biosdevname=0';
const DISK_GB = 4;
const BOX_RECIPE = 1;

export interface BoxPaths {
  dir: string;
  tree: string;
  file: string;
  stamp: string;
}

export function boxPaths(p: LabPaths): BoxPaths {
  const dir = join(p.cacheDir, 'vagrant');
  return { dir, tree: join(dir, 'tree'), file: join(dir, 'provision-bookworm.box'), stamp: join(dir, 'stamp.json') };
}

export function boxKey(): string {
  return createHash('sha256').update(JSON.stringify({ v: BOX_RECIPE, include: BOX_INCLUDE, cmdline: BOX_CMDLINE, disk: DISK_GB })).digest('hex').slice(0, 16);
}

export function boxReady(p: LabPaths): boolean {
  const b = boxPaths(p);
  try {
    return (JSON.parse(readFileSync(b.stamp, 'utf8')) as { key?: string }).key === boxKey() && existsSync(b.file);
  } catch {
    return false;
  }
}

/** Vagrant's insecure public key, read from the installed vagrant (never written in the repo). */
export function insecureKey(): string {
  const roots = ['/usr/share/rubygems-integration/all/gems', '/opt/vagrant/embedded/gems/gems', '/opt/vagrant/embedded/gems'];
  for (const r of roots) {
    if (!existsSync(r)) continue;
    for (const d of readdirSync(r).filter((x) => /^vagrant-\d/.test(x)).sort().reverse()) {
      const f = join(r, d, 'keys', 'vagrant.pub');
      if (existsSync(f)) return readFileSync(f, 'utf8').trim();
    }
  }
  throw new Error("vagrant's insecure key (keys/vagrant.pub) not found: install vagrant (apt-get install vagrant)");
}

/** The box's own Vagrantfile: direct kernel boot from the files shipped beside the disk. */
export function boxVagrantfile(): string {
  return `# Box-level defaults of ${BOX_NAME} (built by provision lab up --vagrant).
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.join(File.dirname(__FILE__), "vmlinuz")
    lv.initrd = File.join(File.dirname(__FILE__), "initrd.img")
    lv.cmdline = "${BOX_CMDLINE}"
  end
end
`;
}

/** The script that turns the debootstrap'ed tree into a Vagrant-ready server. */
export function boxConfigureScript(pubKey: string): string {
  return [
    // The offline repository (copied into the image) is the only apt source: no way out.
    ...OFFLINE_APT_LINES,
    // Vagrant's conventions: user vagrant, sudo without a password, the insecure key.
    'id vagrant >/dev/null 2>&1 || useradd -m -s /bin/bash vagrant',
    "echo 'vagrant ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/vagrant",
    'chmod 0440 /etc/sudoers.d/vagrant',
    'install -d -m 0700 -o vagrant -g vagrant /home/vagrant/.ssh',
    `echo ${JSON.stringify(pubKey)} > /home/vagrant/.ssh/authorized_keys`,
    'chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys && chmod 0600 /home/vagrant/.ssh/authorized_keys',
    // sshd: host keys made at first boot (each VM its own), no reverse DNS (there is none).
    'rm -f /etc/ssh/ssh_host_*',
    "printf '%s\\n' 'UseDNS no' 'PermitRootLogin no' 'PasswordAuthentication no' > /etc/ssh/sshd_config.d/10-provision-vagrant.conf",
    "printf '%s\\n' '[Unit]' 'Description=SSH host keys of this VM' 'Before=ssh.service' 'ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key' '[Service]' 'Type=oneshot' 'ExecStart=/usr/bin/ssh-keygen -A' '[Install]' 'WantedBy=multi-user.target' > /etc/systemd/system/ssh-hostkeys.service",
    'systemctl enable ssh-hostkeys.service ssh.service >/dev/null 2>&1',
    // Networking: the management NIC by DHCP; Vagrant adds the private networks itself.
    "printf '%s\\n' 'source /etc/network/interfaces.d/*' 'auto lo' 'iface lo inet loopback' 'auto eth0' 'iface eth0 inet dhcp' > /etc/network/interfaces",
    "printf '%s\\n' '/dev/vda / ext4 defaults,errors=remount-ro 0 1' > /etc/fstab",
    'echo bookworm > /etc/hostname',
    "printf '%s\\n' '127.0.0.1 localhost' '127.0.1.1 bookworm' > /etc/hosts",
    ': > /etc/machine-id',
    'rm -f /var/lib/dbus/machine-id',
    // No DNS server is reachable from the lab; periodic apt jobs would race provisioning.
    ': > /etc/resolv.conf',
    'systemctl mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true',
    'rm -rf /var/lib/apt/lists/partial /var/cache/apt/*.bin /var/log/*.log',
  ].join('\n');
}

/** Build the box if the cache lacks it (or its recipe changed); returns the .box path. */
export async function ensureBox(p: LabPaths, log: Log): Promise<{ file: string; built: boolean; seconds: number }> {
  const b = boxPaths(p);
  const t0 = Date.now();
  if (boxReady(p)) return { file: b.file, built: false, seconds: 0 };
  if (!existsSync(join(p.repo, 'Packages'))) throw new Error(`the lab's apt repository ${p.repo} is missing: run \`provision lab up\` once to build the cache`);
  mkdirSync(b.dir, { recursive: true });
  await removeTree(b.tree);
  const mirror = pickDebianMirror(readAptSources(), SUITE);
  log(`vagrant box: debootstrap ${SUITE} with a kernel into ${b.tree}`);
  const args = ['--variant=minbase', `--include=${BOX_INCLUDE.join(',')}`];
  if (mirror.keyring && existsSync(mirror.keyring)) args.push(`--keyring=${mirror.keyring}`);
  await runStreaming('debootstrap', [...args, SUITE, b.tree, mirror.uri], () => {});
  log(`  debootstrap done in ${Math.round((Date.now() - t0) / 1000)} s`);
  await run`cp -a ${p.repo} ${join(b.tree, REPO_MOUNT)}`;
  await inTree(b.tree, boxConfigureScript(insecureKey()), ['--private-network']);
  const stage = join(b.dir, 'stage');
  await removeTree(stage);
  mkdirSync(stage, { recursive: true });
  const boot = readdirSync(join(b.tree, 'boot'));
  const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
  const initrd = boot.find((f) => f.startsWith('initrd.img-'));
  if (!kernel || !initrd) throw new Error(`no kernel/initrd in ${b.tree}/boot (${boot.join(' ')})`);
  copyFileSync(join(b.tree, 'boot', kernel), join(stage, 'vmlinuz'));
  copyFileSync(join(b.tree, 'boot', initrd), join(stage, 'initrd.img'));
  chmodSync(join(stage, 'vmlinuz'), 0o644);
  chmodSync(join(stage, 'initrd.img'), 0o644);
  const raw = join(b.dir, 'disk.raw');
  await run`rm -f ${raw} && truncate -s ${`${DISK_GB}G`} ${raw} && mkfs.ext4 -q -F -L root -d ${b.tree} ${raw}`;
  await run`qemu-img convert -O qcow2 ${raw} ${join(stage, 'box.img')} && rm -f ${raw}`;
  writeFileSync(join(stage, 'metadata.json'), JSON.stringify({ provider: 'libvirt', format: 'qcow2', virtual_size: DISK_GB }) + '\n');
  writeFileSync(join(stage, 'Vagrantfile'), boxVagrantfile());
  await run`tar -cf ${b.file} -C ${stage} metadata.json Vagrantfile box.img vmlinuz initrd.img`;
  await removeTree(stage);
  await removeTree(b.tree);
  const seconds = Math.round((Date.now() - t0) / 1000);
  writeFileSync(b.stamp, JSON.stringify({ key: boxKey(), built: new Date().toISOString(), seconds }, null, 2) + '\n');
  log(`vagrant box ${b.file} built in ${seconds} s`);
  return { file: b.file, built: true, seconds };
}
