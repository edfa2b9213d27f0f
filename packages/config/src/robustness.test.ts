import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parseDriverConfig } from './driver/parse.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { parseRunnerConfig } from './runner/parse.js';
import { fixture } from './test-support.js';

/** Parsing may succeed or fail, but a failure is always a ConfigError, and every issue (warnings too) is located. */
function onlyFailsWithLocatedConfigError(
  parse: (text: string, options: { file: string }) => { warnings: readonly ConfigIssue[] },
  text: string,
): void {
  let issues: readonly ConfigIssue[];
  try {
    issues = parse(text, { file: 'prop.toml' }).warnings;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    expect(error.issues.some((issue) => issue.severity === 'error')).toBe(true);
    issues = error.issues;
  }
  const lines = text.split('\n').length;
  for (const issue of issues) {
    expect(issue.file).toBe('prop.toml');
    expect(issue.line).toBeGreaterThanOrEqual(1);
    expect(issue.line).toBeLessThanOrEqual(lines);
    expect(issue.column).toBeGreaterThanOrEqual(1);
    expect(issue.message).toContain('expected ');
  }
}

const PARSERS = [
  ['driver', parseDriverConfig],
  ['runner', parseRunnerConfig],
] as const;

const KNOWN_KEYS = ['Fargate', 'fargate', 'Cluster', 'SUBNETS', 'Subnet', 'TaskDefinition', 'SSH', 'Port', 'Tags', 'CapacityProviderStrategy', 'Weight', 'Overrides', 'MaxCpu', 'runners', 'custom', 'run_exec', 'token', 'cache', 's3', 'concurrent', 'Type', 'url'];
const key = fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 8 }));
const scalar = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean());
/** TOML-shaped documents: tables nested in tables and arrays, with known keys in random case. */
const document = fc.letrec<{ table: Record<string, unknown>; value: unknown }>((tie) => ({
  table: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 3 }), tie('table')),
})).table;

describe.each(PARSERS)('parsing arbitrary input as %s config', (_kind, parse) => {
  it('only ever fails with a located ConfigError, for any text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => onlyFailsWithLocatedConfigError(parse, text)), { numRuns: 500 });
  });

  it('only ever fails with a located ConfigError, for any well-formed TOML document', () => {
    fc.assert(fc.property(document, (value) => onlyFailsWithLocatedConfigError(parse, stringify(value))), { numRuns: 500 });
  });

  it('only ever fails with a located ConfigError, for damaged real files', () => {
    const files = ['upstream-driver-example.toml', 'extended-driver.toml', 'runner-custom-executor.toml'].map(fixture);
    const damage = fc.tuple(fc.constantFrom(...files), fc.nat(), fc.nat({ max: 20 }), fc.string({ unit: 'binary', maxLength: 6 }));
    fc.assert(
      fc.property(damage, ([text, at, length, insert]) => {
        const start = at % text.length;
        onlyFailsWithLocatedConfigError(parse, text.slice(0, start) + insert + text.slice(start + length));
      }),
      { numRuns: 500 },
    );
  });
});
