// A Transport that runs commands on this machine with `sh -c`: for fast tests of operations
// on temporary directories. (The SSH path is tested against a real sshd elsewhere.)
import { spawn } from 'node:child_process';
import { writeFile, rename, chmod, chown } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Transport, ExecResult, ExecOptions, PutOptions } from '../../src/transport/types.js';
import type { Shell } from '../../src/transport/quote.js';

export class LocalTransport implements Transport {
  readonly commands: string[] = [];
  constructor(readonly host = 'local') {}
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  exec(cmd: Shell, opts: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push(cmd.text);
    return new Promise((resolve) => {
      const p = spawn('sh', ['-c', cmd.text], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code, signal) => resolve({ stdout, stderr, code, signal: signal ?? undefined }));
      p.stdin.on('error', () => {}); // the command may exit without reading stdin
      p.stdin.end(opts.stdin ?? '');
    });
  }
  async put(target: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.provision-tmp-${randomBytes(4).toString('hex')}`);
    await writeFile(tmp, content);
    if (opts.mode) await chmod(tmp, parseInt(opts.mode, 8));
    if (opts.owner || opts.group) {
      const id = async (flag: string, name?: string) => (name ? Number((await this.exec({ text: `id ${flag} ${name}` } as Shell)).stdout.trim()) : -1);
      await chown(tmp, await id('-u', opts.owner), opts.group ? Number((await this.exec({ text: `getent group ${opts.group} | cut -d: -f3` } as Shell)).stdout.trim()) : -1);
    }
    await rename(tmp, target);
  }
}
