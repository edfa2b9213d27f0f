import { Checker, child, describe, element, isTable, type At } from './checker.js';
import { nearestKey } from './suggest.js';

/** Reads one TOML value into a typed one, reporting problems to the checker; undefined means invalid. */
export interface Schema<T> {
  /** What a valid value looks like, in words, e.g. `an integer from 1 to 65535`. */
  readonly expected: string;
  read(value: unknown, at: At, checker: Checker): T | undefined;
  /** For tables (and arrays of tables): the keys they accept, so a misplaced key can be traced to its table. */
  readonly tableKeys?: readonly TableKey[];
  /** True for an array of tables (`[[runners]]`). */
  readonly arrayOfTables?: boolean;
}

/** A key a table accepts, with the schema of its value. */
export interface TableKey {
  readonly key: string;
  readonly schema: Schema<unknown>;
  /** True when the key holds an array of tables (`[[runners]]`). */
  readonly arrayOfTables?: boolean;
}

/** Options of a string value. */
export interface StringOptions {
  /** Overrides the generated description of valid values. */
  readonly expected?: string;
  /** Values must match (tested after trimming nothing: TOML strings are taken as written). */
  readonly pattern?: RegExp;
  /** Accepted values, matched case-insensitively and returned in the spelling listed here. */
  readonly oneOf?: readonly string[];
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Never show the value in messages (tokens, keys). */
  readonly secret?: boolean;
  /** A softer shape check: values that fail it are accepted with a warning. */
  readonly warnUnless?: { readonly pattern: RegExp; readonly expected: string; readonly hint?: string };
}

/** A TOML string. */
export function string(options: StringOptions = {}): Schema<string> {
  const { minLength = 1, maxLength, oneOf, pattern, secret = false, warnUnless } = options;
  const expected =
    options.expected ??
    (oneOf !== undefined ? `one of ${oneOf.map((v) => JSON.stringify(v)).join(', ')}` : minLength > 0 ? 'a non-empty string' : 'a string');
  const lookup = oneOf === undefined ? undefined : new Map(oneOf.map((v) => [v.toLowerCase(), v]));
  return {
    expected,
    read(value, at, checker) {
      if (typeof value !== 'string') return void checker.error(at, expected, describe(value, secret));
      if (value.length < minLength || (maxLength !== undefined && value.length > maxLength)) {
        const range = maxLength === undefined ? `at least ${minLength}` : `${minLength} to ${maxLength}`;
        return void checker.error(at, `${expected} (${range} characters)`, describe(value, secret));
      }
      if (lookup !== undefined) {
        const canonical = lookup.get(value.toLowerCase());
        if (canonical === undefined) return void checker.error(at, expected, describe(value, secret));
        return canonical;
      }
      if (pattern !== undefined && !pattern.test(value)) return void checker.error(at, expected, describe(value, secret));
      if (warnUnless !== undefined && !warnUnless.pattern.test(value)) {
        checker.warn(at, warnUnless.expected, describe(value, secret), warnUnless.hint);
      }
      return value;
    },
  };
}

/** A TOML integer within bounds. */
export function integer(options: { min: number; max: number; expected?: string }): Schema<number> {
  const expected = options.expected ?? `an integer from ${options.min} to ${options.max}`;
  return {
    expected,
    read(value, at, checker) {
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < options.min || n > options.max) {
        return void checker.error(at, expected, describe(value));
      }
      return n;
    },
  };
}

/** A TOML integer or float within bounds (durations in seconds). */
export function decimal(options: { min: number; max: number; expected?: string }): Schema<number> {
  const expected = options.expected ?? `a number from ${options.min} to ${options.max}`;
  return {
    expected,
    read(value, at, checker) {
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < options.min || n > options.max) {
        return void checker.error(at, expected, describe(value));
      }
      return n;
    },
  };
}

/** A TOML boolean. */
export function boolean(): Schema<boolean> {
  const expected = 'true or false';
  return {
    expected,
    read(value, at, checker) {
      if (typeof value !== 'boolean') return void checker.error(at, expected, describe(value));
      return value;
    },
  };
}

/** A TOML array whose every element is checked; all bad elements are reported. */
export function list<T>(item: Schema<T>, options: { min?: number; max?: number; unique?: boolean } = {}): Schema<T[]> {
  const { min = 0, max, unique = false } = options;
  const size = max === undefined ? (min > 0 ? `at least ${min} items` : 'items') : `${min} to ${max} items`;
  const expected = `an array of ${size}, each ${item.expected}`;
  return {
    expected,
    ...(item.tableKeys === undefined ? {} : { tableKeys: item.tableKeys, arrayOfTables: true }),
    read(value, at, checker) {
      if (!Array.isArray(value)) return void checker.error(at, expected, describe(value));
      if (value.length < min || (max !== undefined && value.length > max)) {
        return void checker.error(at, expected, `${value.length} items`);
      }
      const out: T[] = [];
      let valid = true;
      const seen = new Set<unknown>();
      value.forEach((entry, index) => {
        const read = item.read(entry, element(at, index), checker);
        if (read === undefined) {
          valid = false;
          return;
        }
        if (unique && seen.has(read)) {
          checker.error(element(at, index), 'each value once', `a repeat of ${describe(read)}`, 'remove the duplicate');
          valid = false;
        }
        seen.add(read);
        out.push(read);
      });
      return valid ? out : undefined;
    },
  };
}

/** A TOML table of free-form keys (tags, feature flags), each key and value checked. */
export function map<T>(
  item: Schema<T>,
  options: { maxEntries?: number; key?: Schema<string>; expected?: string } = {},
): Schema<Record<string, T>> {
  const expected = options.expected ?? `a table of ${item.expected}`;
  return {
    expected,
    read(value, at, checker) {
      if (!isTable(value)) return void checker.error(at, expected, describe(value));
      const keys = Object.keys(value);
      if (options.maxEntries !== undefined && keys.length > options.maxEntries) {
        return void checker.error(at, `${expected} (at most ${options.maxEntries} entries)`, `${keys.length} entries`);
      }
      const out: Record<string, T> = {};
      let valid = true;
      for (const key of keys) {
        const keyAt = child(at, key, key);
        if (options.key !== undefined && options.key.read(key, keyAt, checker) === undefined) valid = false;
        const read = item.read(value[key], keyAt, checker);
        if (read === undefined) valid = false;
        // defineProperty, not assignment: a "__proto__" key must stay an ordinary key.
        else Object.defineProperty(out, key, { value: read, enumerable: true, writable: true, configurable: true });
      }
      return valid ? out : undefined;
    },
  };
}

/** How one key of a section is read. */
export interface Field<V> {
  /** The documented spelling; matched case-insensitively as upstream's TOML decoder does. */
  readonly key: string;
  readonly schema: Schema<NonNullable<V>>;
  /** A missing key is an error. */
  readonly required?: boolean;
  /** Used when the key is missing. */
  readonly default?: NonNullable<V>;
  /** For a sub-table: a missing table is read as an empty one, so its own defaults apply. */
  readonly defaultsFromEmptyTable?: boolean;
}

/** One field per property of T: the compiler checks that the spec covers the whole model. */
export type Fields<T> = { readonly [K in keyof T]-?: Field<T[K]> };

/** Options of {@link section}. */
export interface SectionOptions<T> {
  /** Describes a valid table in messages. @default "a table" */
  readonly expected?: string;
  /**
   * Rules across keys. Runs even when some keys were invalid (their names are in `failed`), so those rules are
   * reported together with the per-key problems; returns false when it reported an error.
   */
  readonly check?: (table: Partial<T>, failed: ReadonlySet<keyof T>, at: At, checker: Checker) => boolean;
}

/**
 * A TOML table with a fixed set of keys, matched case-insensitively. Unknown keys are reported (a warning
 * unless the checker is strict) with the nearest known key or the table they belong under; a key written twice
 * in different cases is an error.
 */
export function section<T>(fields: Fields<T>, options: SectionOptions<T> = {}): Schema<T> {
  const entries = Object.entries(fields) as FieldEntry<T>[];
  const byKey = new Map(entries.map(([prop, field]) => [field.key.toLowerCase(), { prop, field }]));
  const knownKeys = entries.map(([, field]) => field.key);
  const expected = options.expected ?? 'a table';
  return {
    expected,
    tableKeys: entries.map(([, field]) => ({
      key: field.key,
      schema: field.schema as Schema<unknown>,
      arrayOfTables: field.schema.arrayOfTables === true,
    })),
    read(value, at, checker) {
      if (!isTable(value)) return void checker.error(at, expected, describe(value));
      const rawKeyOf = matchKeys(value, byKey, knownKeys, at, checker);
      const { out, failed } = readFields(entries, value, rawKeyOf, at, checker);
      const checked = options.check === undefined || options.check(out as Partial<T>, failed, at, checker);
      return failed.size === 0 && checked ? (out as T) : undefined;
    },
  };
}

type FieldEntry<T> = [keyof T & string, Field<unknown>];

/**
 * The raw key the table uses for each property. An unknown key is reported with the table it belongs under, else the
 * nearest known key; a key written twice in different cases is an error.
 */
function matchKeys<T>(
  value: Record<string, unknown>,
  byKey: ReadonlyMap<string, { prop: keyof T & string; field: Field<unknown> }>,
  knownKeys: readonly string[],
  at: At,
  checker: Checker,
): Map<string, string> {
  const rawKeyOf = new Map<string, string>();
  for (const rawKey of Object.keys(value)) {
    const match = byKey.get(rawKey.toLowerCase());
    if (match === undefined) {
      checker.unknownKey(child(at, rawKey, rawKey), rawKey, unknownKeyHint(rawKey, knownKeys, checker));
      continue;
    }
    const earlier = rawKeyOf.get(match.prop);
    if (earlier !== undefined) {
      const found = `both ${JSON.stringify(earlier)} and ${JSON.stringify(rawKey)}`;
      checker.error(child(at, rawKey, match.field.key), `${match.field.key} once (keys are case-insensitive)`, found, 'keep one of them');
      continue;
    }
    rawKeyOf.set(match.prop, rawKey);
  }
  return rawKeyOf;
}

/**
 * A key that exists exactly under another table is misplaced, not misspelt ("Port" at the top is [SSH]'s Port, not a
 * typo of "Pool"): the table it belongs to comes first.
 */
function unknownKeyHint(rawKey: string, knownKeys: readonly string[], checker: Checker): string {
  const home = checker.tableOf(rawKey);
  const near = home === undefined ? nearestKey(rawKey, [...knownKeys]) : undefined;
  if (near !== undefined) return `did you mean ${JSON.stringify(near)}?`;
  if (home === undefined) return `known keys here: ${knownKeys.join(', ')}`;
  return home.table === 'the top level'
    ? `${home.key} belongs at the top level, before the first table header`
    : `${home.key} belongs under ${home.table} (a key belongs to the nearest table header above it)`;
}

/** Each field from its raw key, or its default (a missing required one is an error); the properties that failed. */
function readFields<T>(
  entries: readonly FieldEntry<T>[],
  value: Record<string, unknown>,
  rawKeyOf: ReadonlyMap<string, string>,
  at: At,
  checker: Checker,
): { out: Record<string, unknown>; failed: Set<keyof T> } {
  const out: Record<string, unknown> = {};
  const failed = new Set<keyof T>();
  for (const [prop, field] of entries) {
    const rawKey = rawKeyOf.get(prop);
    const fieldAt = child(at, rawKey ?? field.key, field.key);
    if (rawKey !== undefined || field.defaultsFromEmptyTable === true) {
      const read = field.schema.read(rawKey === undefined ? {} : value[rawKey], fieldAt, checker);
      if (read === undefined) failed.add(prop);
      out[prop] = read;
    } else if (field.required === true) {
      const table = at.display === '' ? 'the top level' : at.display.endsWith(']') ? at.display : `[${at.display}]`;
      checker.error(fieldAt, field.schema.expected, 'nothing', `add ${field.key} to ${table}`);
      failed.add(prop);
    } else {
      out[prop] = field.default;
    }
  }
  return { out, failed };
}

/** A schema followed by a check or conversion that sees the whole value (cross-field rules). */
export function refine<T, U>(schema: Schema<T>, then: (value: T, at: At, checker: Checker) => U | undefined): Schema<U> {
  return {
    expected: schema.expected,
    ...(schema.tableKeys === undefined ? {} : { tableKeys: schema.tableKeys }),
    ...(schema.arrayOfTables === true ? { arrayOfTables: true } : {}),
    read(value, at, checker) {
      const read = schema.read(value, at, checker);
      return read === undefined ? undefined : then(read, at, checker);
    },
  };
}
