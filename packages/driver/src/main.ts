import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ConfigIssue, DriverConfig, Parsed } from '@gitlab-fargate/config';
import { type Command, type GlobalFlags, type ParsedArgs, parseArgs } from './args.js';
import { SystemFailure, messageOf } from './errors.js';
import { type RunnerExitCodes, failureExitCode } from './failure-exit-code.js';
import { helpText } from './help.js';
import { type JobEnvironment, exitCodesOf, readJobEnvironment } from './job/environment.js';
import { type LogSink, type Logger, createLogger, fdSink, fileSink, parseLogFormat, parseLogLevel } from './log.js';
import type { StageContext } from './stages/context.js';
import { MUX_COMMAND } from './ssh/mux/protocol.js';
import { DRIVER_NAME, driverVersion } from './version.js';

/** The outside world of one driver invocation; the real one is built in cli.ts, tests build their own. */
export interface MainIo {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** File descriptors for synchronous log writes (stderr = 2). */
  readonly stdoutFd: number;
  readonly stderrFd: number;
  /**
   * Where the log writes instead of `stdoutFd`/`stderrFd`: the multiplexer running the native client's cleanup,
   * whose output travels as frames.
   * @default synchronous writes to `stdoutFd` and `stderrFd`
   */
  readonly logSinks?: { readonly stdout: LogSink; readonly stderr: LogSink };
  /** Aborted on SIGTERM/SIGINT, with a `Cancelled` error as reason. */
  readonly signal: AbortSignal;
  /**
   * The driver's own script, to start helper processes from (prepare's SSH multiplexer).
   * @default - none: stages run without helper processes
   */
  readonly driverEntry?: string;
  /**
   * What `report` reads when given no FILE (or `-`).
   * @default process.stdin
   */
  readonly stdin?: Readable;
}

/** The commands that act for a job (its stages) or for the runner (gc): they read its environment and config. */
type JobCommand = Extract<Command, { kind: 'stage' | 'gc' }>;

/** The commands that need no job and no driver configuration of the runner's (validate reads the one it is given). */
type StandaloneCommand = Exclude<Command, JobCommand>;

/**
 * Runs one driver command and returns the process exit code. The one place that catches and classifies errors:
 * a script failure becomes `$BUILD_FAILURE_EXIT_CODE` (with the script's code in `$BUILD_EXIT_CODE_FILE`),
 * anything else `$SYSTEM_FAILURE_EXIT_CODE`; validate and gc use 0/1.
 */
export async function main(io: MainIo): Promise<number> {
  const codes = exitCodesOf(io.env);
  const say = (text: string): void => {
    io.stderr.write(`${DRIVER_NAME}: ${text}\n`);
  };
  if (io.argv[0] === MUX_COMMAND) return runMultiplexer(io.argv[1]);
  // The manager controller (managers/command.ts) reads its own settings: no job, no driver TOML, no global flags.
  if (io.argv[0] === 'managers') return (await import('./managers/command.js')).managersCommand(io.argv.slice(1), io);
  // The warm-pool keeper and its status (pool/command.ts) read their own arguments.
  if (io.argv[0] === 'pool') return (await import('./pool/command.js')).poolCommand(io.argv.slice(1), io);
  const parsed = parseCommandLine(io.argv, say);
  if (parsed === undefined) return codes.system;
  const { flags, command } = parsed;
  if (command.kind === 'stage' || command.kind === 'gc') return runJobCommand(io, flags, command, codes, say);
  return runStandalone(io, flags, command, say);
}

/** The parsed command line, or undefined once its mistake is said (before anything else happens). */
function parseCommandLine(argv: readonly string[], say: (text: string) => void): ParsedArgs | undefined {
  try {
    return parseArgs(argv);
  } catch (error) {
    say(`${messageOf(error)} (see --help)`);
    return undefined;
  }
}

async function runStandalone(io: MainIo, flags: GlobalFlags, command: StandaloneCommand, say: (text: string) => void): Promise<number> {
  switch (command.kind) {
    case 'help':
      io.stdout.write(helpText(command.topic));
      return 0;
    case 'version':
      io.stdout.write(`${DRIVER_NAME} ${driverVersion()}\n`);
      return 0;
    case 'validate':
      return validate(io, resolve(io.cwd, command.path ?? flags.config), say);
    case 'report': {
      // Reads a log: no driver TOML, no job, no AWS.
      const { reportCommand } = await import('./report/command.js');
      return reportCommand(command, { stdin: io.stdin ?? process.stdin, stdout: io.stdout, stderr: io.stderr, cwd: io.cwd });
    }
  }
}

/** A stage or gc: reads the job's environment and the driver configuration, opens the log, runs, maps a failure. */
async function runJobCommand(
  io: MainIo,
  flags: GlobalFlags,
  command: JobCommand,
  codes: RunnerExitCodes,
  say: (text: string) => void,
): Promise<number> {
  let log: Logger | undefined;
  let env: JobEnvironment | undefined;
  try {
    env = readJobEnvironment(io.env);
    const { config, warnings } = await loadConfig(resolve(io.cwd, flags.config));
    log = stageLogger(io, flags, config, command);
    announce(log, env, command);
    await dispatch(command, stageContext(io, flags, config, env, log), warnings);
    return 0;
  } catch (caught) {
    const otherFailureCode = command.kind === 'gc' ? 1 : codes.system;
    return failureExitCode(caught, { codes, otherFailureCode, signal: io.signal, env, log, say });
  } finally {
    log?.close();
  }
}

/** The SSH multiplexer that prepare starts as a process of its own (the driver's script with a hidden command). */
async function runMultiplexer(argument: string | undefined): Promise<number> {
  const [{ runMultiplexerProcess }, { readState }] = await Promise.all([import('./ssh/mux/main.js'), import('./job/state.js')]);
  // It runs the native client's cleanup with this very function: the one cleanup there is.
  return runMultiplexerProcess(argument, readState, main);
}

/** The first records of a command's log. */
function announce(log: Logger, env: JobEnvironment, command: JobCommand): void {
  log.addSecret(env.jobToken);
  // Where a task gets its identity (prepare) or is found by it (gc); not again in every run stage's job log.
  if (command.kind === 'gc' || command.stage === 'prepare') env.warnings.forEach((w) => log.warn(w));
  log.debug('starting', { version: driverVersion(), pid: process.pid });
}

function stageContext(io: MainIo, flags: GlobalFlags, config: DriverConfig, env: JobEnvironment, log: Logger): StageContext {
  return {
    config,
    env,
    cli: { taskDefinition: flags.taskDefinition, platformVersion: flags.platformVersion },
    log,
    stdout: io.stdout,
    stderr: io.stderr,
    signal: io.signal,
    cwd: io.cwd,
    ...(io.driverEntry !== undefined ? { driverEntry: io.driverEntry } : {}),
  };
}

async function dispatch(command: JobCommand, ctx: StageContext, warnings: readonly ConfigIssue[]): Promise<void> {
  // Stages load their modules on demand: `config` must not pay for ssh2, `run` must not pay for the AWS SDK.
  if (command.kind === 'gc') {
    const { gcStage } = await import('./stages/gc.js');
    const minAge = command.minAgeSeconds !== undefined ? { minAgeSeconds: command.minAgeSeconds } : {};
    await gcStage(ctx, { dryRun: command.dryRun, withoutState: command.withoutState, ...minAge });
    return;
  }
  switch (command.stage) {
    case 'config': {
      const { configStage } = await import('./stages/config.js');
      configStage(ctx, warnings);
      return;
    }
    case 'prepare': {
      const { prepareStage } = await import('./stages/prepare.js');
      await prepareStage(ctx);
      return;
    }
    case 'run': {
      const { runStage } = await import('./stages/run.js');
      await runStage(ctx, resolve(ctx.cwd, command.script), command.runStage);
      return;
    }
    case 'cleanup': {
      const { cleanupStage } = await import('./stages/cleanup.js');
      await cleanupStage(ctx);
      return;
    }
  }
}

async function loadConfig(path: string): Promise<Parsed<DriverConfig>> {
  const { ConfigError, formatIssues, loadDriverConfig } = await import('@gitlab-fargate/config');
  try {
    return await loadDriverConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new SystemFailure(`invalid driver configuration:\n${formatIssues(error.issues)}`);
    }
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? ' (pass --config with an absolute path in each *_args of [runners.custom])' : '';
    throw new SystemFailure(`cannot read the driver configuration ${path}: ${messageOf(error)}${hint}`);
  }
}

async function validate(io: MainIo, path: string, say: (text: string) => void): Promise<number> {
  const { ConfigError, formatIssues, loadDriverConfig } = await import('@gitlab-fargate/config');
  try {
    const { warnings } = await loadDriverConfig(path);
    if (warnings.length > 0) io.stderr.write(`${formatIssues(warnings)}\n`);
    io.stdout.write(`${path}: valid\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${formatIssues(error.issues)}\n`);
      io.stdout.write(`${path}: invalid\n`);
    } else {
      say(`cannot read ${path}: ${messageOf(error)}`);
    }
    return 1;
  }
}

function stageLogger(io: MainIo, flags: GlobalFlags, config: DriverConfig, command: Command): Logger {
  const level = flags.debug ? 'debug' : (flags.logLevel ?? parseLogLevel(config.logLevel) ?? 'info');
  const format = flags.logFormat ?? parseLogFormat(config.logFormat) ?? 'text';
  const file = flags.logFile ?? config.logFile;
  const stderrSink = io.logSinks?.stderr ?? fdSink(io.stderrFd);
  let sink: LogSink = stderrSink;
  if (file !== undefined) {
    try {
      sink = fileSink(resolve(io.cwd, file));
    } catch (error) {
      throw new SystemFailure(`cannot open the log file ${file}: ${messageOf(error)}`);
    }
  }
  const stage = command.kind === 'stage' ? command.stage : command.kind;
  // prepare's stdout is the job log; config's stdout is reserved for its JSON; run's stdout is the script's.
  const progress = stage === 'prepare' || stage === 'gc' ? (io.logSinks?.stdout ?? fdSink(io.stdoutFd)) : stderrSink;
  return createLogger({
    level,
    format,
    sink,
    progress,
    fields: { command: command.kind === 'stage' ? `${command.stage}_exec` : command.kind },
  });
}
