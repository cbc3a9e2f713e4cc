// Inventory sources as `-i` takes them, read the way ansible-core 2.14's InventoryManager does
// (ansible/inventory/manager.py parse_source(), plugins host_list, script, auto, yaml, ini):
// - a comma list that is not an existing path (`h1,h2,`, `web1:2222,`): hosts of `ungrouped`;
// - a directory: every entry in sorted order, recursively, except hidden names, group_vars,
//   host_vars, vars_plugins and the ignored extensions (.orig .ini .cfg .retry .pyc .pyo .swp
//   .bak ~ .rpm .md .txt .rst — Ansible's INVENTORY_IGNORE_EXTS);
// - a file: an executable (or `#!`) file is an inventory script (not supported here); a file
//   with no extension or .yaml/.yml/.json is tried as YAML first; any file that YAML did not
//   take is tried as INI. A file neither accepts is an error that names both attempts.
import { readdir, stat } from 'node:fs/promises';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { Builder } from './builder.js';
import { parseAddress } from './hostpattern.js';
import { IniInventoryReader } from './ini.js';
import { badName } from './names.js';
import { readInventoryText } from './read-text.js';
import { NotYamlInventory, YamlInventoryReader } from './yaml-inventory.js';
import { YamlSource } from './yaml.js';

const YAML_EXTENSIONS = ['.yaml', '.yml', '.json'];
const IGNORED_EXTENSIONS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.ini', '.cfg', '.retry'];
const IGNORED_NAMES = new Set(['host_vars', 'group_vars', 'vars_plugins']);

/** Whether a directory entry is skipped when the directory is an inventory source. */
export function ignoredInDirectory(name: string): boolean {
  return name.startsWith('.') || IGNORED_NAMES.has(name) || IGNORED_EXTENSIONS.some((e) => name.endsWith(e));
}

/** A comma list (`-i 'h1,h2,'`) rather than a path: has a comma and names nothing on disk. */
export async function isHostList(source: string): Promise<boolean> {
  if (!source.includes(',')) return false;
  return stat(source).then(
    () => false,
    () => true,
  );
}

export function addHostList(b: Builder, list: string): void {
  const pos = { file: `-i ${list}` };
  for (const raw of list.split(',')) {
    const h = raw.trim();
    if (!h) continue;
    const parsed = parseAddress(h);
    const host = parsed ? parsed.host : h;
    const bad = badName(host, 'host');
    if (bad) throw new InputError(`in the host list: ${bad}`, pos);
    if (!b.hosts.has(host)) b.addHost(host, 'ungrouped', parsed?.port, pos, { pos });
  }
}

/** Read one source (a file or directory path, or a comma list) into the builder. */
export async function addSource(b: Builder, source: string, depth = 0): Promise<void> {
  if (await isHostList(source)) return addHostList(b, source);
  let st;
  try {
    st = await stat(source);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'inventory file not found' : code === 'ELOOP' ? 'inventory path is a symlink loop' : `cannot read the inventory (${code})`, { file: source });
  }
  if (st.isDirectory()) {
    if (depth > 16) throw new InputError('inventory directories nested deeper than 16 levels (a symlink loop?)', { file: source });
    const names = (await readdir(source)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    for (const n of names) if (!ignoredInDirectory(n)) await addSource(b, path.join(source, n), depth + 1);
    return;
  }
  await addFile(b, source);
}

function isScript(file: string, text: string): boolean {
  if (text.startsWith('#!')) return true;
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function where(e: InputError): string {
  const p = e.pos;
  return p ? `${p.file}${p.line ? `:${p.line}` : ''}${p.line && p.col ? `:${p.col}` : ''}` : '';
}

function bothFailed(primary: InputError, primaryKind: string, other: InputError, otherKind: string): InputError {
  const note = `not a valid inventory: read as ${primaryKind}, ${primary.message} (also tried as ${otherKind}: ${where(other)}: ${other.message})`;
  return new InputError(note, primary.pos, primary.excerpt);
}

async function addFile(b: Builder, file: string): Promise<void> {
  const text = await readInventoryText(file, 'inventory file');
  if (isScript(file, text)) {
    throw new InputError('executable inventory scripts are not supported (the file is executable or starts with #!); write a YAML or INI inventory, or chmod -x it if it is one', { file });
  }
  const ext = path.extname(file);
  if (ext && !YAML_EXTENSIONS.includes(ext)) return new IniInventoryReader(b, file, text).read();
  let yamlError: InputError | undefined;
  let src: YamlSource | undefined;
  try {
    src = YamlSource.parse(text, file);
    return new YamlInventoryReader(b, src).read();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    yamlError = e;
  }
  if (/plugin configurations/.test(yamlError.message)) throw yamlError;
  // A YAML mapping that failed our checks (a duplicate key, an unknown key: PyYAML and Ansible's
  // yaml plugin accept them) was meant as YAML; only a syntax error or no mapping goes on to INI.
  const syntax = !src && /^(YAML syntax error|tab character)/.test(yamlError.message);
  if (!syntax && !(yamlError instanceof NotYamlInventory)) throw yamlError;
  // Nothing in it at all: an error rather than an inventory of no hosts (Ansible warns and goes on).
  if (/^inventory file is empty/.test(yamlError.message)) throw yamlError;
  // A YAML syntax error, or YAML that is not a mapping, left the builder untouched: INI's turn.
  try {
    new IniInventoryReader(b, file, text).read();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    // For `hosts` (no extension) the INI reading is the likely intent, for hosts.yaml the YAML one.
    throw ext === '' ? bothFailed(e, 'INI', yamlError, 'YAML') : bothFailed(yamlError, 'YAML', e, 'INI');
  }
}
