// Every fact with arguments, imported once so the registry (./fact.ts) knows them all when the
// read-ahead replays a record by fact name.
export { file, fileContent, pathExists, statMany, linkState, pathOwner, fileText, type RemoteStat } from './file.js';
export { service, sysctl, sebool, selinuxLocalFcontexts, nftTable, crontab } from './system.js';
export { account, shadowHash, groupId, initSystem } from './accounts.js';
export { firewalldBus, firewalldZones, firewalldState, firewalldInterfaceZones, firewalldZone } from './firewalld.js';
export { defineFact, factNamed, factKey, type Fact, type FactArgs, type FactCall } from './fact.js';
