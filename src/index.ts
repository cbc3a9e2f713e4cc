// The public entry, `import { defineRole, sh } from 'provision'`: what a role needs to write
// tasks and commands. The shipped roles import from here too, so a role inside or outside this
// repository sees the same modules. The HA roles' helpers are in 'provision/ha' (./ha.ts).
export { defineRole } from './runner/role.js';
export type { RoleContext, RoleDefinition, TaskOptions, TemplateSpec } from './runner/role.js';
export { sh, q, raw, Shell } from './transport/quote.js';
export type { Transport, ExecResult, ExecOptions } from './transport/types.js';
export { OpError } from './ops/types.js';
export { CATALOGUE } from './ops/catalogue.js';
export type { OpName, OptionsOf } from './ops/catalogue.js';
export type { OpContext, Plan, TaskResult, TaskStatus } from './ops/types.js';
export { run, fact } from './ops/remote.js';
/** Facts with arguments (`facts.file(path)`, `facts.service(name)`, ...): ask them with `fact(ctx, facts.x, ...args)`. */
export * as facts from './facts/catalog.js';
export { renderTemplateFile } from './ops/source.js';
export { planNftables, planFirewalld } from './ops/firewall.js';
export type { FirewallPolicy } from './ops/firewall.js';
export { planSebool, planFileContext } from './ops/selinux.js';
export { planHandoverRestart, drainKeepalivedConf } from './ops/handover.js';
