// A loopback target for end-to-end runs of the real CLI inside the test process: an sshd with
// the sudo test user, a temporary directory whose `target/` the playbooks write into (their
// `demo_root`), and an inventory naming it. Read-ahead records go to the directory too.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSshd, boxInventory, TEST_USER, type Sshd } from './sshd.js';
import { main } from '../../src/cli/main.js';

export interface BoxTarget {
  sshd: Sshd;
  dir: string;
  /** Where the playbooks write (`demo_root`). */
  root: string;
  inventory: string;
  stop(): Promise<void>;
}

export async function startBoxTarget(prefix: string): Promise<BoxTarget> {
  const sshd = await startSshd({ users: [TEST_USER] });
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  process.env.PROVISION_CACHE_DIR = path.join(dir, 'cache');
  const root = path.join(dir, 'target');
  const inventory = path.join(dir, 'hosts.yaml');
  await writeFile(inventory, boxInventory(sshd, { demo_root: root }));
  return {
    sshd, dir, root, inventory,
    async stop() {
      await sshd.stop();
      delete process.env.PROVISION_CACHE_DIR;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `provision ARGS...` in this process: its exit code and everything it printed. */
export async function runCli(...args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await main(args, { out: (s) => lines.push(s), err: (s) => lines.push(s), isTTY: false });
  return { code, output: lines.join('\n') };
}
