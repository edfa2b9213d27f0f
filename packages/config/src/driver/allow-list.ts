function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/**
 * True when `value` is allowed by an `[Overrides]` allow-list: an entry equals it exactly, or is a pattern whose
 * `*` matches any run of characters (`ci-*`, `ci-large:*`, `*`). An empty list allows nothing.
 */
export function matchesAllowList(value: string, allowList: readonly string[]): boolean {
  return allowList.some((entry) => (entry.includes('*') ? globToRegExp(entry).test(value) : entry === value));
}
