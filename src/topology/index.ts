// The HA model and the rules of `provision check`. See docs/topology-schema.md.
export type * from './types.js';
export { deriveTopology, buildTopology, TopologyError, priorityAt, VRID_BASE, MASTER_PRIORITY, type DeriveOptions, type BuildResult } from './model.js';
export { checkTopology, checkModel, hasErrors, type CheckOptions } from './check.js';
export { Secret, SecretError, type SecretSpec, type SecretOptions } from './secret.js';
export { PROFILES } from './profiles.js';
export {
  renderTemplate,
  renderString,
  templatePath,
  keepalivedConfData,
  notifyScriptData,
  nginxLbConfData,
  webIndexData,
  nginxTrackDropIn,
  chooseTrackMethod,
  compareVersions,
  PATHS,
  TRACK_PROCESS_MIN,
  type KeepalivedConfData,
  type KeepalivedHostOptions,
  type KeepalivedInstanceData,
  type Tracker,
  type NotifyScriptData,
  type NginxLbConfData,
  type NginxLbOptions,
  type WebIndexData,
} from './render.js';
