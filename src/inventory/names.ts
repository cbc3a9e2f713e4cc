// Which host and group names are accepted: what can name a machine and a vars file (no shell or path tricks).

const HOST_NAME_RE = /^[\p{L}\p{N}_][\p{L}\p{N}_.:-]*$/u;
const GROUP_NAME_RE = /^[\p{L}\p{N}_][\p{L}\p{N}_.-]*$/u;
// Their ASCII subsets, tried first: the Unicode classes cost ~6 ms to compile on first use.
const ASCII_HOST_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;
const ASCII_GROUP_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Why a host or group name is refused, or undefined when it is fine. */
export function badName(name: string, what: 'host' | 'group'): string | undefined {
  const [ascii, re] = what === 'host' ? [ASCII_HOST_NAME_RE, HOST_NAME_RE] : [ASCII_GROUP_NAME_RE, GROUP_NAME_RE];
  if ((ascii.test(name) || re.test(name)) && !name.includes('..')) return undefined;
  const shown = JSON.stringify(name.length > 60 ? name.slice(0, 60) + '…' : name);
  const allowed = what === 'host' ? "letters, digits, _ - . and :" : 'letters, digits, _ - and .';
  return `${what} name ${shown} is not allowed: use ${allowed} (starting with a letter, digit or _; no '..'), as it also names ${what === 'host' ? 'a machine and a host_vars file' : 'a group_vars file'}`;
}
