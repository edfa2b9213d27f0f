import { UsageError } from './errors.js';
import { type LogOutputFormat, type LogSeverity, parseLogFormat, parseLogLevel } from './log.js';

/** Flags accepted before or between the words of any command (upstream's global flags plus ours). */
export interface GlobalFlags {
  /** Driver TOML. @default "config.toml" (upstream's default, relative to the working directory) */
  readonly config: string;
  /** Whether `--config` was given (validate and gc can then say which file they read). */
  readonly configGiven: boolean;
  /** `--debug`: log level debug, whatever else says. */
  readonly debug: boolean;
  readonly logLevel?: LogSeverity;
  readonly logFormat?: LogOutputFormat;
  readonly logFile?: string;
  /** `--task-def`: replaces `[Fargate] TaskDefinition` (an administrator's choice, not subject to the override policy). */
  readonly taskDefinition?: string;
  /** `--platform-version`: replaces `[Fargate] PlatformVersion`. */
  readonly platformVersion?: string;
}

/** The four custom-executor stages. */
export type StageName = 'config' | 'prepare' | 'run' | 'cleanup';

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'help'; readonly topic: HelpTopic }
  | { readonly kind: 'version' }
  | { readonly kind: 'stage'; readonly stage: 'config' | 'prepare' | 'cleanup' }
  | { readonly kind: 'stage'; readonly stage: 'run'; readonly script: string; readonly runStage: string }
  | { readonly kind: 'validate'; readonly path?: string }
  | {
      readonly kind: 'gc';
      readonly dryRun: boolean;
      readonly minAgeSeconds?: number;
      /** `--without-state`: ignore `[TaskMetadata] Directory`, judge tasks by deadline tag and age (the reaper). */
      readonly withoutState: boolean;
    }
  | { readonly kind: 'report'; readonly since?: Date; readonly until?: Date; readonly json: boolean; readonly file?: string };

/** Which `--help` text to show. */
export type HelpTopic = 'main' | 'custom' | StageName | 'validate' | 'gc' | 'report';

/** A parsed command line. */
export interface ParsedArgs {
  readonly flags: GlobalFlags;
  readonly command: Command;
}

const STAGE_ALIASES: Record<string, StageName> = {
  config: 'config',
  co: 'config',
  prepare: 'prepare',
  p: 'prepare',
  run: 'run',
  r: 'run',
  cleanup: 'cleanup',
  cl: 'cleanup',
};


/**
 * Parses the driver's command line (without `node` and the script). Upstream-compatible:
 * `[--config PATH] [--debug] [--log-level L] [--log-format F] [--log-file F] [--task-def X] [--platform-version Y]
 * custom <config|prepare|run SCRIPT STAGE|cleanup>` with aliases `c co p r cl`; flags may also follow the words,
 * as `--flag value` or `--flag=value`. Any STAGE name is accepted (the runner adds new ones over time).
 *
 * @throws UsageError for anything else, naming the offending word
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const read: OptionsRead = {
    flags: { config: 'config.toml', configGiven: false, debug: false },
    command: { help: false, version: false, dryRun: false, withoutState: false, report: { json: false } },
  };
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      words.push(token);
      continue;
    }
    i = readOption(argv, i, read);
  }
  return { flags: read.flags, command: toCommand(words, read.command) };
}

/** The options that shape the command rather than the global flags; {@link toCommand} checks them against it. */
interface CommandOptions {
  help: boolean;
  version: boolean;
  dryRun: boolean;
  withoutState: boolean;
  minAgeSeconds?: number;
  report: { since?: Date; until?: Date; json: boolean };
}

/** Everything the options said so far. */
interface OptionsRead {
  readonly flags: { -readonly [K in keyof GlobalFlags]: GlobalFlags[K] };
  readonly command: CommandOptions;
}

/** Applies one option to `read`; `value()` takes the option's value (after `=`, else the next word). */
type OptionReader = (read: OptionsRead, value: () => string, name: string) => void;

const OPTION_READERS: ReadonlyMap<string, OptionReader> = new Map<string, OptionReader>([
  ['--help', (read) => (read.command.help = true)],
  ['-h', (read) => (read.command.help = true)],
  ['--version', (read) => (read.command.version = true)],
  ['-v', (read) => (read.command.version = true)],
  ['--debug', (read) => (read.flags.debug = true)],
  ['--config', (read, value) => {
    read.flags.config = value();
    read.flags.configGiven = true;
  }],
  ['--log-level', (read, value) => (read.flags.logLevel = logLevelOption(value()))],
  ['--log-format', (read, value) => (read.flags.logFormat = logFormatOption(value()))],
  ['--log-file', (read, value) => (read.flags.logFile = value())],
  ['--task-def', (read, value, name) => (read.flags.taskDefinition = nonEmpty(name, value()))],
  ['--platform-version', (read, value, name) => (read.flags.platformVersion = nonEmpty(name, value()))],
  ['--dry-run', (read) => (read.command.dryRun = true)],
  ['--without-state', (read) => (read.command.withoutState = true)],
  ['--min-age', (read, value) => (read.command.minAgeSeconds = wholeSeconds(value()))],
  ['--since', (read, value, name) => (read.command.report.since = isoTime(name, value()))],
  ['--until', (read, value, name) => (read.command.report.until = isoTime(name, value()))],
  ['--json', (read) => (read.command.report.json = true)],
]);

/**
 * Reads the option at `argv[index]` (`--name`, `--name=value` or `--name value`) into `read`.
 *
 * @returns the index of the last word it used
 */
function readOption(argv: readonly string[], index: number, read: OptionsRead): number {
  const token = argv[index] as string;
  const eq = token.indexOf('=');
  const name = eq === -1 ? token : token.slice(0, eq);
  const inline = eq === -1 ? undefined : token.slice(eq + 1);
  let last = index;
  const value = (): string => {
    if (inline !== undefined) return inline;
    const next = argv[index + 1];
    if (next === undefined) throw new UsageError(`${name} needs a value`);
    last = index + 1;
    return next;
  };
  const reader = OPTION_READERS.get(name);
  if (reader === undefined) throw new UsageError(`unknown option ${name}`);
  reader(read, value, name);
  return last;
}

function logLevelOption(raw: string): LogSeverity {
  const level = parseLogLevel(raw);
  if (level === undefined) {
    throw new UsageError(`--log-level: unknown level ${JSON.stringify(raw)} (use debug, info, warning, error, fatal or panic)`);
  }
  return level;
}

function logFormatOption(raw: string): LogOutputFormat {
  const format = parseLogFormat(raw);
  if (format === undefined) throw new UsageError(`--log-format: unknown format ${JSON.stringify(raw)} (use text or json)`);
  return format;
}

function wholeSeconds(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`--min-age: expected whole seconds, found ${JSON.stringify(raw)}`);
  return Number(raw);
}

function nonEmpty(name: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`${name} must not be empty`);
  return value;
}

/** `--since`/`--until`: an ISO 8601 date or time; a time without a zone is UTC, so reports agree across machines. */
function isoTime(name: string, raw: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;
  const zoned = /T.*(Z|[+-]\d{2}:\d{2})$/.test(raw) || !raw.includes('T') ? raw : `${raw}Z`;
  const time = iso.test(raw) ? new Date(zoned) : undefined;
  if (time === undefined || Number.isNaN(time.getTime())) {
    throw new UsageError(`${name}: expected an ISO 8601 date or time such as 2026-12-01 or 2026-12-01T08:00:00Z, found ${JSON.stringify(raw)}`);
  }
  return time;
}

function toCommand(words: readonly string[], opts: CommandOptions): Command {
  const [verb, ...rest] = words;
  if (verb === undefined) {
    if (opts.version) return { kind: 'version' };
    if (opts.help) return { kind: 'help', topic: 'main' };
    throw new UsageError('missing command: expected custom, validate, gc or report');
  }
  switch (verb) {
    case 'custom':
    case 'c': {
      const [stageWord, ...args] = rest;
      if (stageWord === undefined) {
        if (opts.help) return { kind: 'help', topic: 'custom' };
        throw new UsageError('custom: missing stage: expected config, prepare, run SCRIPT STAGE or cleanup');
      }
      const stage = STAGE_ALIASES[stageWord];
      if (stage === undefined) {
        throw new UsageError(`custom: unknown stage command ${JSON.stringify(stageWord)}: expected config (co), prepare (p), run (r) or cleanup (cl)`);
      }
      if (opts.help) return { kind: 'help', topic: stage };
      if (stage === 'run') {
        const [script, runStage, ...extra] = args;
        if (script === undefined || runStage === undefined) {
          throw new UsageError('custom run: missing required arguments: SCRIPT STAGE');
        }
        if (extra.length > 0) throw new UsageError(`custom run: unexpected argument ${JSON.stringify(extra[0])}`);
        return { kind: 'stage', stage, script, runStage };
      }
      if (args.length > 0) throw new UsageError(`custom ${stage}: unexpected argument ${JSON.stringify(args[0])}`);
      return { kind: 'stage', stage };
    }
    case 'validate': {
      if (opts.help) return { kind: 'help', topic: 'validate' };
      if (rest.length > 1) throw new UsageError(`validate: unexpected argument ${JSON.stringify(rest[1])}`);
      return rest[0] === undefined ? { kind: 'validate' } : { kind: 'validate', path: rest[0] };
    }
    case 'gc':
      return gcCommand(rest, opts);
    case 'report': {
      if (opts.help) return { kind: 'help', topic: 'report' };
      if (rest.length > 1) throw new UsageError(`report: unexpected argument ${JSON.stringify(rest[1])} (one FILE, or - for standard input)`);
      const { since, until } = opts.report;
      if (since !== undefined && until !== undefined && since >= until) {
        throw new UsageError(`report: --since ${since.toISOString()} is not before --until ${until.toISOString()}`);
      }
      return { kind: 'report', ...opts.report, ...(rest[0] !== undefined ? { file: rest[0] } : {}) };
    }
    case 'help':
      return { kind: 'help', topic: helpTopic(rest[0]) };
    default:
      throw new UsageError(`unknown command ${JSON.stringify(verb)}: expected custom, validate, gc or report`);
  }
}

function gcCommand(
  rest: readonly string[], opts: { help: boolean; dryRun: boolean; withoutState: boolean; minAgeSeconds?: number },
): Command {
  if (opts.help) return { kind: 'help', topic: 'gc' };
  if (rest.length > 0) throw new UsageError(`gc: unexpected argument ${JSON.stringify(rest[0])}`);
  const { dryRun, withoutState, minAgeSeconds } = opts;
  if (withoutState && minAgeSeconds === undefined) {
    throw new UsageError(
      'gc --without-state needs --min-age SECONDS: without the job states, a task that has no deadline tag is stopped by ' +
        'its age alone, so pass an age longer than the longest job (e.g. --min-age 90000)',
    );
  }
  return { kind: 'gc', dryRun, withoutState, ...(minAgeSeconds !== undefined ? { minAgeSeconds } : {}) };
}

function helpTopic(word: string | undefined): HelpTopic {
  if (word === undefined) return 'main';
  if (word === 'custom' || word === 'c') return 'custom';
  if (word === 'validate' || word === 'gc' || word === 'report') return word;
  return STAGE_ALIASES[word] ?? 'main';
}
