import { closeSync, constants, fstatSync, lstatSync, openSync, renameSync, writeSync } from 'node:fs';
import type { LogFormat as ConfigLogFormat, LogLevel as ConfigLogLevel } from '@gitlab-fargate/config';

/**
 * Severity of a structured log record, lowest first. The setting that chooses it is the config package's
 * `LogLevel` (upstream's logrus names), which {@link parseLogLevel} maps onto these four.
 */
export type LogSeverity = 'debug' | 'info' | 'warn' | 'error';

/**
 * How structured records are written: `text` (one `key=value` line) or `json` (one object a line). The setting is
 * the config package's `LogFormat`, which {@link parseLogFormat} maps onto these two.
 */
export type LogOutputFormat = 'text' | 'json';

/** Extra data on a record. Values are rendered with `String()` (text) or as JSON. */
export type LogFields = Record<string, string | number | boolean | undefined | null>;

const LEVEL_ORDER: Record<LogSeverity, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Upstream (logrus) level names the driver accepts, mapped to ours: every one the config accepts, and `warn`. */
const LEVEL_ALIASES: Record<ConfigLogLevel | 'warn', LogSeverity> = {
  debug: 'debug',
  trace: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'error',
  panic: 'error',
};

/** Parses a log level as upstream spells it (`debug, info, warning, error, fatal, panic`); `undefined` if unknown. */
export function parseLogLevel(value: string): LogSeverity | undefined {
  const name = value.trim().toLowerCase();
  return Object.hasOwn(LEVEL_ALIASES, name) ? LEVEL_ALIASES[name as keyof typeof LEVEL_ALIASES] : undefined;
}

/** Upstream's log format names, every one the config accepts, mapped to ours. */
const FORMAT_ALIASES: Record<ConfigLogFormat, LogOutputFormat> = { json: 'json', text: 'text', 'text-simple': 'text' };

/** Parses a log format; upstream's `text-simple` is accepted as `text`. `undefined` if unknown. */
export function parseLogFormat(value: string): LogOutputFormat | undefined {
  const name = value.trim().toLowerCase();
  return Object.hasOwn(FORMAT_ALIASES, name) ? FORMAT_ALIASES[name as ConfigLogFormat] : undefined;
}

/** Where log output goes: a file descriptor written synchronously, so nothing is lost when the process exits. */
export interface LogSink {
  write(line: string): void;
  close?(): void;
}

/** Synchronous sink on a file descriptor (stderr is 2). */
export function fdSink(fd: number): LogSink {
  return {
    write: (line) => {
      try {
        writeSync(fd, line);
      } catch {
        // A closed stderr must not turn a finished stage into a crash.
      }
    },
  };
}

/**
 * A `LogFile` over this size when a stage opens it is first renamed to `<file>.1` (replacing an older one). A runner
 * manager runs for months and every stage of every job appends to the same file, which nothing else trims; 64 MiB
 * holds days of records and one generation more, and a check at open costs one `fstat`. Followers that go by name
 * (`tail -F`, as the manager image relays the file) pick up the new file.
 */
export const LOG_FILE_ROTATE_BYTES = 64 * 1024 * 1024;

/**
 * Appends to a file, created with mode 0600 (logs can name hosts and tasks). Never follows a symbolic link (whoever
 * could plant one would have the driver append to, or create, a file of their choosing) and writes only to a
 * regular file. Over {@link LOG_FILE_ROTATE_BYTES} at open, it is rotated first (see {@link rotateLogFile}).
 */
export function fileSink(path: string): LogSink {
  let fd = openLogFile(path);
  if (fstatSync(fd).size > LOG_FILE_ROTATE_BYTES) {
    let rotation: boolean | Error;
    try {
      rotation = rotateLogFile(path, fd);
    } catch (error) {
      rotation = error as Error;
    }
    if (rotation instanceof Error) {
      // Logging must never fail a stage (a failed cleanup would leak its task): keep appending, and say why once.
      writeSync(fd, `gitlab-fargate-driver: cannot rotate ${path} to ${path}.1 (${rotation.message}); still appending: let the runner's user rename files in its folder\n`);
    } else {
      // Rotated by us or by a concurrent stage: either way the name now holds a newer file, which is the one to append to.
      closeSync(fd);
      fd = openLogFile(path);
    }
  }
  return { write: (line) => writeSync(fd, line), close: () => closeSync(fd) };
}

/** Opens `path` for appending with {@link fileSink}'s checks; returns the descriptor. */
function openLogFile(path: string): number {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not hang the stage (it is then refused as not a regular file).
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOOP') throw error;
    throw new Error(`${path} is a symbolic link, which the driver never follows: name the file itself`, { cause: error });
  }
  const stat = fstatSync(fd);
  const problem = !stat.isFile()
    ? 'is not a regular file'
    : stat.uid !== process.geteuid?.()
      ? `belongs to uid ${stat.uid}, not to this user (uid ${process.geteuid?.()}): whoever owns it can read the log and forge records in it; remove it or chown it`
      : (stat.mode & 0o077) !== 0
        ? `has mode ${(stat.mode & 0o777).toString(8)}, readable or writable by others: chmod 600 it`
        : undefined;
  if (problem !== undefined) {
    closeSync(fd);
    throw new Error(`${path} ${problem}`);
  }
  return fd;
}

/**
 * Renames `path` to `<path>.1` when `path` still names the file open on `fd`; `false` when it does not (or no
 * longer exists) because a concurrent stage rotated it first. Stages run as separate processes, so several can find
 * the file too big at once: the first renames it, the others see another file (or none) under the name and leave it
 * alone, so none renames the fresh file over the rotated one. A stage that renames between another's check and its
 * rename can still rotate twice (the fresh file, a few lines, then replaces `<path>.1`): at worst one generation is
 * lost, never a line of the current file nor the stage's own output.
 */
export function rotateLogFile(path: string, fd: number): boolean {
  const open = fstatSync(fd);
  try {
    const named = lstatSync(path);
    if (named.ino !== open.ino || named.dev !== open.dev) return false;
    renameSync(path, `${path}.1`);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Collects lines in memory: for tests and for callers that decide later where output goes. */
export function memorySink(): LogSink & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line) => lines.push(line) };
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** @default 'info' */
  readonly level?: LogSeverity;
  /** @default 'text' */
  readonly format?: LogOutputFormat;
  /** Structured records. @default stderr */
  readonly sink?: LogSink;
  /** Human progress lines for the job log. @default stderr */
  readonly progress?: LogSink;
  /** Fields on every record, e.g. `{ command: 'prepare_exec' }`. */
  readonly fields?: LogFields;
  /** Clock, injectable for tests. @default Date.now */
  readonly now?: () => number;
}

/**
 * Structured diagnostics plus short progress lines for a person reading the job log. Values registered with
 * {@link Logger.addSecret} and anything that looks like a private key are masked in both.
 */
export interface Logger {
  readonly level: LogSeverity;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** One line for the job log (e.g. `Task …/abc is RUNNING after 12.3 s`); also a debug record. */
  progress(message: string, fields?: LogFields): void;
  /**
   * A machine-readable document (the job's metrics, in CloudWatch's embedded metric format) as one JSON line on the
   * structured log, whatever the level and format: CloudWatch and `report` read it as it is.
   */
  document(value: Readonly<Record<string, unknown>>): void;
  /** A logger that adds `fields` to every record. */
  child(fields: LogFields): Logger;
  /** Never print this value (job tokens, private keys); ignored when shorter than 6 characters. */
  addSecret(value: string | undefined): void;
  close(): void;
}

const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;
const MASK = '[MASKED]';

/** Creates a logger; see {@link LoggerOptions} for defaults. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const shared = {
    secrets: new Set<string>(),
    sink: options.sink ?? fdSink(2),
    progress: options.progress ?? fdSink(2),
    format: options.format ?? 'text',
    level: options.level ?? 'info',
    now: options.now ?? Date.now,
  };

  const mask = (text: string): string => {
    let out = text.replace(PRIVATE_KEY_BLOCK, MASK);
    for (const secret of shared.secrets) {
      out = out.split(secret).join(MASK);
    }
    return out;
  };

  const make = (base: LogFields): Logger => {
    const record = (level: LogSeverity, message: string, fields?: LogFields): void => {
      if (LEVEL_ORDER[level] < LEVEL_ORDER[shared.level]) return;
      const all: LogFields = { ...base, ...fields };
      const time = new Date(shared.now()).toISOString();
      let line: string;
      if (shared.format === 'json') {
        const entries = Object.entries(all).filter(([, v]) => v !== undefined);
        line = JSON.stringify({ time, level, msg: message, ...Object.fromEntries(entries) });
      } else {
        const rendered = Object.entries(all)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${quote(String(v))}`)
          .join(' ');
        line = `${time} ${level.toUpperCase().padEnd(5)} ${message}${rendered ? ` ${rendered}` : ''}`;
      }
      shared.sink.write(`${mask(line)}\n`);
    };
    return {
      get level() {
        return shared.level;
      },
      debug: (m, f) => record('debug', m, f),
      info: (m, f) => record('info', m, f),
      warn: (m, f) => record('warn', m, f),
      error: (m, f) => record('error', m, f),
      progress: (m, f) => {
        shared.progress.write(`${mask(m)}\n`);
        // Progress already reached the person; the structured copy is for the log file at debug level.
        if (shared.sink !== shared.progress) record('debug', m, f);
      },
      document: (value) => shared.sink.write(`${mask(JSON.stringify(value))}\n`),
      child: (fields) => make({ ...base, ...fields }),
      addSecret: (value) => {
        if (value !== undefined && value.length >= 6) shared.secrets.add(value);
      },
      close: () => shared.sink.close?.(),
    };
  };
  return make(options.fields ?? {});
}

function quote(value: string): string {
  return /^[\w./:@+-]*$/.test(value) ? value : JSON.stringify(value);
}

/** Seconds since `start` with one decimal, for progress lines. */
export function elapsedSeconds(start: number, now: number = Date.now()): string {
  return ((now - start) / 1000).toFixed(1);
}
