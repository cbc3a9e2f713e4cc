// Module hooks for the compiled CLI (./compiled.js) when it loads a role that is not part of the
// compiled tree (a role outside this repository's roles/, e.g. a user's or a test's): the role
// itself goes through tsx, but its imports of this repository's src/ and roles/ are redirected to
// the compiled tree, so the role and the CLI share one copy of every module (one Shell class,
// one error class each: the runner's instanceof checks keep working).
let map = [];

/** data: { repo: file URL of the repository (ending in /), build: file URL of the tree (/) }. */
export function initialize(data) {
  map = ['src/', 'roles/'].map((d) => [data.repo + d, data.build + d]);
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.endsWith('.ts')) {
    for (const [from, to] of map) {
      if (r.url.startsWith(from)) return { url: to + r.url.slice(from.length, -3) + '.js', format: 'module', shortCircuit: true };
    }
  }
  return r;
}
