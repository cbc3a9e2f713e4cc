// `provision/ha`: the HA model and the config data the shipped keepalived + nginx roles render,
// and the checks the verify role runs. A role of one's own needs only 'provision' (./index.ts).
export { haModel } from './topology/role-data.js';
export { keepalivedConfData, notifyScriptData, nginxTrackDropIn, chooseTrackMethod, nginxLbConfData, templatePath, PATHS } from './topology/render.js';
export { hostsEntries } from './topology/hosts.js';
export { checkVipsHeld } from './verify/vips-held.js';
export { captureAdverts } from './verify/adverts.js';
export { curlVips, oneAtATime } from './verify/http-check.js';
export { probeAssignments } from './verify/probes.js';
export { untilOk } from './verify/cluster.js';
export { failureMessage, type CheckResult } from './verify/check-result.js';
