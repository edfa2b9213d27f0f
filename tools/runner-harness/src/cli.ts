#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseDurationSeconds } from './duration.js';
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

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      job: { type: 'string' },
      runner: { type: 'string' },
      var: { type: 'string', multiple: true },
      'job-id': { type: 'string' },
      'pipeline-id': { type: 'string' },
      project: { type: 'string' },
      'concurrent-id': { type: 'string' },
      'prepare-retry-interval': { type: 'string' },
      'prepare-timeout': { type: 'string' },
      'script-shape': { type: 'string' },
      'result-json': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values.version) {
    console.log('gitlab-fargate-runner-harness 0.0.0');
    return 0;
  }
  if (positionals[0] !== 'run' || positionals.length > 1) {
    throw new UsageError(positionals.length === 0 ? 'missing command: use "run"' : `unknown command "${positionals.join(' ')}": use "run"`);
  }
  if (!values.config) throw new UsageError('--config FILE is required (the runner config.toml)');
  if (!values.job) throw new UsageError('--job FILE is required (the job as YAML)');
  const integer = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a whole number (got "${text}")`);
    return Number(text);
  };
  const extraVariables: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(pair.slice(0, at))) {
      throw new UsageError(`--var must be KEY=VALUE with a valid variable name (got "${pair}")`);
    }
    extraVariables[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const retrySeconds = values['prepare-retry-interval'] === undefined ? 3 : Number(values['prepare-retry-interval']);
  if (!Number.isFinite(retrySeconds) || retrySeconds < 0) {
    throw new UsageError(`--prepare-retry-interval must be a number of seconds (got "${values['prepare-retry-interval']}")`);
  }

  const prepareTimeout = values['prepare-timeout'];
  const prepareTimeoutSeconds = prepareTimeout === undefined ? undefined : parseDurationSeconds(prepareTimeout);
  if (prepareTimeout !== undefined && prepareTimeoutSeconds === undefined) {
    throw new UsageError(`--prepare-timeout must be a duration such as 90 or 5m (got "${prepareTimeout}")`);
  }
  const shape = values['script-shape'];
  if (shape !== undefined && shape !== '19.1' && shape !== '19.0') {
    throw new UsageError(`--script-shape must be 19.1 or 19.0 (got "${shape}")`);
  }
  const [runner, job] = await loadInputs(values.config, values.runner, values.job);
  const identity = {
    ...(values['job-id'] ? { jobId: integer('job-id', values['job-id'])! } : {}),
    ...(values['pipeline-id'] ? { pipelineId: integer('pipeline-id', values['pipeline-id'])! } : {}),
    ...(values['concurrent-id'] ? { concurrentId: integer('concurrent-id', values['concurrent-id'])! } : {}),
    ...(values.project ? { projectPath: values.project } : {}),
  };

  const controller = new AbortController();
  const cancel = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nReceived ${signal}: canceling the job (cleanup still runs)\n`);
    controller.abort();
  };
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const result = await runJob({
    runner,
    job: { ...job, variables: { ...job.variables, ...extraVariables } },
    identity,
    prepareRetryIntervalMs: retrySeconds * 1000,
    ...(prepareTimeoutSeconds !== undefined ? { prepareTimeoutSeconds } : {}),
    ...(shape !== undefined ? { scriptShape: shape } : {}),
    signal: controller.signal,
  });
  if (values['result-json']) {
    await writeFile(values['result-json'], `${JSON.stringify(result, null, 2)}\n`);
  }
  return exitCodes[result.outcome];
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
