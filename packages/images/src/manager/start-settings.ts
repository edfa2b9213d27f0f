import { writeFile } from 'node:fs/promises';
import type { ParameterValue } from './aws/ssm.js';
import { parseSettings, type ManagerSettings } from './settings.js';

/** Reads of the parameter at start: this many attempts, spaced as {@link START_RETRY_DELAYS_MS} says, then give up. */
export const START_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

/** What the start needs from the world. */
export interface StartDependencies {
  read(): Promise<ParameterValue>;
  sleep(ms: number): Promise<void>;
  log(line: string): void;
}

/** The settings to start with and the parameter version they came from. */
export interface StartSettings {
  readonly settings: ManagerSettings;
  readonly version: number;
}

/**
 * The settings the manager starts with. A failed read is retried ({@link START_RETRY_DELAYS_MS}), then the error is
 * thrown (the task fails and ECS starts another). While the parameter names another manager version than
 * `ownVersion`, nothing starts: this waits, polling, until it names this one, so that neither a manager started
 * before the parameter's update nor an old one started again after its drain takes jobs.
 *
 * @throws SettingsError when the value cannot be used; the last read's error when every attempt failed
 */
export async function readStartSettings(
  options: { readonly parameterName: string; readonly pollSeconds: number; readonly ownVersion?: string },
  deps: StartDependencies,
): Promise<StartSettings> {
  let waitingFor: string | undefined;
  for (;;) {
    const parameter = await readWithRetries(options.parameterName, deps);
    const settings = parseSettings(parameter.value, `SSM parameter ${options.parameterName} (version ${parameter.version})`);
    if (options.ownVersion === undefined || settings.version === undefined || settings.version === options.ownVersion) {
      if (waitingFor !== undefined) deps.log(`${options.parameterName} now names this manager's version ${options.ownVersion}: starting`);
      return { settings, version: parameter.version };
    }
    if (settings.version !== waitingFor) {
      deps.log(
        `${options.parameterName} names manager version ${settings.version}, this manager is ${options.ownVersion}: ` +
          `not starting gitlab-runner; checking again every ${options.pollSeconds} s until it names ${options.ownVersion}`,
      );
      waitingFor = settings.version;
    }
    await deps.sleep(options.pollSeconds * 1000);
  }
}

async function readWithRetries(name: string, deps: StartDependencies): Promise<ParameterValue> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await deps.read();
    } catch (error) {
      const delay = START_RETRY_DELAYS_MS[attempt];
      if (delay === undefined) throw error;
      deps.log(`cannot read ${name} (attempt ${attempt + 1}): ${(error as Error).message}; retrying in ${delay / 1000} s`);
      await deps.sleep(delay);
    }
  }
}

/**
 * Writes the settings for the entrypoint: `NAME=VALUE` entries, each ended by a NUL byte (values may hold newlines),
 * mode 0600. Names are checked setting names, so the entrypoint can `export` each entry as it is.
 */
export async function writeSettingsEnvironment(path: string, settings: ManagerSettings): Promise<void> {
  const entries = [...settings.values].map(([name, value]) => `${name}=${value}\0`).join('');
  await writeFile(path, entries, { mode: 0o600 });
}
