import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuildFailure, Cancelled, OverrideRefused, SystemFailure, UsageError } from './errors.js';
import { type FailedCommand, failureExitCode } from './failure-exit-code.js';
import { readJobEnvironment } from './job/environment.js';
import { createLogger, memorySink } from './log.js';

const codes = { build: 11, system: 12 };

/** A failed command as a stage sees it: env read, log open (debug, JSON); what it said and logged, collected. */
function failedStage(options: { env?: Record<string, string>; signal?: AbortSignal; otherFailureCode?: number; withEnv?: boolean } = {}) {
  const said: string[] = [];
  const sink = memorySink();
  const log = createLogger({ level: 'debug', format: 'json', sink, progress: memorySink() });
  const failed: FailedCommand = {
    codes,
    otherFailureCode: options.otherFailureCode ?? codes.system,
    signal: options.signal ?? new AbortController().signal,
    ...(options.withEnv === false ? {} : { env: readJobEnvironment(options.env ?? {}) }),
    log,
    say: (text) => said.push(text),
  };
  const records = (): Array<Record<string, unknown>> => sink.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { failed, said, records };
}

function exitCodeFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'driver-exit-')), 'exit-code');
}

describe('failureExitCode: the script failed', () => {
  it('is a build failure, with the script\'s own code as the first line of BUILD_EXIT_CODE_FILE', () => {
    const file = exitCodeFile();
    const { failed, said, records } = failedStage({ env: { BUILD_EXIT_CODE_FILE: file } });
    expect(failureExitCode(new BuildFailure(3), failed)).toBe(11);
    expect(readFileSync(file, 'utf8')).toBe('3\n');
    // The script's failure is the job author's business, not an error of the driver's.
    expect(said).toEqual([]);
    expect(records()).toEqual([expect.objectContaining({ level: 'info', msg: 'the script exited with code 3' })]);
  });

  it('is a build failure without a file to write when the runner names none', () => {
    const { failed, said } = failedStage();
    expect(failureExitCode(new BuildFailure(3), failed)).toBe(11);
    expect(said).toEqual([]);
  });

  it('is a system failure when BUILD_EXIT_CODE_FILE cannot be written, naming the file', () => {
    const file = join(exitCodeFile(), 'missing-dir', 'exit-code');
    const { failed, said } = failedStage({ env: { BUILD_EXIT_CODE_FILE: file } });
    expect(failureExitCode(new BuildFailure(3), failed)).toBe(12);
    expect(said).toEqual([expect.stringMatching(new RegExp(`^cannot write BUILD_EXIT_CODE_FILE ${file}: ENOENT`))]);
  });

  it('is not the script\'s failure before the job environment was read (and does not crash)', () => {
    const { failed, said } = failedStage({ withEnv: false });
    expect(failureExitCode(new BuildFailure(3), failed)).toBe(12);
    expect(said).toEqual(['internal error: the script exited with code 3']);
  });
});

describe('failureExitCode: anything else failed', () => {
  it('a system failure: its code, its message on stderr as it is, an error record naming its kind', () => {
    const file = exitCodeFile();
    const { failed, said, records } = failedStage({ env: { BUILD_EXIT_CODE_FILE: file } });
    expect(failureExitCode(new SystemFailure('ECS said no'), failed)).toBe(12);
    expect(said).toEqual(['ECS said no']);
    expect(records()).toEqual([expect.objectContaining({ level: 'error', msg: 'ECS said no', error: 'SystemFailure' })]);
    expect(existsSync(file)).toBe(false);
  });

  it('its subclasses alike: a usage error, a refused override', () => {
    for (const error of [new UsageError('custom run: missing SCRIPT'), new OverrideRefused('FARGATE_CPU', 'too much')]) {
      const { failed, said, records } = failedStage();
      expect(failureExitCode(error, failed)).toBe(12);
      expect(said).toEqual([error.message]);
      expect(records()[0]).toMatchObject({ error: error.name });
    }
  });

  it('any other error is a bug: "internal error:" on stderr and its stack in the debug log', () => {
    const { failed, said, records } = failedStage();
    const bug = new TypeError('cannot read properties of undefined');
    expect(failureExitCode(bug, failed)).toBe(12);
    expect(said).toEqual(['internal error: cannot read properties of undefined']);
    expect(records()).toEqual([
      expect.objectContaining({ level: 'error', msg: 'cannot read properties of undefined', error: 'TypeError' }),
      expect.objectContaining({ level: 'debug', msg: bug.stack }),
    ]);
  });

  it('a thrown value that is no error at all: said as it is, its type in the record', () => {
    const { failed, said, records } = failedStage();
    expect(failureExitCode('boom', failed)).toBe(12);
    expect(said).toEqual(['internal error: boom']);
    expect(records()).toEqual([expect.objectContaining({ level: 'error', msg: 'boom', error: 'string' })]);
    expect(failureExitCode(undefined, failedStage().failed)).toBe(12);
  });

  it('uses the command\'s own code for it (gc: 1), and for a script failure before any environment', () => {
    expect(failureExitCode(new SystemFailure('no'), failedStage({ otherFailureCode: 1 }).failed)).toBe(1);
    expect(failureExitCode(new BuildFailure(3), failedStage({ otherFailureCode: 1, withEnv: false }).failed)).toBe(1);
  });

  it('reports without a log when none is open yet (the config could not be read)', () => {
    const said: string[] = [];
    const failed: FailedCommand = { codes, otherFailureCode: 12, signal: new AbortController().signal, say: (text) => said.push(text) };
    expect(failureExitCode(new Error('bug'), failed)).toBe(12);
    expect(failureExitCode(new BuildFailure(3), { ...failed, env: readJobEnvironment({}) })).toBe(11);
    expect(said).toEqual(['internal error: bug']);
  });
});

describe('failureExitCode: a cancel', () => {
  const abortError = (): Error => Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
  const cancelled = (): AbortSignal => {
    const controller = new AbortController();
    controller.abort(new Cancelled('SIGTERM'));
    return controller.signal;
  };

  it('an AbortError after the cancel is the cancel: a system failure that says so', () => {
    const { failed, said, records } = failedStage({ signal: cancelled() });
    expect(failureExitCode(abortError(), failed)).toBe(12);
    expect(said).toEqual(['cancelled by SIGTERM (the job was cancelled or timed out)']);
    expect(records()).toEqual([expect.objectContaining({ level: 'error', error: 'Cancelled' })]);
  });

  it('an AbortError from a DOM-style abort (no Error subclass) is the cancel too', () => {
    const { failed, said } = failedStage({ signal: cancelled() });
    expect(failureExitCode(new DOMException('This operation was aborted', 'AbortError'), failed)).toBe(12);
    expect(said).toEqual(['cancelled by SIGTERM (the job was cancelled or timed out)']);
  });

  it('a thrown nothing after the cancel is no AbortError: reported as it is', () => {
    const { failed, said } = failedStage({ signal: cancelled() });
    expect(failureExitCode(undefined, failed)).toBe(12);
    expect(said).toEqual(['internal error: undefined']);
  });

  it('an AbortError with no cancel is a bug of ours', () => {
    const { failed, said } = failedStage();
    expect(failureExitCode(abortError(), failed)).toBe(12);
    expect(said).toEqual(['internal error: The operation was aborted']);
  });

  it('after a cancel, any other failure is reported as itself, and a script failure still as the script\'s', () => {
    const { failed, said } = failedStage({ signal: cancelled() });
    expect(failureExitCode(new SystemFailure('SSH connection lost'), failed)).toBe(12);
    expect(said).toEqual(['SSH connection lost']);
    expect(failureExitCode(new BuildFailure(143), failedStage({ signal: cancelled() }).failed)).toBe(11);
  });
});
