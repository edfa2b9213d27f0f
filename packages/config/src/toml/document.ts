import { parse, TomlError } from 'smol-toml';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { Checker, ROOT, type PendingIssue } from '../schema/checker.js';
import { keyFinder } from '../schema/key-index.js';
import type { Schema } from '../schema/schema.js';
import { scanKeyLocations } from './locations.js';

/** Options shared by the parse functions. */
export interface ParseOptions {
  /** The file name used in issues. @default "<input>" */
  readonly file?: string;
  /**
   * Unknown keys are errors instead of warnings. By default they are warnings and the file is used, as upstream's
   * driver and gitlab-runner ignore keys they do not know.
   * @default false
   */
  readonly strict?: boolean;
}

/** A valid configuration and the warnings found on the way. */
export interface Parsed<T> {
  readonly config: T;
  /** Suspicious but accepted values (e.g. a legacy token, an unknown key), located like errors. */
  readonly warnings: readonly ConfigIssue[];
}

const DEFAULT_FILE = '<input>';

function syntaxIssue(error: unknown, file: string): ConfigIssue {
  const located = error instanceof TomlError;
  // Only the first line: the rest is a code excerpt, which could show a secret from the offending line.
  const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  const found = detail.replace(/^Invalid TOML document:\s*/, '') || 'unreadable text';
  return {
    file,
    line: located ? error.line : 1,
    column: located ? error.column : 1,
    path: '',
    expected: 'valid TOML',
    found,
    message: `expected valid TOML, found ${found}`,
    severity: 'error',
  };
}

/** Reads TOML text into a plain value, or throws a ConfigError located at the syntax error. */
export function parseToml(text: string, file: string = DEFAULT_FILE): Record<string, unknown> {
  try {
    return parse(text.startsWith('\uFEFF') ? text.slice(1) : text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError([syntaxIssue(error, file)]);
  }
}

/** Gives pending issues their line and column, in file order; the text is scanned only when there is something to report. */
export function locateIssues(text: string, file: string, pending: readonly PendingIssue[]): ConfigIssue[] {
  if (pending.length === 0) return [];
  const locations = scanKeyLocations(text.startsWith('\uFEFF') ? text.slice(1) : text);
  return pending
    .map(({ at, expected, found, message, severity }) => {
      const { line, column } = locations.locate(at.raw);
      return { file, line, column, path: at.display, expected, found, message, severity };
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Parses and validates TOML text against a schema; throws a ConfigError listing every problem. */
export function parseDocument<T>(text: string, schema: Schema<T>, options: ParseOptions = {}): Parsed<T> {
  const file = options.file ?? DEFAULT_FILE;
  const value = parseToml(text, file);
  return validateValue(value, text, schema, { ...options, file });
}

/** Validates an already parsed TOML value; `text` is only used to locate problems. */
export function validateValue<T>(value: unknown, text: string, schema: Schema<T>, options: ParseOptions = {}): Parsed<T> {
  const file = options.file ?? DEFAULT_FILE;
  const checker = new Checker({ findKey: keyFinder(schema as Schema<unknown>), unknownKeys: options.strict === true ? 'error' : 'warning' });
  const config = schema.read(value, ROOT, checker);
  const issues = locateIssues(text, file, checker.issues);
  if (config === undefined || checker.hasErrors) throw new ConfigError(issues);
  return { config, warnings: issues };
}
