// The one door for modules known only at run time: packages loaded on demand (esbuild, listr2)
// and roles bundled when loaded. Run from source, it is node's import(). In the CLI's bundle
// (bin/compiled.js) this file is replaced by a call to bin/compiled.js's own import(): the
// bundle runs from V8's code cache, and node 20 then loses a script's dynamic-import hook
// ("A dynamic import callback was not specified"), so the bundle itself must not import().
export function importModule<T = Record<string, unknown>>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
