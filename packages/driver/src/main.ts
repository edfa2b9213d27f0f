import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { ConfigIssue, DriverConfig, Parsed } from '@gitlab-fargate/config';
import { type Command, type GlobalFlags, type ParsedArgs, parseArgs } from './args.js';
import { BuildFailure, SystemFailure, UsageError, messageOf } from './errors.js';
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

  if (io.argv[0] === MUX_COMMAND) {
    const [{ runMultiplexerProcess }, { readState }] = await Promise.all([import('./ssh/mux/main.js'), import('./job/state.js')]);
    return runMultiplexerProcess(io.argv[1], readState);
  }

  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(io.argv);
  } catch (error) {
    say(`${messageOf(error)} (see --help)`);
    return codes.system;
  }
  const { flags, command } = parsed;

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
    default:
      break;
  }

  const failureCode = command.kind === 'gc' ? 1 : codes.system;
  let log: Logger | undefined;
  let env: JobEnvironment | undefined;
  try {
    env = readJobEnvironment(io.env);
    const { config, warnings } = await loadConfig(resolve(io.cwd, flags.config));
    log = stageLogger(io, flags, config, command);
    log.addSecret(env.jobToken);
    // Where a task gets its identity (prepare) or is found by it (gc); not again in every run stage's job log.
    if (command.kind === 'gc' || (command.kind === 'stage' && command.stage === 'prepare')) env.warnings.forEach((w) => log?.warn(w));
    log.debug('starting', { version: driverVersion(), pid: process.pid });
    const ctx: StageContext = {
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
    await dispatch(command, ctx, warnings);
    return 0;
  } catch (caught) {
    // Whatever a cancel interrupted (an SDK call answers with its own AbortError), the stage failed because of
    // the cancel, and says so.
    const error = io.signal.aborted && (caught as Error | undefined)?.name === 'AbortError' ? io.signal.reason : caught;
    if (error instanceof BuildFailure && env !== undefined) {
      log?.info(error.message);
      return reportBuildFailure(error, env, codes, say);
    }
    const message = messageOf(error);
    log?.error(message, { error: error instanceof Error ? error.name : typeof error });
    // Whatever the log destination, the person reading the job log sees why the stage failed.
    say(error instanceof SystemFailure || error instanceof UsageError ? message : `internal error: ${message}`);
    if (!(error instanceof SystemFailure) && error instanceof Error && error.stack !== undefined) {
      log?.debug(error.stack);
    }
    return failureCode;
  } finally {
    log?.close();
  }
}

async function dispatch(command: Command, ctx: StageContext, warnings: readonly ConfigIssue[]): Promise<void> {
  // Stages load their modules on demand: `config` must not pay for ssh2, `run` must not pay for the AWS SDK.
  if (command.kind === 'gc') {
    const { gcStage } = await import('./stages/gc.js');
    const minAge = command.minAgeSeconds !== undefined ? { minAgeSeconds: command.minAgeSeconds } : {};
    await gcStage(ctx, { dryRun: command.dryRun, withoutState: command.withoutState, ...minAge });
    return;
  }
  if (command.kind !== 'stage') throw new Error(`unexpected command ${command.kind}`);
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

function reportBuildFailure(
  error: BuildFailure,
  env: JobEnvironment,
  codes: { build: number; system: number },
  say: (text: string) => void,
): number {
  if (env.buildExitCodeFile !== undefined) {
    try {
      // The runner parses the first line as the job's exit code (allow_failure: exit_codes relies on it).
      writeFileSync(env.buildExitCodeFile, `${error.exitCode}\n`);
    } catch (writeError) {
      say(`cannot write BUILD_EXIT_CODE_FILE ${env.buildExitCodeFile}: ${messageOf(writeError)}`);
      return codes.system;
    }
  }
  return codes.build;
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
  let sink: LogSink = fdSink(io.stderrFd);
  if (file !== undefined) {
    try {
      sink = fileSink(resolve(io.cwd, file));
    } catch (error) {
      throw new SystemFailure(`cannot open the log file ${file}: ${messageOf(error)}`);
    }
  }
  const stage = command.kind === 'stage' ? command.stage : command.kind;
  // prepare's stdout is the job log; config's stdout is reserved for its JSON; run's stdout is the script's.
  const progress = stage === 'prepare' || stage === 'gc' ? fdSink(io.stdoutFd) : fdSink(io.stderrFd);
  return createLogger({
    level,
    format,
    sink,
    progress,
    fields: { command: command.kind === 'stage' ? `${command.stage}_exec` : command.kind },
  });
}
