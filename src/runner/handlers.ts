// Handlers: run once per host at the end of the role whose changed tasks notified them, in the
// order the role declares them. Their tasks get a RoleContext like the role's own (the same
// operations, wired in one place: ./role-run.ts), marked as handler tasks: a handler runs
// because it was notified, so --tags never skips it.
import type { RoleContext, RoleDefinition } from './role.js';

export async function runHandlers(def: RoleDefinition, notified: ReadonlySet<string>, context: () => RoleContext, onError: (e: unknown) => unknown): Promise<void> {
  for (const [name, handler] of Object.entries(def.handlers ?? {})) {
    if (!notified.has(name)) continue;
    await handler(context()).catch((e: unknown) => Promise.reject(onError(e)));
  }
}
