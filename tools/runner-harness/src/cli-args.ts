import { parseArgs } from 'node:util';
import { parseDurationSeconds } from './duration.js';
import type { JobIdentity } from './job-environment.js';

/** A command-line mistake: printed with a hint to `--help`, exit 3, nothing runs. */
export class UsageError extends Error {}

/** What `gitlab-fargate-runner-harness run …` asked for, checked. */
export interface RunCommand {
  readonly kind: 'run';
  readonly configPath: string;
  readonly jobPath: string;
  readonly runnerName?: string;
  /** `--var KEY=VALUE` pairs, winning over the job file's variables. */
  readonly extraVariables: Record<string, string>;
  readonly identity: Partial<JobIdentity>;
  readonly prepareRetryIntervalMs: number;
  readonly prepareTimeoutSeconds?: number;
  readonly scriptShape?: '19.1' | '19.0';
  readonly resultJson?: string;
}

/** The command line: `--help`, `--version`, or a job to run. */
export type Command = { readonly kind: 'help' } | { readonly kind: 'version' } | RunCommand;

const OPTIONS = {
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
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** Reads the command line; every mistake is a {@link UsageError} naming the flag and the value. */
export function parseCommandLine(argv: readonly string[]): Command {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: OPTIONS });
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (positionals[0] !== 'run' || positionals.length > 1) {
    throw new UsageError(positionals.length === 0 ? 'missing command: use "run"' : `unknown command "${positionals.join(' ')}": use "run"`);
  }
  if (!values.config) throw new UsageError('--config FILE is required (the runner config.toml)');
  if (!values.job) throw new UsageError('--job FILE is required (the job as YAML)');
  const prepareTimeoutSeconds = prepareTimeout(values['prepare-timeout']);
  const scriptShape = shape(values['script-shape']);
  return {
    kind: 'run',
    configPath: values.config,
    jobPath: values.job,
    ...(values.runner !== undefined ? { runnerName: values.runner } : {}),
    extraVariables: variables(values.var ?? []),
    identity: identity(values),
    prepareRetryIntervalMs: retryIntervalSeconds(values['prepare-retry-interval']) * 1000,
    ...(prepareTimeoutSeconds !== undefined ? { prepareTimeoutSeconds } : {}),
    ...(scriptShape !== undefined ? { scriptShape } : {}),
    ...(values['result-json'] ? { resultJson: values['result-json'] } : {}),
  };
}

function integer(flag: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a whole number (got "${text}")`);
  return Number(text);
}

function variables(pairs: readonly string[]): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(pair.slice(0, at))) {
      throw new UsageError(`--var must be KEY=VALUE with a valid variable name (got "${pair}")`);
    }
    extra[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return extra;
}

function retryIntervalSeconds(text: string | undefined): number {
  const seconds = text === undefined ? 3 : Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`--prepare-retry-interval must be a number of seconds (got "${text}")`);
  return seconds;
}

function prepareTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new UsageError(`--prepare-timeout must be a duration such as 90 or 5m (got "${text}")`);
  return seconds;
}

function shape(text: string | undefined): '19.1' | '19.0' | undefined {
  if (text === undefined || text === '19.1' || text === '19.0') return text;
  throw new UsageError(`--script-shape must be 19.1 or 19.0 (got "${text}")`);
}

function identity(values: Values): Partial<JobIdentity> {
  const jobId = integer('job-id', values['job-id']);
  const pipelineId = integer('pipeline-id', values['pipeline-id']);
  const concurrentId = integer('concurrent-id', values['concurrent-id']);
  return {
    ...(jobId !== undefined ? { jobId } : {}),
    ...(pipelineId !== undefined ? { pipelineId } : {}),
    ...(concurrentId !== undefined ? { concurrentId } : {}),
    ...(values.project ? { projectPath: values.project } : {}),
  };
}
