/** The two kinds of file this package understands. */
export type ConfigKind = 'driver' | 'runner';

const RUNNER_KEYS = new Set(['runners', 'concurrent', 'check_interval', 'session_server']);
const DRIVER_KEYS = new Set(['fargate', 'taskmetadata', 'ssh', 'loglevel', 'logformat', 'logfile', 'timeouts', 'overrides']);

/** Guesses a parsed file's kind from its top-level keys; undefined when nothing tells. */
export function detectKind(document: Readonly<Record<string, unknown>>): ConfigKind | undefined {
  const keys = Object.keys(document).map((key) => key.toLowerCase());
  const runner = keys.filter((key) => RUNNER_KEYS.has(key)).length;
  const driver = keys.filter((key) => DRIVER_KEYS.has(key)).length;
  if (runner === driver) return undefined;
  return runner > driver ? 'runner' : 'driver';
}
