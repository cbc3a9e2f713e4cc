// TransportPool: at most one transport per host, opened lazily, all closed at the end of a run.
import type { Host } from '../inventory/types.js';
import { SshTransport, type SshTransportOptions } from './ssh.js';
import type { ConnectionSpec, Transport } from './types.js';

export interface TransportPoolOptions extends Omit<SshTransportOptions, 'jump'> {
  /** Build the transport for a spec (default: SshTransport). Tests pass a RecordingTransport factory. */
  create?: (spec: ConnectionSpec, jump: SshTransport | undefined) => Transport;
}

/**
 * `new TransportPool(host => connectionSpecFor(host, opts))`, then `await pool.get(host)` from any
 * task: the first call connects, later ones share it (a failed connection stays failed for the run).
 * Jump hosts are shared too: targets behind the same bastion use one connection to it.
 */
export class TransportPool {
  private readonly transports = new Map<string, Promise<Transport>>();
  private readonly made: Transport[] = [];
  private readonly jumps = new Map<string, SshTransport>();
  private closing = false;

  constructor(
    private readonly specFor: (host: Host) => ConnectionSpec,
    private readonly opts: TransportPoolOptions = {},
  ) {}

  /** The connected transport of `host` (connects on first use). Rejects with HostError when unreachable. */
  get(host: Host): Promise<Transport> {
    if (this.closing) return Promise.reject(new Error('TransportPool is closed'));
    let p = this.transports.get(host.name);
    if (!p) {
      p = (async () => {
        const spec = this.specFor(host);
        const jump = spec.proxyJump ? this.jumpFor(spec.proxyJump) : undefined;
        const t = this.opts.create ? this.opts.create(spec, jump) : new SshTransport(spec, { ...this.opts, jump });
        this.made.push(t);
        await t.connect();
        return t;
      })();
      this.transports.set(host.name, p);
    }
    return p;
  }

  /** Transports opened so far (connected or failed). */
  get opened(): Transport[] {
    return [...this.made];
  }

  /** Close every transport, then the jump hosts. */
  async closeAll(): Promise<void> {
    this.closing = true;
    await Promise.allSettled(this.made.map((t) => t.close()));
    await Promise.allSettled([...this.jumps.values()].map((j) => j.close()));
  }

  private jumpFor(spec: ConnectionSpec): SshTransport {
    const key = specKey(spec);
    let j = this.jumps.get(key);
    if (!j) {
      const { create: _create, onChannelCount: _count, ...rest } = this.opts;
      j = new SshTransport(spec, { ...rest, jump: spec.proxyJump ? this.jumpFor(spec.proxyJump) : undefined });
      this.jumps.set(key, j);
    }
    return j;
  }
}

function specKey(spec: ConnectionSpec): string {
  const via = spec.proxyJump ? ` via ${specKey(spec.proxyJump)}` : '';
  return `${spec.user}@${spec.address}:${spec.port}${via}`;
}
