import { describe, type At, type Checker } from '../schema/checker.js';
import type { Schema } from '../schema/schema.js';

const ENTRY = /^[A-Za-z_][A-Za-z0-9_]*=/s;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Upper-case names with `-` or `.` (`MY-VAR`): variable names written wrongly, not the shape of a token. */
const DOTTED_NAME = /^[A-Z_][A-Z0-9_]*(?:[-.][A-Z0-9_]+)+$/;
const NOT_SHOWN = 'not shown, as it may be a secret';

/** The part before `=` when it is clearly a variable name written wrongly (spaces around it, `-` or `.`), else undefined. */
function showableName(key: string): string | undefined {
  const trimmed = key.trim();
  if (trimmed.length > 64) return undefined;
  return NAME.test(trimmed) || DOTTED_NAME.test(trimmed) ? key : undefined;
}

/**
 * One `[[runners]] environment` entry, `KEY=value`. Entries often carry secrets, so a bad entry is never shown:
 * the message names its index (in the key path) and, only when it is clearly a variable name, the part before `=`.
 */
export const environmentEntry: Schema<string> = {
  expected: 'a "KEY=value" string (KEY of letters, digits and _, not starting with a digit)',
  read(value: unknown, at: At, checker: Checker) {
    if (typeof value !== 'string') return void checker.error(at, this.expected, describe(value, true));
    if (ENTRY.test(value)) return value;
    const equals = value.indexOf('=');
    if (equals < 0) return void checker.error(at, this.expected, `a string of ${value.length} characters without "=" (${NOT_SHOWN})`);
    const name = showableName(value.slice(0, equals));
    const found =
      name === undefined
        ? `a string whose part before "=" is not a variable name (${NOT_SHOWN})`
        : `the name ${JSON.stringify(name)} before "=" (the value is not shown)`;
    return void checker.error(at, this.expected, found);
  },
};
