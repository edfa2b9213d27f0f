/** Whether an issue stops the file from being used. */
export type IssueSeverity = 'error' | 'warning';

/**
 * One problem found in a configuration file, located precisely enough for a person to fix it.
 */
export interface ConfigIssue {
  /** Path of the file as given by the caller (`<input>` when parsing a string without a name). */
  readonly file: string;
  /** 1-based line of the offending key, value or table header. */
  readonly line: number;
  /** 1-based column of the offending key, value or table header. */
  readonly column: number;
  /** Key path in canonical spelling, e.g. `Fargate.Subnets[1]`; empty for document-level problems. */
  readonly path: string;
  /** What would have been accepted. */
  readonly expected: string;
  /** What the file holds instead (secrets are never shown). */
  readonly found: string;
  /** One sentence a person can act on: `expected …, found …` plus a hint where one helps. */
  readonly message: string;
  /** `error` makes the file invalid; `warning` is reported but the file is still used. */
  readonly severity: IssueSeverity;
}

/**
 * Thrown when a configuration file is invalid. Carries every problem found, not just the first.
 */
export class ConfigError extends Error {
  /** Every error (and any warning) found in the input, in file order. */
  public readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const errors = issues.filter((issue) => issue.severity === 'error');
    const first = errors[0] ?? issues[0];
    const summary = first === undefined ? 'invalid configuration' : formatIssue(first);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    super(`${summary}${more}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Formats one issue as `file:line:column: severity: path: message`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}: ${issue.severity}: ${path}${issue.message}`;
}

/** Formats issues one per line, errors and warnings in file order, for a terminal or a log. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return [...issues]
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)
    .map(formatIssue)
    .join('\n');
}

/**
 * A configuration file that cannot be read as one: not a regular file (a directory, a named pipe, a device), or
 * larger than {@link MAX_CONFIG_FILE_BYTES}. The message says what was found, without the path (callers add it).
 */
export class ConfigFileError extends Error {
  /** The path as given by the caller. */
  public readonly file: string;

  constructor(file: string, reason: string) {
    super(reason);
    this.name = 'ConfigFileError';
    this.file = file;
  }
}

/** The largest configuration file read (1 MiB): real files are a few KiB, and a bound keeps a mistake from exhausting memory. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
