// Running Debian's Ansible (ansible-core 2.14) as the oracle: in a scratch directory, with an
// empty ansible.cfg and HOME, so no user configuration or cache changes what it prints.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function findOnPath(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin').split(path.delimiter)) {
    const p = path.join(dir, bin);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

export function runAnsible(bin: string, args: string[], cwd: string, cfg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      {
        cwd, // a scratch directory: no ./ansible.cfg, no ./group_vars beside the playbook dir
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: cwd, // no ~/.ansible.cfg, no collections or caches from the user
          LANG: 'C.UTF-8',
          ANSIBLE_CONFIG: cfg, // an empty config file: every setting at its default
          ANSIBLE_LOCALHOST_WARNING: 'False',
          ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
          ANSIBLE_NOCOLOR: '1',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${path.basename(bin)} ${args.join(' ')} failed: ${stderr || err.message}`));
        resolve(stdout);
      },
    );
  });
}

/** `ansible-inventory -i S1 -i S2 ... --list`, parsed. */
export async function ansibleInventoryList(bin: string, sources: string[], cwd: string, cfg: string): Promise<unknown> {
  const out = await runAnsible(bin, [...sources.flatMap((s) => ['-i', s]), '--list'], cwd, cfg);
  try {
    return JSON.parse(out);
  } catch (e) {
    throw new Error(`ansible-inventory printed non-JSON for ${sources.join(' ')}: ${(e as Error).message}\n${out.slice(0, 500)}`);
  }
}

/** Run fn with a scratch directory and an empty ansible.cfg in it, removed afterwards. */
export async function withAnsibleScratch<T>(fn: (cwd: string, cfg: string) => Promise<T>): Promise<T> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'provision-ansible-'));
  const cfg = path.join(scratch, 'ansible.cfg');
  writeFileSync(cfg, '');
  try {
    return await fn(scratch, cfg);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
