#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { parseCommandLine, UsageError } from './cli-args.js';
import { JobSpecError, loadJobSpec, type JobSpec } from './job.js';
import { runJob, type JobOutcome } from './run-job.js';
import { loadRunnerSettings, RunnerSelectionError } from './runner-config.js';
import type { RunnerSettings } from './runner-settings.js';

const usage = `Usage: gitlab-fargate-runner-harness run --config FILE --job FILE [options]

Plays gitlab-runner's side of the custom-executor protocol as GitLab documents it: reads a runner
config.toml and a job, then calls the [runners.custom] executables for config, prepare (3 attempts),
the stages gitlab-runner 19 would call for the job, and cleanup, printing the job log as gitlab-runner would. It is not gitlab-runner:
there is no GitLab server, so sources, caches and artifacts are not fetched or uploaded.

Options:
  --config FILE              gitlab-runner config.toml with a custom-executor [[runners]] entry (required)
  --job FILE                 the job as YAML, written like a job in .gitlab-ci.yml: script, after_script,
                             variables, timeout, cache, artifacts, dependencies (required)
  --runner NAME              which [[runners]] entry to use (default: the first)
  --var KEY=VALUE            an extra job variable; repeatable; wins over the job file's
  --job-id N                 CI_JOB_ID (default: random)
  --pipeline-id N            CI_PIPELINE_ID (default: random)
  --project PATH             CI_PROJECT_PATH, namespace/project (default: demo/fargate-project)
  --concurrent-id N          CI_CONCURRENT_ID (default: 0)
  --prepare-retry-interval S seconds between prepare attempts (default: 3, as gitlab-runner)
  --prepare-timeout D        the runner's prepare_timeout: bounds config, prepare and prepare_script together,
                             e.g. 90, 5m (default: config.toml's prepare_timeout, else the job's timeout)
  --script-shape 19.1|19.0   which gitlab-runner's stage scripts to write (default: 19.1)
  --result-json FILE         also write the result (outcome, exit code, timings) as JSON
  -h, --help                 show this help
  --version                  print the version

Exit status: 0 job succeeded; 1 job failed (script failure, timeout or cancel); 2 system failure;
3 invalid input (arguments, config.toml or job file). SIGINT or SIGTERM cancels the job; cleanup still runs.`;

const exitCodes: Record<JobOutcome, number> = { success: 0, script_failure: 1, timed_out: 1, canceled: 1, system_failure: 2 };
const invalidInput = 3;

async function main(argv: string[]): Promise<number> {
  const command = parseCommandLine(argv);
  if (command.kind === 'help') return print(usage);
  if (command.kind === 'version') return print('gitlab-fargate-runner-harness 0.0.0');
  const [runner, job] = await loadInputs(command.configPath, command.runnerName, command.jobPath);
  const result = await runJob({
    runner,
    job: { ...job, variables: { ...job.variables, ...command.extraVariables } },
    identity: command.identity,
    prepareRetryIntervalMs: command.prepareRetryIntervalMs,
    ...(command.prepareTimeoutSeconds !== undefined ? { prepareTimeoutSeconds: command.prepareTimeoutSeconds } : {}),
    ...(command.scriptShape !== undefined ? { scriptShape: command.scriptShape } : {}),
    signal: cancelOnSignals(),
  });
  if (command.resultJson) await writeFile(command.resultJson, `${JSON.stringify(result, null, 2)}\n`);
  return exitCodes[result.outcome];
}

function print(text: string): number {
  console.log(text);
  return 0;
}

/** SIGINT or SIGTERM cancels the job, as gitlab-runner's cancel does; cleanup still runs. */
function cancelOnSignals(): AbortSignal {
  const controller = new AbortController();
  const cancel = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nReceived ${signal}: canceling the job (cleanup still runs)\n`);
    controller.abort();
  };
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  return controller.signal;
}

/** Every problem with the runner config and the job file, the config's first, so one run reports them all. */
class InvalidInputError extends Error {
  constructor(readonly errors: readonly (JobSpecError | RunnerSelectionError)[]) {
    super(errors.map((error) => error.message).join('\n'));
    this.name = 'InvalidInputError';
  }
}

/**
 * Loads both inputs and waits for both: with `Promise.all` the first rejection would win, so which problem
 * the user saw depended on which file was read first.
 */
async function loadInputs(configPath: string, runnerName: string | undefined, jobPath: string) {
  const [runner, job] = await Promise.allSettled([loadRunnerSettings(configPath, runnerName), loadJobSpec(jobPath)]);
  const errors = [runner, job].flatMap((settled) => (settled.status === 'rejected' ? [settled.reason as unknown] : []));
  if (errors.length > 0) {
    const unexpected = errors.find((error) => !(error instanceof JobSpecError || error instanceof RunnerSelectionError));
    if (unexpected !== undefined) throw unexpected;
    throw new InvalidInputError(errors as (JobSpecError | RunnerSelectionError)[]);
  }
  return [(runner as PromiseFulfilledResult<RunnerSettings>).value, (job as PromiseFulfilledResult<JobSpec>).value] as const;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof InvalidInputError) {
      for (const problem of error.errors) console.error(`gitlab-fargate-runner-harness: ${problem.message}`);
    } else if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`gitlab-fargate-runner-harness: ${error.message}\nRun with --help for usage.`);
    } else {
      console.error(`gitlab-fargate-runner-harness: unexpected error: ${error instanceof Error ? error.stack : String(error)}`);
      process.exitCode = 2;
      return;
    }
    process.exitCode = invalidInput;
  },
);
