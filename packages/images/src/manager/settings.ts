import { MisconfiguredError } from './exit-codes.js';
import { MANAGER_VERSION_VARIABLE, RELOADABLE_SETTING_VARIABLES, START_ONLY_VARIABLES } from './variables.js';

/** What the settings parameter holds, checked. */
export interface ManagerSettings {
  /** Setting variables to lay over the manager's environment, in the parameter's order. */
  readonly values: ReadonlyMap<string, string>;
  /** The manager version the parameter names (`GITLAB_FARGATE_MANAGER_VERSION`), when it names one. */
  readonly version?: string;
}

/** A settings parameter value that cannot be used; the message lists every problem and how to fix it. */
export class SettingsError extends MisconfiguredError {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

const RELOADABLE = new Set(RELOADABLE_SETTING_VARIABLES);

/**
 * Parses and checks the parameter's value: a JSON object whose keys are setting variables the manager may change
 * ({@link RELOADABLE_SETTING_VARIABLES}) or `GITLAB_FARGATE_MANAGER_VERSION`, and whose values are strings.
 *
 * @param source names the parameter in messages, e.g. `SSM parameter /gitlab-ci/dev/manager-settings (version 4)`
 * @throws SettingsError naming every problem
 */
export function parseSettings(text: string, source: string): ManagerSettings {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(`${source} is not valid JSON (${(error as Error).message}): give a JSON object such as {"CONCURRENT": "4"}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    const kind = document === null ? 'null' : Array.isArray(document) ? 'an array' : `a ${typeof document}`;
    throw new SettingsError(`${source} is ${kind}, not a JSON object: give an object such as {"CONCURRENT": "4"}`);
  }
  const problems: string[] = [];
  const values = new Map<string, string>();
  let version: string | undefined;
  for (const [name, value] of Object.entries(document)) {
    const problem = keyProblem(name) ?? valueProblem(value);
    if (problem !== undefined) {
      problems.push(`${JSON.stringify(name)} ${problem}`);
    } else if (name === MANAGER_VERSION_VARIABLE) {
      version = value as string;
    } else {
      values.set(name, value as string);
    }
  }
  if (problems.length > 0) {
    throw new SettingsError(`${source} cannot be used: ${problems.join('; ')}`);
  }
  return version === undefined ? { values } : { values, version };
}

function keyProblem(name: string): string | undefined {
  if (name === MANAGER_VERSION_VARIABLE || RELOADABLE.has(name)) return undefined;
  const reason = START_ONLY_VARIABLES[name];
  if (reason !== undefined) return `cannot come from the parameter (${reason}): remove it`;
  return `is not a setting the manager reads: remove it, or use one of ${[MANAGER_VERSION_VARIABLE, ...RELOADABLE_SETTING_VARIABLES].join(', ')}`;
}

function valueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return `has ${value === null ? 'null' : `a ${typeof value}`} value: give a string, e.g. "4" rather than 4`;
  }
  if (value.includes('\0')) return 'has a NUL character in its value, which no environment variable can hold: remove it';
  return undefined;
}

/** The environment a render sees: the manager's own, with the parameter's settings laid over it. */
export function overlaySettings(base: Readonly<Record<string, string | undefined>>, settings: ManagerSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of settings.values) env[name] = value;
  return env;
}

/** Names whose values differ between two settings (added, removed or changed), for the log: values are not shown. */
export function changedSettingNames(before: ManagerSettings | undefined, after: ManagerSettings): string[] {
  const names = new Set([...(before?.values.keys() ?? []), ...after.values.keys()]);
  return [...names].filter((name) => before?.values.get(name) !== after.values.get(name)).sort();
}
