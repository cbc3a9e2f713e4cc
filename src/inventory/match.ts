// matchHosts(): Ansible host patterns, for --limit and a play's `hosts:`.
// A port of InventoryManager.get_hosts() (ansible-core 2.14, ansible/inventory/manager.py):
//   - patterns may be comma separated (or ':' separated, the legacy form);
//   - `all` and `*` match every host; a word matches a group (all hosts in it and its children)
//     or a host; `web*` / `db?` / `[ab]*` are shell globs over group and host names; `~re` is a
//     regular expression (anchored at the start, as Python's re.match);
//   - `web[0]`, `web[-1]`, `web[0:2]`, `web[1:]` pick hosts of a group by position;
//   - plain patterns are applied first, then `&intersection`s, then `!exclusion`s; with only
//     `&`/`!` patterns the base is `all`.
// Two differences from Ansible, on purpose:
//   - The result is in inventory order (Ansible keeps the order the patterns produced hosts in).
//   - A pattern that names nothing (no group, no host) is an InputError rather than a warning,
//     as is an empty result, unless { allowEmpty: true } (used for a play's `hosts:`, which
//     Ansible skips when nothing matches).
import { InputError } from '../errors.js';
import { parseAddress } from './hostpattern.js';
import type { Host, Inventory } from './types.js';

export interface MatchOptions {
  /** Return [] instead of throwing when nothing (or a name that exists nowhere) matches. */
  allowEmpty?: boolean;
  /** How the patterns are named in errors; default "--limit". */
  label?: string;
}

const PATTERN_WITH_SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s;

/** split_host_pattern(). */
export function splitHostPattern(pattern: string | string[]): string[] {
  if (Array.isArray(pattern)) return pattern.flatMap((p) => splitHostPattern(p));
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern)) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** order_patterns(): regular, then &, then !; `all` if only & and ! were given. */
function orderPatterns(patterns: string[]): string[] {
  const regular: string[] = [];
  const inter: string[] = [];
  const excl: string[] = [];
  for (const p of patterns) {
    if (!p) continue;
    if (p[0] === '!') excl.push(p);
    else if (p[0] === '&') inter.push(p);
    else regular.push(p);
  }
  return [...(regular.length ? regular : ['all']), ...inter, ...excl];
}

/** Python's fnmatch.translate(), as a RegExp matching the whole name. */
export function globToRegExp(pat: string): RegExp {
  let re = '';
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  let i = 0;
  const n = pat.length;
  while (i < n) {
    const c = pat[i++]!;
    if (c === '*') {
      if (!re.endsWith('.*')) re += '.*';
    } else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) re += '\\[';
      else {
        let stuff = pat.slice(i, j);
        i = j + 1;
        let neg = false;
        if (stuff[0] === '!') {
          neg = true;
          stuff = stuff.slice(1);
        }
        if (stuff === '' && !neg) re += '(?!)';
        else if (stuff === '' && neg) re += '.';
        else {
          // keep `a-z` ranges, escape everything else
          const body = stuff.replace(/[\\\]^[]/g, '\\$&');
          re += `[${neg ? '^' : ''}${body}]`;
        }
      }
    } else re += esc(c);
  }
  return new RegExp(`^(?:${re})$`, 's');
}

/** Longest `~regex` pattern accepted. */
const MAX_REGEX_LENGTH = 500;

/**
 * Whether a regular expression can backtrack exponentially: a repeated group (`*`, `+`, `{n,}`)
 * that itself holds an alternation or a repetition, as in `(a|a)*b` or `(a+)+`. JavaScript's
 * engine has no time limit, so such a pattern is refused before it runs rather than left to
 * spin (a 34-character host name took over 30 s).
 */
export function backtracksExponentially(re: string): boolean {
  const stack: Array<{ risky: boolean }> = [];
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // A character class: skip to its end (a ] right after [ or [^ is literal).
      i++;
      if (re[i] === '^') i++;
      if (re[i] === ']') i++;
      while (i < re.length && re[i] !== ']') i += re[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '(') stack.push({ risky: false });
    else if (c === '|' || c === '*' || c === '+' || c === '{') {
      if (stack.length) stack[stack.length - 1]!.risky = true;
    } else if (c === ')') {
      const g = stack.pop();
      const next = re[i + 1];
      const repeated = next === '*' || next === '+' || (next === '{' && /^\{\d*,\d*\}|^\{\d{2,}\}/.test(re.slice(i + 1)));
      if (g?.risky && repeated) return true;
      // The group is a repetition inside its parent.
      if (g?.risky && stack.length) stack[stack.length - 1]!.risky = true;
    }
  }
  return false;
}

function compile(pattern: string, label: string): RegExp {
  if (pattern[0] === '~') {
    const src = pattern.slice(1);
    if (src.length > MAX_REGEX_LENGTH) throw new InputError(`${label}: regular expression longer than ${MAX_REGEX_LENGTH} characters: ${pattern.slice(0, 40)}…`);
    if (backtracksExponentially(src)) {
      throw new InputError(`${label} ${pattern}: a repeated group that holds an alternation or a repetition (such as (a|a)* or (a+)+) can take exponential time; write it without the nested repetition`);
    }
  }
  try {
    return pattern[0] === '~' ? new RegExp(`^(?:${pattern.slice(1)})`) : globToRegExp(pattern);
  } catch {
    throw new InputError(`${label}: invalid host pattern ${pattern}`);
  }
}

class Matcher {
  private readonly index = new Map<string, number>();

  constructor(
    private readonly inv: Inventory,
    private readonly label: string,
    private readonly allowEmpty: boolean,
  ) {
    [...inv.hosts.keys()].forEach((h, i) => this.index.set(h, i));
  }

  /** Group.get_hosts(): the group's hosts, then its children's, breadth first, no duplicates. */
  groupHosts(name: string): string[] {
    const out: string[] = [];
    const seenHosts = new Set<string>();
    const seenGroups = new Set<string>([name]);
    let level = [name];
    while (level.length) {
      const next: string[] = [];
      for (const g of level) {
        const grp = this.inv.groups.get(g);
        if (!grp) continue;
        for (const h of grp.hosts) {
          if (!seenHosts.has(h)) {
            seenHosts.add(h);
            out.push(h);
          }
        }
        for (const c of grp.children) {
          if (!seenGroups.has(c)) {
            seenGroups.add(c);
            next.push(c);
          }
        }
      }
      level = next;
    }
    return out;
  }

  /** _enumerate_matches(): hosts, and whether the pattern named any group or host at all. */
  enumerate(pattern: string): { hosts: string[]; named: boolean } {
    const re = compile(pattern, this.label);
    const groups = [...this.inv.groups.keys()].filter((g) => re.test(g));
    const hosts: string[] = [];
    for (const g of groups) hosts.push(...this.groupHosts(g));
    let hostHit = false;
    if (groups.length === 0 || pattern[0] === '~' || /[.?*[]/.test(pattern)) {
      for (const h of this.inv.hosts.keys()) {
        if (re.test(h)) {
          hosts.push(h);
          hostHit = true;
        }
      }
    }
    return { hosts, named: groups.length > 0 || hostHit };
  }

  /** _match_one_pattern(): strips &/!, applies a [subscript]. */
  matchOne(p: string): string[] {
    const pattern = p[0] === '&' || p[0] === '!' ? p.slice(1) : p;
    let expr = pattern;
    let sub: [number, number | null] | null = null;
    const m = pattern[0] === '~' ? null : PATTERN_WITH_SUBSCRIPT.exec(pattern);
    if (m) {
      expr = m[1]!;
      if (m[2] !== undefined) sub = [Number(m[2]), null];
      else sub = [Number(m[3]), m[5] ? Number(m[5]) : -1];
    }
    const { hosts, named } = this.enumerate(expr);
    if (!named && !this.allowEmpty) throw this.noMatch(pattern);
    if (!sub || hosts.length === 0) return hosts;
    const [start, end] = sub;
    if (end) {
      const e = end === -1 ? hosts.length - 1 : end;
      return hosts.slice(start, e + 1);
    }
    const i = start < 0 ? hosts.length + start : start;
    const h = hosts[i];
    if (h === undefined) {
      throw new InputError(`${this.label} ${pattern}: no host at index ${start} (${hosts.length} hosts match ${expr})`);
    }
    return [h];
  }

  noMatch(what: string): InputError {
    const names = [...this.inv.hosts.keys()];
    const shown = names.length > 12 ? [...names.slice(0, 12), '...'] : names;
    const groups = [...this.inv.groups.keys()].filter((g) => g !== 'all' && g !== 'ungrouped');
    const gshown = groups.length > 12 ? [...groups.slice(0, 12), '...'] : groups;
    return new InputError(
      `${this.label} ${what} matches no host (hosts: ${shown.join(', ') || 'none'}${gshown.length ? `; groups: ${gshown.join(', ')}` : ''})`,
    );
  }

  /** _evaluate_patterns(). */
  evaluate(patterns: string[]): string[] {
    let hosts: string[] = [];
    for (const p of orderPatterns(patterns)) {
      if (this.inv.hosts.has(p)) {
        if (!hosts.includes(p)) hosts.push(p);
        continue;
      }
      const that = this.matchOne(p);
      if (p[0] === '!') {
        const s = new Set(that);
        hosts = hosts.filter((h) => !s.has(h));
      } else if (p[0] === '&') {
        const s = new Set(that);
        hosts = hosts.filter((h) => s.has(h));
      } else {
        const existing = new Set(hosts);
        for (const h of that) {
          if (!existing.has(h)) {
            existing.add(h);
            hosts.push(h);
          }
        }
      }
    }
    return hosts;
  }

  inInventoryOrder(names: string[]): string[] {
    return [...new Set(names)].sort((a, b) => this.index.get(a)! - this.index.get(b)!);
  }
}

/**
 * Hosts matching Ansible host patterns (each string may itself be a comma list), in inventory order.
 * Throws InputError when a pattern names nothing or nothing matches, unless opts.allowEmpty.
 */
export function matchHosts(inv: Inventory, patterns: string[], opts: MatchOptions = {}): Host[] {
  const label = opts.label ?? '--limit';
  const m = new Matcher(inv, label, opts.allowEmpty ?? false);
  const split = splitHostPattern(patterns);
  if (split.length === 0) {
    // Ansible's get_hosts([]) selects nothing; an empty --limit is more likely a mistake.
    if (opts.allowEmpty) return [];
    throw new InputError(`${label}: no host pattern given`);
  }
  const names = m.inInventoryOrder(m.evaluate(split));
  if (names.length === 0 && !opts.allowEmpty) throw m.noMatch(split.join(','));
  return names.map((n) => inv.hosts.get(n)!);
}
