// `provision/ha`: the HA model and the config data the shipped keepalived + nginx roles render,
// and the checks the verify role runs. A role of one's own needs only 'provision' (./index.ts).
export { haModel } from './topology/role-data.js';
export { keepalivedConfData, notifyScriptData, nginxTrackDropIn, chooseTrackMethod, nginxLbConfData, templatePath, PATHS } from './topology/render.js';
export { hostsEntries } from './topology/hosts.js';
export { captureAdverts, checkVipsHeld, curlVips, failureMessage, oneAtATime, probeAssignments, untilOk } from './verify/checks.js';
export type { CheckResult } from './verify/checks.js';
