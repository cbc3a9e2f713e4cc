// A real OpenSSH sshd on loopback for tests: `const d = await startSshd(); ...; await d.stop()`.
// Needs /usr/sbin/sshd (Debian: openssh-server) and root (CI runs tests as root): sshd's privilege
// separation needs it, and so do the test users. Listens only on 127.0.0.0/8.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSpec } from '../../src/transport/types.js';
import { descendants } from '../../bench/lib/measure.js';

export const SSHD_BIN = '/usr/sbin/sshd';

/** Non-root user with passwordless sudo. */
export const TEST_USER = 'provtest';
/** Non-root user whose sudo asks for a password (TEST_PASSWORD). */
export const TEST_PW_USER = 'provtestpw';
export const TEST_PASSWORD = 'provtest-Sudo-pw-1';

export interface TestUser {
  name: string;
  /** nopasswd: `NOPASSWD: ALL`; password: `ALL` (password = `password`); none: no sudo rule. */
  sudo: 'nopasswd' | 'password' | 'none';
  password?: string;
}

export interface StartSshdOptions {
  /**
   * Users that must exist (created with useradd when missing, with a sudoers.d drop-in).
   * Names: TEST_USER (passwordless sudo) and TEST_PW_USER (sudo with TEST_PASSWORD) are known;
   * anything else needs a TestUser object. root always works.
   */
  users?: Array<string | TestUser>;
  /** Address to listen on (must be in 127.0.0.0/8). Default 127.0.0.1. */
  listenAddress?: string;
  /** sshd_config lines placed BEFORE the defaults, so they win (sshd keeps the first value). No Match blocks. */
  extraConfig?: string;
  /** sshd LogLevel (default VERBOSE: one "Connection from" line per connection; DEBUG1 also logs forwards). */
  logLevel?: 'INFO' | 'VERBOSE' | 'DEBUG1' | 'DEBUG2' | 'DEBUG3';
  /** Authorize this existing client key (its .pub next to it) instead of generating one. */
  clientKeyPath?: string;
}

export interface Sshd {
  address: string;
  port: number;
  /** known_hosts line for this server: `[127.0.0.1]:PORT ssh-ed25519 AAAA...`. */
  hostKeyPublic: string;
  /** The host key blob and its OpenSSH fingerprint (`SHA256:...`). */
  hostKeyBlob: Buffer;
  hostKeyFingerprint: string;
  /** Private key the server accepts for every user. */
  clientKeyPath: string;
  /** A known_hosts file that already holds `hostKeyPublic`. */
  knownHostsFile: string;
  /** Temporary directory of this server (removed by stop()). */
  dir: string;
  pid: number;
  /** Everything sshd logged so far (-e: the log goes to stderr). */
  log(): string;
  /** Number of TCP connections sshd accepted so far (from its log). */
  connectionCount(): number;
  /** Wait until the log matches (sshd logs asynchronously). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** A ConnectionSpec for this server (root, strict host keys, its known_hosts). */
  spec(overrides?: Partial<ConnectionSpec>): ConnectionSpec;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) {
    if (c.pid !== undefined && c.exitCode === null) {
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
});

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Can the sshd tests run here? (a reason string when not) */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD_BIN)) return `${SSHD_BIN} not installed (apt-get install openssh-server)`;
  if (!isRoot()) return 'sshd tests need root';
  return undefined;
}

/**
 * An sshd_config for a test or bench sshd: key logins only (the given authorized_keys file for
 * every user), no PAM, no DNS. `extra` lines come first, so they win (sshd keeps the first value).
 */
export function sshdConfig(o: { port: number; address: string; hostKey: string; authorizedKeys: string; logLevel: string; pidFile?: string; maxStartups?: string; maxSessions?: number; extra?: string }): string {
  return [
    o.extra ?? '',
    `Port ${o.port}`,
    `ListenAddress ${o.address}`,
    `HostKey ${o.hostKey}`,
    `PidFile ${o.pidFile ?? 'none'}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'UseDNS no',
    `MaxStartups ${o.maxStartups ?? '100:30:200'}`,
    ...(o.maxSessions ? [`MaxSessions ${o.maxSessions}`] : []),
    `LogLevel ${o.logLevel}`,
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

export async function startSshd(opts: StartSshdOptions = {}): Promise<Sshd> {
  const why = sshdUnavailable();
  if (why) throw new Error(why);
  const address = opts.listenAddress ?? '127.0.0.1';
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) throw new Error(`test sshd must listen on 127.0.0.0/8, not ${address}`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  for (const u of opts.users ?? []) ensureTestUser(typeof u === 'string' ? knownUser(u) : u);

  const dir = mkdtempSync(join(tmpdir(), 'provision-sshd-'));
  try {
    chmodSync(dir, 0o755); // users log in with keys read from here
    const hostKey = join(dir, 'ssh_host_ed25519_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provision-test-host', '-f', hostKey], { stdio: 'pipe' });
    let clientKeyPath = opts.clientKeyPath;
    if (!clientKeyPath) {
      clientKeyPath = join(dir, 'client_ed25519');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'provision-test-client', '-f', clientKeyPath], { stdio: 'pipe' });
    }
    const authorized = join(dir, 'authorized_keys');
    writeFileSync(authorized, readFileSync(clientKeyPath + '.pub', 'utf8'), { mode: 0o644 });
    chmodSync(authorized, 0o644);

    const [keyType, keyB64] = readFileSync(hostKey + '.pub', 'utf8').trim().split(/\s+/);
    const hostKeyBlob = Buffer.from(keyB64, 'base64');

    for (let attempt = 1; ; attempt++) {
      const port = await freePort(address);
      const config = sshdConfig({ extra: opts.extraConfig, port, address, hostKey, authorizedKeys: authorized, logLevel: opts.logLevel ?? 'VERBOSE' });
      const configPath = join(dir, 'sshd_config');
      writeFileSync(configPath, config, { mode: 0o600 });

      const child = spawn(SSHD_BIN, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      running.add(child);
      let log = '';
      const waiters = new Set<() => void>();
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => {
        log += d;
        for (const w of waiters) w();
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.once('exit', () => {
        running.delete(child);
        for (const w of waiters) w();
      });

      const waitForLog = (re: RegExp, timeoutMs = 10_000): Promise<string> =>
        new Promise((resolve, reject) => {
          const check = (): boolean => {
            const m = re.exec(log);
            if (m) {
              done();
              resolve(m[0]);
              return true;
            }
            if (child.exitCode !== null || child.signalCode !== null) {
              done();
              reject(new Error(`sshd exited (${child.exitCode ?? child.signalCode}) before logging ${re}:\n${log}`));
              return true;
            }
            return false;
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`sshd did not log ${re} within ${timeoutMs} ms:\n${log}`));
          }, timeoutMs);
          const w = (): void => void check();
          const done = (): void => {
            clearTimeout(timer);
            waiters.delete(w);
          };
          if (!check()) waiters.add(w);
        });

      try {
        await waitForLog(/Server listening on \S+ port \d+/);
      } catch (e) {
        if (child.exitCode === null) child.kill('SIGTERM');
        await exited;
        if (attempt < 4 && /Address already in use/.test(log)) continue; // lost the race for the port
        throw e;
      }

      const hostKeyPublic = `[${address}]:${port} ${keyType} ${keyB64}`;
      const knownHostsFile = join(dir, 'known_hosts');
      writeKnownHosts(knownHostsFile, hostKeyPublic);
      const pid = child.pid!;
      const clientKey = clientKeyPath;
      return {
        address,
        port,
        hostKeyPublic,
        hostKeyBlob,
        hostKeyFingerprint: 'SHA256:' + createHash('sha256').update(hostKeyBlob).digest('base64').replace(/=+$/, ''),
        clientKeyPath: clientKey,
        knownHostsFile,
        dir,
        pid,
        log: () => log,
        connectionCount: () => (log.match(/Connection from \S+ port \d+ on /g) ?? []).length,
        waitForLog,
        spec: (overrides = {}) => ({
          host: `sshd-${port}`,
          address,
          port,
          user: 'root',
          privateKeyFiles: [clientKey],
          become: false,
          hostKeyPolicy: 'strict',
          knownHostsFiles: [knownHostsFile],
          connectTimeoutMs: 5000,
          ...overrides,
        }),
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            // Its per-connection processes too (found before the listener goes and they are
            // reparented): a connection kept open by the CLI's connection keeper would otherwise
            // hold sshd's stderr, and so this stop, until the keeper closes it a minute later.
            for (const p of descendants(pid).filter((x) => x !== pid)) {
              try {
                process.kill(p, 'SIGTERM');
              } catch {
                // already gone
              }
            }
            process.kill(pid, 'SIGTERM');
            const t = setTimeout(() => {
              if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
            }, 3000);
            await exited;
            clearTimeout(t);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function knownUser(name: string): TestUser {
  if (name === TEST_USER) return { name, sudo: 'nopasswd' };
  if (name === TEST_PW_USER) return { name, sudo: 'password', password: TEST_PASSWORD };
  throw new Error(`unknown test user ${name}: pass a TestUser object`);
}

/**
 * Create a test user if missing (useradd) and its sudoers.d drop-in (validated with visudo).
 * Touches the system: only for test users; never modifies a user it did not create, except
 * writing its own /etc/sudoers.d/provision-test-<name> file.
 */
export function ensureTestUser(u: TestUser): void {
  if (!isRoot()) throw new Error('creating test users needs root');
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(u.name) || u.name === 'root') throw new Error(`bad test user name ${u.name}`);
  let exists = true;
  try {
    execFileSync('getent', ['passwd', u.name], { stdio: 'pipe' });
  } catch {
    exists = false;
  }
  if (!exists) {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', u.name], { stdio: 'pipe' });
    // A '!' password (useradd's default) locks the account for sshd without PAM.
    if (u.sudo === 'password') {
      if (!u.password) throw new Error(`test user ${u.name} needs a password`);
      execFileSync('chpasswd', [], { input: `${u.name}:${u.password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    } else {
      execFileSync('usermod', ['-p', '*', u.name], { stdio: 'pipe' });
    }
  }
  if (u.sudo === 'none') return;
  const file = `/etc/sudoers.d/provision-test-${u.name}`;
  const rule = `# provision test user (test/helpers/sshd.ts)\n${u.name} ALL=(ALL:ALL) ${u.sudo === 'nopasswd' ? 'NOPASSWD: ' : ''}ALL\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === rule) return;
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, rule, { mode: 0o440 });
  try {
    execFileSync('visudo', ['-c', '-q', '-f', tmp], { stdio: 'pipe' });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  execFileSync('mv', ['-f', tmp, file]);
}

/** Write a known_hosts file (0600) with these lines. */
export function writeKnownHosts(file: string, ...lines: string[]): void {
  writeFileSync(file, lines.map((l) => l.trim()).join('\n') + '\n', { mode: 0o600 });
}

/** A free TCP port on `address` (loopback). */
export function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, address, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A one-host inventory (host `box`) for a test sshd: its port, key, known_hosts, become.
 * `vars` are appended as `key: value` lines, values written as given (quote them yourself,
 * e.g. with JSON.stringify, where YAML needs it).
 */
export function boxInventory(sshd: Sshd, vars: Record<string, string | number> = {}, o: { user?: string | number; become?: string | number | boolean } = {}): string {
  return [
    'all:',
    '  hosts:',
    '    box:',
    '      ansible_host: 127.0.0.1',
    `      ansible_port: ${sshd.port}`,
    `      ansible_user: ${o.user ?? TEST_USER}`,
    `      ansible_ssh_private_key_file: ${sshd.clientKeyPath}`,
    `      provision_known_hosts_file: ${sshd.knownHostsFile}`,
    `      ansible_become: ${o.become ?? true}`,
    ...Object.entries(vars).map(([k, v]) => `      ${k}: ${v}`),
    '',
  ].join('\n');
}
