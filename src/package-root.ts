// Where this package is installed: the directory of package.json, roles/ and inventory/. This
// module runs from src/ (through tsx: tests, the bench) or from the build (dist/bundle/, dist/src/).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The package's root directory. */
export const PACKAGE_ROOT = path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');

/** True when this code runs from the build (dist/), false when from the TypeScript sources. */
export const FROM_BUILD = PACKAGE_ROOT !== path.resolve(here, '..');

/** A module of the running copy: the bundle's entry `name` (./bundle.ts), or its source through tsx. */
export function ownModule(name: 'index' | 'ha' | 'role-hooks', source: string): string {
  return pathToFileURL(FROM_BUILD ? path.join(PACKAGE_ROOT, 'dist', 'bundle', `${name}.js`) : path.join(PACKAGE_ROOT, 'src', source)).href;
}
