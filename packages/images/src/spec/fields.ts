import type { ValueProblem } from './image-reference.js';
import type { IssueCollector } from './issues.js';

/**
 * Reads one field of a spec object given as untyped input (JSON, or a caller that bypassed the types), applying
 * the default when absent and recording an issue when the value has the wrong shape. Values that fail return the
 * default so that checking continues and every problem is reported at once.
 */
export class FieldReader {
  constructor(
    private readonly input: Record<string, unknown>,
    private readonly path: string,
    private readonly issues: IssueCollector,
  ) {}

  /** Starts reading `value` as an object at `path`; a non-object is reported and read as empty. */
  static of(value: unknown, path: string, issues: IssueCollector): FieldReader {
    if (value === undefined) {
      return new FieldReader({}, path, issues);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.add(path, `expected an object, got ${describe(value)}`, 'give an object such as {}');
      return new FieldReader({}, path, issues);
    }
    return new FieldReader(value as Record<string, unknown>, path, issues);
  }

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  /** Reports keys that no reader asked for: a typo must not be silently ignored. */
  rejectUnknownKeys(known: readonly string[]): void {
    for (const key of Object.keys(this.input)) {
      if (!known.includes(key)) {
        this.issues.add(this.at(key), 'unknown field', `remove it or use one of: ${known.join(', ')}`);
      }
    }
  }

  object(key: string): FieldReader {
    return FieldReader.of(this.input[key], this.at(key), this.issues);
  }

  string(key: string, fallback: string, rule: { pattern: RegExp; fix: string; allowEmpty?: boolean }): string {
    const value = this.input[key];
    if (value === undefined) {
      return fallback;
    }
    if (typeof value !== 'string') {
      this.issues.add(this.at(key), `expected a string, got ${describe(value)}`, rule.fix);
      return fallback;
    }
    if (value === '' && rule.allowEmpty) {
      return value;
    }
    if (!rule.pattern.test(value)) {
      this.issues.add(this.at(key), `${JSON.stringify(value)} is not valid`, rule.fix);
      return fallback;
    }
    return value;
  }

  /** A string that `check` explains when it is wrong (for shapes a single pattern would report too vaguely). */
  checkedString(key: string, fallback: string, check: (value: string) => ValueProblem | undefined, typeFix: string): string {
    const value = this.input[key];
    if (value === undefined) {
      return fallback;
    }
    if (typeof value !== 'string') {
      this.issues.add(this.at(key), `expected a string, got ${describe(value)}`, typeFix);
      return fallback;
    }
    const problem = check(value);
    if (problem) {
      this.issues.add(this.at(key), problem.message, problem.fix);
      return fallback;
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.input[key];
    if (value === undefined) {
      return fallback;
    }
    if (typeof value !== 'boolean') {
      this.issues.add(this.at(key), `expected true or false, got ${describe(value)}`, 'write true or false');
      return fallback;
    }
    return value;
  }

  integer(key: string, fallback: number, range: { min: number; max: number }): number {
    const value = this.input[key];
    if (value === undefined) {
      return fallback;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      this.issues.add(
        this.at(key),
        `expected a whole number from ${range.min} to ${range.max}, got ${describe(value)}`,
        `use a whole number from ${range.min} to ${range.max}`,
      );
      return fallback;
    }
    return value;
  }

  stringArray(
    key: string,
    fallback: readonly string[],
    rule: { pattern: RegExp; fix: string; nonEmpty?: boolean; unique?: boolean },
  ): string[] {
    const value = this.input[key];
    if (value === undefined) {
      return [...fallback];
    }
    if (!Array.isArray(value)) {
      this.issues.add(this.at(key), `expected a list of strings, got ${describe(value)}`, rule.fix);
      return [...fallback];
    }
    if (rule.nonEmpty && value.length === 0) {
      this.issues.add(this.at(key), 'the list is empty', rule.fix);
      return [...fallback];
    }
    const result: string[] = [];
    value.forEach((item: unknown, index) => {
      const itemPath = `${this.at(key)}[${index}]`;
      if (typeof item !== 'string' || !rule.pattern.test(item)) {
        this.issues.add(itemPath, `${describe(item)} is not valid`, rule.fix);
      } else if (rule.unique && result.includes(item)) {
        this.issues.add(itemPath, `${JSON.stringify(item)} is listed twice`, 'list each value once');
      } else {
        result.push(item);
      }
    });
    return result;
  }
}

function describe(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value;
}
