import { describe, type At, type Checker } from '../schema/checker.js';
import type { Schema } from '../schema/schema.js';

/** Go's `time.ParseDuration` units, in seconds (`µs` and `μs` are both micro signs Go accepts). */
const UNIT_SECONDS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const WHOLE = new RegExp(`^([+-]?)((?:${PART.source})+)$`);

/**
 * A duration as Go's `time.ParseDuration` reads it (`90s`, `1m30s`, `1.5h`, `-5m`, `0`): the format of
 * gitlab-runner's `time.Duration` settings in config.toml and of its `RUNNER_*_TIMEOUT` variables.
 * @returns seconds (negative for a negative duration), or undefined where Go returns an error
 */
export function parseGoDurationSeconds(text: string): number | undefined {
  if (/^[+-]?0$/.test(text)) return 0;
  const match = WHOLE.exec(text);
  if (!match) return undefined;
  let total = 0;
  for (const [, amount, unit] of match[2]!.matchAll(PART)) total += Number(amount) * UNIT_SECONDS[unit!]!;
  return match[1] === '-' ? -total : total;
}

/** Seconds as a Go duration string that {@link parseGoDurationSeconds} reads back (`300s`, `0.5s`). */
export function formatGoDuration(seconds: number): string {
  return `${seconds.toFixed(9).replace(/\.?0+$/, '')}s`;
}

/**
 * A timeout gitlab-runner reads as a `time.Duration` and ignores unless positive (such as `prepare_timeout`), in
 * seconds: a Go duration string is required (Go's TOML decoder would read an integer as nanoseconds); zero or a
 * negative duration is kept but warned about, as gitlab-runner ignores it and falls back to `whenUnset`.
 */
export function positiveGoDuration(whenUnset: string): Schema<number> {
  const expected = 'a Go duration string like "5m" or "1h30m"';
  return {
    expected,
    read(value: unknown, at: At, checker: Checker) {
      if (typeof value !== 'string') {
        const hint = typeof value === 'number' ? `write it with a unit, e.g. "${value}s" (gitlab-runner would read a bare number as nanoseconds)` : undefined;
        return void checker.error(at, expected, describe(value), hint);
      }
      const seconds = parseGoDurationSeconds(value);
      if (seconds === undefined) return void checker.error(at, expected, describe(value), 'units are h, m, s, ms, us and ns');
      if (seconds <= 0) checker.warn(at, 'a duration greater than 0', describe(value), `gitlab-runner ignores it and uses ${whenUnset}`);
      return seconds;
    },
  };
}
