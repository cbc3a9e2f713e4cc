// --tags / --skip-tags, as in Ansible: a task carries its play's, its role's and its own tags
// (a role's name is one of them); a skipped tag wins, `always` runs unless skipped, `all` runs all.
export interface TagSelection {
  tags?: string[];
  skipTags?: string[];
}

/** Whether a task with these tags runs under this selection. */
export function tagSelected(sel: TagSelection, taskTags: readonly string[]): boolean {
  if (sel.skipTags?.some((t) => taskTags.includes(t))) return false;
  if (sel.tags && sel.tags.length > 0) return taskTags.includes('always') || sel.tags.some((t) => t === 'all' || taskTags.includes(t));
  return true;
}
