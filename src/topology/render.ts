// Template rendering (ejs, never HTML-escaped) and the data each template receives.
// Templates live in roles/<role>/templates/*.ejs and use `<%-` only: renderTemplate
// refuses a template containing `<%=`, because HTML escaping corrupts configs
// (`"` -> `&#34;` in keepalived.conf).
import { readInputTextSync } from '../input-file.js';
import { resolve } from 'node:path';
import ejs from 'ejs';
import { q } from '../transport/quote.js';
import type { Secret } from './secret.js';
import type { HaModel, LbNode, ProfileName, TrackMethod, VrrpState } from './types.js';
import { PACKAGE_ROOT } from '../package-root.js';

/** Absolute path of roles/<role>/templates/<name>. */
export function templatePath(role: string, name: string): string {
  return resolve(PACKAGE_ROOT, 'roles', role, 'templates', name);
}

/** Render an ejs template string. Escaping is off; `<%=` is refused. */
export function renderString(template: string, data: Record<string, unknown>, filename = 'template'): string {
  const at = template.indexOf('<%=');
  if (at >= 0) {
    const line = template.slice(0, at).split('\n').length;
    throw new Error(`${filename}:${line}: "<%=" HTML-escapes its value and corrupts configs; use "<%-"`);
  }
  return ejs.render(template, data, { escape: (s: unknown) => String(s), filename, async: false, strict: false, rmWhitespace: false });
}

/** Render an ejs template file with `data` (see renderString). */
export function renderTemplate(path: string, data: Record<string, unknown>): string {
  return renderString(readInputTextSync(path, { what: 'template' }), data, path);
}

// ---------------------------------------------------------------------------------------
// keepalived.conf

/** Default paths on the target. */
export const PATHS = {
  notifyScript: '/etc/keepalived/notify.sh',
  keepalivedConf: '/etc/keepalived/keepalived.conf',
  /** Written by nginx's systemd drop-in (0 = running, 1 = stopped); watched by track_file. */
  trackFile: '/run/keepalived-nginx.state',
  nginxDropIn: '/etc/systemd/system/nginx.service.d/keepalived-track.conf',
};

/** First keepalived with vrrp_track_process (netlink proc connector). */
export const TRACK_PROCESS_MIN = '2.0.11';
/** First keepalived whose keyword is `track_file` (before: `vrrp_track_file`). */
export const TRACK_FILE_KEYWORD_MIN = '2.1.0';

export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The tracking method for a host, from facts: track_process where the netlink proc
 * connector works (not in a container: in a non-initial network namespace keepalived 2.2.7
 * logs "Failed to set/clear process event listen - errno 111" and stays in FAULT) and
 * keepalived >= 2.0.11; otherwise track_file fed by nginx's systemd drop-in.
 */
export function chooseTrackMethod(facts: { container: boolean; keepalivedVersion: string | null }): TrackMethod {
  if (!facts.container && facts.keepalivedVersion && compareVersions(facts.keepalivedVersion, TRACK_PROCESS_MIN) >= 0) return 'process';
  return 'file';
}

export type Tracker =
  | { kind: 'script'; name: string; script: string; interval: number; fall: number; rise: number; weight: number }
  | { kind: 'process'; name: string; process: string; quorum: number; weight: number }
  | { kind: 'file'; name: string; keyword: 'track_file' | 'vrrp_track_file'; file: string; weight: number; initValue: number };

export interface KeepalivedInstanceData {
  name: string;
  state: VrrpState;
  interface: string;
  vrid: number;
  priority: number;
  /** As keepalived reads it: "1", "0.1". */
  advertInt: string;
  version: 2 | 3;
  /** PASS password (VRRPv2 only); the template calls .reveal(). */
  authPass?: Secret;
  vips: { address: string; prefix: number; dev: string }[];
  notifyMaster: string;
  notifyBackup: string;
  notifyFault: string;
}

// Field names avoid `host`, `vars` and `facts`, which the runner passes to every template.
export interface KeepalivedConfData {
  hostname: string;
  routerId: string;
  profile: ProfileName;
  trackMethod: TrackMethod;
  mcastGroup: string;
  scriptUser: string;
  notifyScript: string;
  tracker: Tracker;
  instances: KeepalivedInstanceData[];
  /** trackingWeight: the tracker's weight is non-zero, which keepalived ignores in a sync group unless told otherwise. */
  syncGroups: { name: string; instances: string[]; trackingWeight: boolean }[];
}

export interface KeepalivedHostOptions {
  /** From chooseTrackMethod(facts); ignored by profile howto (always its vrrp_script). */
  trackMethod: TrackMethod;
  /** facts.keepalivedVersion ("2.2.7"); null when not installed yet (assumes a current one). */
  keepalivedVersion: string | null;
  notifyScript?: string;
  /**
   * User for scripts. Default root: with a non-root script_user, keepalived 2.2.7's
   * `keepalived -t` is killed (exit 143) as soon as a notify script is configured, and
   * `killall -0 nginx` cannot signal a root-owned nginx anyway (EPERM).
   */
  scriptUser?: string;
  trackFile?: string;
}

function nodeOf(model: HaModel, host: string): LbNode {
  const node = model.nodes.find((n) => n.host === host);
  if (!node) throw new Error(`${host} is not a load balancer of this topology (group ${model.lbGroup})`);
  return node;
}

/** keepalived's reading of an advert interval: whole seconds or up to centiseconds. */
function fmtAdvert(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Data for roles/keepalived/templates/keepalived.conf.ejs on one LB. */
export function keepalivedConfData(model: HaModel, host: string, opts: KeepalivedHostOptions): KeepalivedConfData {
  const node = nodeOf(model, host);
  if (!/^[A-Za-z0-9_.-]+$/.test(host)) throw new Error(`host name ${JSON.stringify(host)} cannot be a keepalived router_id`);
  const scriptUser = opts.scriptUser ?? 'root';
  if (!/^[a-z_][a-z0-9_-]*$/.test(scriptUser)) throw new Error(`script user ${JSON.stringify(scriptUser)} is not a user name`);
  const prof = model.profile;
  const method: TrackMethod = prof.fixedMethod ?? opts.trackMethod;
  const version = opts.keepalivedVersion;
  if (method === 'process' && version && compareVersions(version, TRACK_PROCESS_MIN) < 0) {
    throw new Error(`${host}: track_process needs keepalived >= ${TRACK_PROCESS_MIN}, found ${version}; use trackMethod 'file'`);
  }
  const trackFile = opts.trackFile ?? PATHS.trackFile;
  if (!/^\/[A-Za-z0-9_./-]+$/.test(trackFile)) throw new Error(`track file path ${JSON.stringify(trackFile)} must be absolute and plain`);
  const notifyScript = opts.notifyScript ?? PATHS.notifyScript;
  if (!/^\/[A-Za-z0-9_./-]+$/.test(notifyScript)) throw new Error(`notify script path ${JSON.stringify(notifyScript)} must be absolute and plain`);
  let tracker: Tracker;
  if (method === 'script') tracker = { kind: 'script', name: 'chk_nginx', script: prof.script.command, interval: prof.script.interval, fall: prof.script.fall, rise: prof.script.rise, weight: prof.weight };
  else if (method === 'process') tracker = { kind: 'process', name: 'nginx_process', process: 'nginx', quorum: 1, weight: prof.weight };
  else {
    const keyword = version && compareVersions(version, TRACK_FILE_KEYWORD_MIN) < 0 ? 'vrrp_track_file' : 'track_file';
    // weight 0: any non-zero value in the file puts the instances in FAULT. init_file 1: a
    // missing file (nginx never reported since boot) counts as "nginx down".
    tracker = { kind: 'file', name: 'nginx_state', keyword, file: trackFile, weight: 0, initValue: 1 };
  }
  const notify = (state: string, inst: string) => `${notifyScript} ${state} ${inst}`;
  const instances: KeepalivedInstanceData[] = node.instances.map((i) => ({
    name: i.name,
    state: i.state,
    interface: i.interface,
    vrid: i.vrid,
    priority: i.priority,
    advertInt: fmtAdvert(i.advertInt),
    version: i.version,
    authPass: i.version === 2 ? i.authPass : undefined,
    vips: i.vips.map((a) => ({ address: a, prefix: 32, dev: i.interface })),
    notifyMaster: notify('master', i.name),
    notifyBackup: notify('backup', i.name),
    notifyFault: notify('fault', i.name),
  }));
  const mine = new Set(instances.map((i) => i.name));
  // keepalived drops a sync group with a single member, so only groups of two or more are written.
  // In a sync group keepalived 2.2.7 ignores a weighted tracker ("ignoring tracked script
  // chk_nginx with weights due to SYNC group", `-t` exits 5) unless the group has
  // sync_group_tracking_weight; the groups hold instances with identical priorities, so it is safe.
  const syncGroups = model.syncGroups
    .map((g) => ({ name: g.name, instances: g.instances.filter((n) => mine.has(n)), trackingWeight: tracker.weight !== 0 }))
    .filter((g) => g.instances.length > 1);
  return {
    hostname: host,
    routerId: host,
    profile: prof.name,
    trackMethod: method,
    mcastGroup: model.mcastGroup,
    scriptUser,
    notifyScript,
    tracker,
    instances,
    syncGroups,
  };
}

/** The systemd drop-in for nginx that feeds track_file (install at PATHS.nginxDropIn, then daemon-reload). */
export function nginxTrackDropIn(trackFile = PATHS.trackFile): string {
  if (!/^\/[A-Za-z0-9_./-]+$/.test(trackFile)) throw new Error(`track file path ${JSON.stringify(trackFile)} must be absolute and plain`);
  return [
    '# Managed by provision: tells keepalived (track_file nginx_state, weight 0) whether nginx runs.',
    '# 0 = running; anything else puts the VRRP instances in FAULT. ExecStopPost also runs when',
    '# nginx dies or is killed. "-": a failed write must not fail nginx itself.',
    '[Service]',
    `ExecStartPost=-/bin/sh -c 'echo 0 > ${trackFile}'`,
    `ExecStopPost=-/bin/sh -c 'echo 1 > ${trackFile}'`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// notify.sh

export interface NotifyScriptData {
  hostname: string;
  /** Shell-quoted host name. */
  hostQ: string;
  logTag: string;
  /** Shell-quoted mail address, when ha.notify_mail is set. */
  mailToQ?: string;
}

export function notifyScriptData(model: HaModel, host: string): NotifyScriptData {
  nodeOf(model, host);
  return { hostname: host, hostQ: q(host), logTag: 'keepalived-notify', mailToQ: model.notifyMail ? q(model.notifyMail) : undefined };
}

// ---------------------------------------------------------------------------------------
// nginx.conf on the load balancers

export interface NginxLbOptions {
  osFamily: 'debian' | 'redhat' | 'unknown';
  pidFile?: string;
  errorLog?: string;
  accessLog?: string;
}

export interface NginxLbConfData {
  hostname: string;
  user: string;
  pidFile: string;
  errorLog: string;
  accessLog: string;
  modulesInclude: string;
  mimeTypes: string;
  listenPort: number;
  upstreamName: string;
  backends: { host: string; address: string; port: number }[];
}

export function nginxLbConfData(model: HaModel, host: string, opts: NginxLbOptions): NginxLbConfData {
  nodeOf(model, host);
  const rh = opts.osFamily === 'redhat';
  return {
    hostname: host,
    user: rh ? 'nginx' : 'www-data',
    pidFile: opts.pidFile ?? '/run/nginx.pid',
    errorLog: opts.errorLog ?? '/var/log/nginx/error.log',
    accessLog: opts.accessLog ?? '/var/log/nginx/access.log',
    modulesInclude: rh ? '/usr/share/nginx/modules/*.conf' : '/etc/nginx/modules-enabled/*.conf',
    mimeTypes: '/etc/nginx/mime.types',
    listenPort: model.listenPort,
    upstreamName: 'webserverapps',
    backends: model.backends.map((b) => ({ host: b.host, address: b.address, port: b.port })),
  };
}

// ---------------------------------------------------------------------------------------
// index.html on the backends

export interface WebIndexData {
  /** The backend's inventory name. */
  name: string;
  /** Its address on the network the LBs reach it on. */
  address: string;
}

export function webIndexData(model: HaModel, host: string): WebIndexData {
  const b = model.backends.find((x) => x.host === host);
  if (!b) throw new Error(`${host} is not a backend of this topology (group ${model.backendGroup})`);
  return { name: host, address: b.address };
}
