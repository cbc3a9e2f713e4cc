// group_vars/ and host_vars/ beside an inventory source, found as Ansible's host_group_vars plugin
// and DataLoader.find_vars_files() find them: for a name, the first of `<name>` (file or
// directory), `<name>.yml`, `<name>.yaml`, `<name>.json` that exists, and only that one. A
// directory is read recursively in sorted order, skipping hidden files, `~` backups, files with
// other extensions and directories with an extension.
//
// Hostile trees are refused loudly rather than followed: a directory symlink that leads back to a
// directory being read (`group_vars/all -> ../group_vars`, `group_vars/web -> .`) and a file
// symlink that points at itself (ELOOP) are InputErrors naming the path; Ansible would recurse
// until the path is too long, or skip the file without a word.
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isScalar } from 'yaml';
import { InputError } from '../errors.js';
import type { VarSources, Vars } from './builder.js';
import { readInventoryText } from './read-text.js';
import { YamlSource, setOwn } from './yaml.js';

const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];
/** Deepest directory nesting read under one group_vars/<name>/ (loops are caught before this). */
const MAX_VARS_DEPTH = 32;

export interface FileVars {
  vars: Vars;
  sources: VarSources;
}

// A FIFO or device counts as a file: the input reader then refuses it loudly instead of skipping it.
async function kindOf(p: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new InputError('this vars file is a symlink loop (it points at itself, or at a link that leads back to it); remove the link or point it at a file', { file: p });
    }
    return null;
  }
}

/** DataLoader._get_dir_vars_files(), with the real paths of the directories being read in `stack`. */
async function dirVarsFiles(dir: string, stack: string[]): Promise<string[]> {
  const real = await realpath(dir).catch(() => dir);
  if (stack.includes(real)) {
    throw new InputError(`symlink loop: this directory is ${real} again (already being read above it); vars directories must not link back into themselves`, { file: dir });
  }
  if (stack.length >= MAX_VARS_DEPTH) throw new InputError(`vars directories nested deeper than ${MAX_VARS_DEPTH} levels`, { file: dir });
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new InputError(`cannot read directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file: dir });
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); // Python's sorted(): by code point
  const found: string[] = [];
  for (const n of names) {
    if (n.startsWith('.') || n.endsWith('~')) continue;
    const ext = path.extname(n);
    const full = path.join(dir, n);
    const k = await kindOf(full);
    if (k === 'dir' && !ext) found.push(...(await dirVarsFiles(full, [...stack, real])));
    else if (k === 'file' && (!ext || VARS_EXTENSIONS.includes(ext))) found.push(full);
  }
  return found;
}

/** DataLoader.find_vars_files(): the first of name, name.yml, name.yaml, name.json that exists. */
async function findVarsFiles(dir: string, name: string, listing: Set<string>): Promise<string[]> {
  const base = path.join(dir, name);
  // One readdir of group_vars/ (or host_vars/) answers "does it exist?" for plain names without
  // a stat per candidate: thousands of hosts, few host_vars files.
  const plain = !name.includes('/') && !name.includes(path.sep);
  for (const ext of ['', ...VARS_EXTENSIONS]) {
    if (plain && !listing.has(name + ext)) continue;
    const full = base + ext;
    const k = await kindOf(full);
    if (k === 'dir') return dirVarsFiles(full, [await realpath(dir).catch(() => dir)]);
    if (k === 'file') return [full];
  }
  return [];
}

async function loadVarsFile(file: string): Promise<FileVars> {
  const text = await readInventoryText(file, 'vars file');
  const src = YamlSource.parse(text, file);
  const root = src.deref(src.root);
  const sources: VarSources = new Map();
  if (root === null || (isScalar(root) && root.value === null)) return { vars: {}, sources }; // empty file: ignored
  if (!isMap(root)) throw src.error(root, `a vars file must be a mapping of variable names, found ${isScalar(root) ? 'a scalar' : 'a list'}`);
  const vars = src.toJS(root) as Vars;
  for (const p of src.pairs(root)) sources.set(src.keyString(p.key), { pos: src.pos(p.value ?? p.key), src, key: p.key, value: p.value });
  return { vars, sources };
}

export function merge(into: Vars, from: Vars): Vars {
  for (const [k, v] of Object.entries(from)) setOwn(into, k, v);
  return into;
}

/** Variables of each named entity from <baseDir>/<subdir>/, each one's files merged in order. */
export async function entitiesVars(baseDir: string, subdir: 'group_vars' | 'host_vars', names: string[], warnings: string[]): Promise<Map<string, FileVars>> {
  const out = new Map<string, FileVars>(names.map((n) => [n, { vars: {}, sources: new Map() }]));
  const dir = path.join(baseDir, subdir);
  const k = await kindOf(dir);
  if (k === null) return out;
  if (k !== 'dir') {
    warnings.push(`Found ${subdir} that is not a directory, skipping: ${dir}`);
    return out;
  }
  const listing = new Set(await readdir(dir).catch(() => [] as string[]));
  await Promise.all(
    names.map(async (name) => {
      if (name.startsWith('/')) return; // Ansible skips 'chroot'-like names
      const into = out.get(name)!;
      for (const f of await findVarsFiles(dir, name, listing)) {
        const fv = await loadVarsFile(f);
        merge(into.vars, fv.vars);
        for (const [key, v] of fv.sources) into.sources.set(key, v);
      }
    }),
  );
  return out;
}
