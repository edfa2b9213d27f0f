import { TomlDate } from 'smol-toml';
import type { IssueSeverity } from '../errors.js';
import type { KeyPath } from '../toml/locations.js';

/** Where a value sits: the path as written in the file (for locating) and in canonical spelling (for people). */
export interface At {
  readonly raw: KeyPath;
  readonly display: string;
}

/** A problem found during validation, before it is given a line and column. */
export interface PendingIssue {
  readonly at: At;
  readonly expected: string;
  readonly found: string;
  readonly message: string;
  readonly severity: IssueSeverity;
}

/** The document root. */
export const ROOT: At = { raw: [], display: '' };

/** The location of a child key, `canonical` being the documented spelling. */
export function child(at: At, rawKey: string, canonical: string): At {
  return { raw: [...at.raw, rawKey], display: at.display === '' ? canonical : `${at.display}.${canonical}` };
}

/** The location of an array element. */
export function element(at: At, index: number): At {
  return { raw: [...at.raw, index], display: `${at.display}[${index}]` };
}

/** Where a key is accepted, e.g. `{ key: 'Port', table: '[SSH]' }`. */
export interface KeyHome {
  readonly key: string;
  readonly table: string;
}

/** Options of a {@link Checker}. */
export interface CheckerOptions {
  /** Where a key is accepted in the whole document, to point a misplaced key at its table. @default none */
  readonly findKey?: (key: string) => KeyHome | undefined;
  /**
   * How an unknown key is reported: `warning` (the file is still used, as upstream's decoder and gitlab-runner
   * ignore unknown keys) or `error` (`validate --strict`). @default "warning"
   */
  readonly unknownKeys?: IssueSeverity;
}

/** Collects every problem in one pass so a file's mistakes are all reported at once. */
export class Checker {
  readonly issues: PendingIssue[] = [];
  private readonly findKey: (key: string) => KeyHome | undefined;
  private readonly unknownKeySeverity: IssueSeverity;

  constructor(options: CheckerOptions = {}) {
    this.findKey = options.findKey ?? (() => undefined);
    this.unknownKeySeverity = options.unknownKeys ?? 'warning';
  }

  /** The table that accepts `key` (compared case-insensitively), if any. */
  tableOf(key: string): KeyHome | undefined {
    return this.findKey(key);
  }

  /** Reports that a value is not what was expected; `hint` says how to fix it. */
  error(at: At, expected: string, found: string, hint?: string): void {
    this.add('error', at, expected, found, hint);
  }

  /** Reports something suspicious that does not stop the file from being used. */
  warn(at: At, expected: string, found: string, hint?: string): void {
    this.add('warning', at, expected, found, hint);
  }

  /** Reports a key the schema does not know, as a warning or an error depending on the checker's options. */
  unknownKey(at: At, key: string, hint: string): void {
    this.add(this.unknownKeySeverity, at, 'a known key', `unknown key ${JSON.stringify(key)}`, hint);
  }

  get hasErrors(): boolean {
    return this.issues.some((issue) => issue.severity === 'error');
  }

  private add(severity: IssueSeverity, at: At, expected: string, found: string, hint?: string): void {
    const message = `expected ${expected}, found ${found}${hint === undefined ? '' : `; ${hint}`}`;
    this.issues.push({ at, expected, found, message, severity });
  }
}

const MAX_SHOWN = 60;

function kindOf(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return Number.isInteger(Number(value)) ? 'an integer' : 'a float';
  if (typeof value === 'boolean') return 'a boolean';
  if (value instanceof TomlDate) return 'a date-time';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' && value !== null ? 'a table' : typeof value;
}

/** Describes a value for an error message; `secret` values are described without their content. */
export function describe(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (secret) return typeof value === 'string' ? `a string of ${value.length} characters (not shown)` : `${kindOf(value)} (not shown)`;
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number') return Number.isInteger(value) ? `${value} (an integer)` : `${value} (a float)`;
  if (typeof value === 'bigint') return `${value} (an integer)`;
  if (typeof value === 'boolean') return `${value} (a boolean)`;
  if (value instanceof TomlDate) return 'a date-time';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  if (typeof value === 'object') return 'a table';
  return typeof value;
}

/** True for a TOML table (not an array, not a date). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof TomlDate);
}
