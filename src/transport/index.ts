// Public face of the transport layer.
export type { ConnectionSpec, ExecOptions, ExecResult, PutOptions, Transport } from './types.js';
export { q, raw, sh, Shell } from './quote.js';
export { SshTransport, DEFAULT_MAX_CHANNELS } from './ssh.js';
export type { ChannelStats, SshTransportOptions } from './ssh.js';
export { describeConnectError } from './connect.js';
export type { ConnectErrorContext } from './connect.js';
export { parseMode } from './upload.js';
export { connectionSpecFor, connectionSpecForDestination, parseDestination, parseSshArgs } from './connection.js';
export type { ConnectionSpecOptions } from './connection.js';
export {
  appendKnownHost,
  checkHostKey,
  decideHostKey,
  entryMatchesHost,
  fingerprintSha256,
  hashHostName,
  keyTypeOf,
  knownHostsLine,
  knownHostsName,
  loadKnownHosts,
  parseKnownHosts,
} from './known-hosts.js';
export type { HostKeyDecision, HostKeyPolicy, HostKeyVerdict, KnownHostEntry } from './known-hosts.js';
export { RecordingTransport } from './recording.js';
export type { CommandMatcher, RecordedExec, RecordedPut, RecordingTransportOptions, ScriptedAnswer } from './recording.js';
export { TransportPool } from './pool.js';
export type { TransportPoolOptions } from './pool.js';
export { findStaleTemps, removeStaleTemps, tempPathFor, TEMP_FILE_GLOB } from './tempfiles.js';
export type { StaleTempOptions } from './tempfiles.js';
export { Semaphore } from './semaphore.js';
