// Tracking and timing profiles (see docs/topology-schema.md, "Profiles").
import type { Profile, ProfileName } from './types.js';

const KILLALL = '/usr/bin/killall -0 nginx';

export const PROFILES: Record<ProfileName, Profile> = {
  // The how-to as written: a polled script lowering the priority by 10. With 100/95 the
  // master falls to 90 after interval x fall = 4 s, then the backup waits its own
  // master-down timer: 7-8 s without the VIP after nginx dies.
  howto: {
    name: 'howto',
    version: 2,
    advertInt: 1,
    weight: -10,
    // The how-to's numbers: a master 10 above its backup would never drop below it.
    priorities: { master: 100, step: 5 },
    fixedMethod: 'script',
    script: { command: KILLALL, interval: 2, fall: 2, rise: 2 },
  },
  // Weight-0 tracking: nginx down -> the instance goes to FAULT at once and sends a
  // priority-0 advert, so the backup takes over after its skew time, not 3 adverts.
  // Priorities 250, 249, ...: the first backup's skew is 7/256 of an advert (27 ms)
  // instead of 161/256 (629 ms) at the how-to's 95.
  default: {
    name: 'default',
    version: 2,
    advertInt: 1,
    weight: 0,
    priorities: { master: 250, step: 1 },
    script: { command: KILLALL, interval: 1, fall: 1, rise: 2 },
  },
  // VRRPv3 with sub-second adverts (no PASS auth in v3): a dead master node is noticed
  // in 3 x 0.1 s + skew. vrrp_script cannot poll faster than 1 s in keepalived 2.2.7,
  // so prefer track_process / track_file with this profile.
  fast: {
    name: 'fast',
    version: 3,
    advertInt: 0.1,
    weight: 0,
    priorities: { master: 250, step: 1 },
    script: { command: KILLALL, interval: 1, fall: 1, rise: 2 },
  },
};

export function profile(name: ProfileName, advertInt?: number): Profile {
  const p = PROFILES[name];
  const copy = { ...p, script: { ...p.script }, priorities: { ...p.priorities } };
  return advertInt === undefined ? copy : { ...copy, advertInt };
}
