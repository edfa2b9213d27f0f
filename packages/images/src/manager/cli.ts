#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CredentialSource } from './aws/credentials.js';
import { SsmParameterReader } from './aws/ssm.js';
import { DRAIN_STARTED_TAG, DrainTagReader } from './drain-tag.js';
import { EXIT_MISCONFIGURED, EXIT_UNAVAILABLE, MisconfiguredError } from './exit-codes.js';
import { resolveManagerId } from './manager-id.js';
import { ECS_METADATA_VARIABLE } from './own-task.js';
import { pollSeconds } from './poll-interval.js';
import { renderConfiguration } from './rerender.js';
import { overlaySettings } from './settings.js';
import { readStartSettings, writeSettingsEnvironment } from './start-settings.js';
import { MANAGER_VERSION_VARIABLE, SETTINGS_PARAMETER_VARIABLE } from './variables.js';
import { SettingsWatcher } from './watch.js';

type Environment = Readonly<Record<string, string | undefined>>;

const USAGE = `Usage: gitlab-fargate-manager <command> [options]

The runner-manager image's helper (its entrypoint calls it; see @gitlab-fargate/images' README).

Commands:
  settings --out FILE     read ${SETTINGS_PARAMETER_VARIABLE} (an SSM String parameter holding a JSON object of
                          setting variables), wait while it names another ${MANAGER_VERSION_VARIABLE}, write the
                          settings to FILE as NUL-ended NAME=VALUE entries and print the parameter's version
  manager-id              print this manager's ID (its ECS task ID) for GITLAB_FARGATE_MANAGER_ID
  watch --runner-pid PID --config-cli PATH [--applied-version N]
                          poll the parameter; re-render config.toml and the driver TOML when it changes, SIGQUIT
                          PID when it names another manager version or when the manager controller tagged this
                          manager's own ECS task ${DRAIN_STARTED_TAG} (read with ECS DescribeTasks; the task
                          from ${ECS_METADATA_VARIABLE}/task)`;

/** A mistake in how the command was called. */
class UsageError extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string): void => {
  process.stderr.write(`runner-manager: ${line}\n`);
};

function parameterName(env: Environment): string {
  const name = env[SETTINGS_PARAMETER_VARIABLE];
  if (!name) throw new MisconfiguredError(`${SETTINGS_PARAMETER_VARIABLE} is not set: name the SSM parameter that holds the settings`);
  return name;
}

async function settingsCommand(args: string[], env: Environment): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } }, strict: true });
  if (values.out === undefined) throw new UsageError('settings: --out FILE is required');
  const name = parameterName(env);
  const reader = new SsmParameterReader(env);
  const ownVersion = env[MANAGER_VERSION_VARIABLE] || undefined;
  const start = await readStartSettings(
    { parameterName: name, pollSeconds: pollSeconds(env), ...(ownVersion === undefined ? {} : { ownVersion }) },
    { read: () => reader.get(name), sleep, log },
  );
  await writeSettingsEnvironment(values.out, start.settings);
  const names = [...start.settings.values.keys()];
  log(`settings from SSM parameter ${name} (version ${start.version}): ${names.length === 0 ? 'none' : names.join(', ')}`);
  if (ownVersion === undefined) log(`${MANAGER_VERSION_VARIABLE} is not set: this manager is never drained by a version change`);
  process.stdout.write(`${start.version}\n`);
  return 0;
}

async function managerIdCommand(env: Environment): Promise<number> {
  const { id, source } = await resolveManagerId(env, sleep);
  log(`manager ID (GITLAB_FARGATE_MANAGER_ID) ${id}: ${source}`);
  process.stdout.write(`${id}\n`);
  return 0;
}

async function watchCommand(args: string[], env: Environment): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'runner-pid': { type: 'string' }, 'config-cli': { type: 'string' }, 'applied-version': { type: 'string' } },
    strict: true,
  });
  const pid = Number(values['runner-pid']);
  if (!Number.isSafeInteger(pid) || pid < 2) throw new UsageError('watch: --runner-pid must be the process ID of gitlab-runner');
  if (!values['config-cli']) throw new UsageError('watch: --config-cli PATH is required');
  const name = parameterName(env);
  const credentials = new CredentialSource(env);
  const reader = new SsmParameterReader(env, credentials);
  const metadataEndpoint = env[ECS_METADATA_VARIABLE] || undefined;
  const drainTags = metadataEndpoint === undefined ? undefined : new DrainTagReader(metadataEndpoint, env, credentials);
  const ownVersion = env[MANAGER_VERSION_VARIABLE] || undefined;
  const applied = values['applied-version'] === undefined ? undefined : Number(values['applied-version']);
  const targets = {
    driverConfigPath: env['DRIVER_CONFIG_PATH'] ?? '/etc/gitlab-runner/fargate.toml',
    runnerConfigPath: env['RUNNER_CONFIG_PATH'] ?? '/etc/gitlab-runner/config.toml',
    configCli: [values['config-cli']],
  };
  const seconds = pollSeconds(env);
  const watcher = new SettingsWatcher(
    {
      parameterName: name,
      pollSeconds: seconds,
      ...(ownVersion === undefined ? {} : { ownVersion }),
      ...(applied === undefined ? {} : { appliedVersion: applied }),
    },
    {
      read: () => reader.get(name),
      render: (settings) => renderConfiguration(overlaySettings(env, settings), targets),
      drain: () => signalDrain(pid),
      ...(drainTags === undefined ? {} : { drainTag: () => drainTags.read() }),
      runnerAlive: () => isAlive(pid),
      sleep,
      log,
    },
  );
  log(
    `watching SSM parameter ${name} every ${seconds} s for settings changes` +
      (drainTags === undefined ? ` (${ECS_METADATA_VARIABLE} is not set: no drain tag to watch)` : ` and this manager's ${DRAIN_STARTED_TAG} tag`),
  );
  await watcher.run();
  return 0;
}

function signalDrain(pid: number): void {
  try {
    process.kill(pid, 'SIGQUIT');
  } catch (error) {
    log(`cannot send SIGQUIT to gitlab-runner (PID ${pid}): ${(error as Error).message}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs a command and returns its exit status. */
export async function main(argv: string[], env: Environment): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'settings') return await settingsCommand(rest, env);
    if (command === 'manager-id') return await managerIdCommand(env);
    if (command === 'watch') return await watchCommand(rest, env);
    if (command === '--help' || command === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    throw new UsageError(command === undefined ? 'no command given' : `unknown command ${JSON.stringify(command)}`);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`gitlab-fargate-manager: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    log(`error: ${(error as Error).message}`);
    return error instanceof MisconfiguredError ? EXIT_MISCONFIGURED : EXIT_UNAVAILABLE;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
