/** Go's `time.ParseDuration` units, in seconds. */
const unitSeconds: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * A duration as Go's `time.ParseDuration` reads it (`90s`, `1m30s`, `1.5h`, `0`), the format of gitlab-runner's
 * `RUNNER_*_TIMEOUT` variables.
 * @returns seconds, or undefined when Go would return an error
 */
export function parseGoDurationSeconds(text: string): number | undefined {
  if (text === '0') return 0;
  const match = /^([+-]?)((?:\d*\.?\d+(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!match) return undefined;
  let total = 0;
  for (const [, amount, unit] of match[2]!.matchAll(/(\d*\.?\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(amount) * unitSeconds[unit!]!;
  return match[1] === '-' ? -total : total;
}
