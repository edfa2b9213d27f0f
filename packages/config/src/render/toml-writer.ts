/** A TOML value this writer can emit. */
export type TomlOut = string | number | boolean | TomlDateTime | readonly TomlOut[] | { readonly [key: string]: TomlOut };

/** A date-time written unquoted, e.g. `token_obtained_at = 2025-01-01T00:00:00Z`. */
export class TomlDateTime {
  constructor(public readonly iso: string) {}
}

/** A basic string; JSON escapes are valid TOML escapes, except that TOML also forbids a raw DEL. */
export function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

/** A key, bare when TOML allows it. */
export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

/** An inline value. */
export function tomlValue(value: TomlOut): string {
  if (typeof value === 'string') return tomlString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'nan';
  if (typeof value === 'boolean') return String(value);
  if (value instanceof TomlDateTime) return value.iso;
  if (Array.isArray(value)) return `[${(value as readonly TomlOut[]).map(tomlValue).join(', ')}]`;
  const entries = Object.entries(value as { readonly [key: string]: TomlOut });
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`).join(', ')} }`;
}

/** Builds a TOML document line by line, skipping absent values. */
export class TomlWriter {
  private readonly lines: string[] = [];
  private indent = '';

  comment(text: string): this {
    for (const line of text.split('\n')) this.lines.push(`${this.indent}# ${line}`.trimEnd());
    return this;
  }

  /** Starts `[name]` (or `[[name]]`), indenting the keys under it by `depth` levels. */
  table(name: readonly string[], options: { array?: boolean; depth?: number } = {}): this {
    const header = name.map(tomlKey).join('.');
    const depth = options.depth ?? 0;
    if (this.lines.length > 0) this.lines.push('');
    this.lines.push(`${'  '.repeat(depth)}${options.array === true ? `[[${header}]]` : `[${header}]`}`);
    this.indent = '  '.repeat(depth + 1);
    return this;
  }

  set(key: string, value: TomlOut | undefined): this {
    if (value !== undefined) this.lines.push(`${this.indent}${tomlKey(key)} = ${tomlValue(value)}`);
    return this;
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
