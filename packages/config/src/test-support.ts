import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, formatIssue, type ConfigIssue } from './errors.js';

/** The text of a file under src/fixtures. */
export function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
}

/** Runs `parse` expecting a ConfigError, and returns its issues formatted one per line. */
export function issuesOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map(formatIssue);
    throw error;
  }
  throw new Error('expected a ConfigError, but the input was accepted');
}

/** Every issue of a parse, whether it threw a ConfigError or returned warnings, formatted one per line. */
export function allIssuesOf(parse: () => { readonly warnings: readonly ConfigIssue[] }): string[] {
  try {
    return parse().warnings.map(formatIssue);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map(formatIssue);
    throw error;
  }
}

/** The lines a strict parse reports as unknown-key errors, as the default (lenient) parse reports them: warnings. */
export function unknownKeysAsWarnings(lines: readonly string[]): string[] {
  return lines.map((line) => (line.includes(': expected a known key, found unknown key ') ? line.replace(': error: ', ': warning: ') : line));
}
