import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from './cli-args.js';

const base = ['run', '--config', 'config.toml', '--job', 'job.yml'];

describe('parseCommandLine', () => {
  it('reads a run with every option', () => {
    expect(
      parseCommandLine([
        ...base, '--runner', 'dev', '--var', 'A=1', '--var', 'B=x=y', '--job-id', '42', '--pipeline-id', '7', '--concurrent-id', '3',
        '--project', 'g/p', '--prepare-retry-interval', '0.5', '--prepare-timeout', '5m', '--script-shape', '19.0', '--result-json', 'r.json',
      ]),
    ).toEqual({
      kind: 'run',
      configPath: 'config.toml',
      jobPath: 'job.yml',
      runnerName: 'dev',
      extraVariables: { A: '1', B: 'x=y' },
      identity: { jobId: 42, pipelineId: 7, concurrentId: 3, projectPath: 'g/p' },
      prepareRetryIntervalMs: 500,
      prepareTimeoutSeconds: 300,
      scriptShape: '19.0',
      resultJson: 'r.json',
    });
  });

  it('defaults to gitlab-runner 19.1 scripts and 3 s between prepare attempts', () => {
    expect(parseCommandLine(base)).toEqual({
      kind: 'run', configPath: 'config.toml', jobPath: 'job.yml', extraVariables: {}, identity: {}, prepareRetryIntervalMs: 3000,
    });
  });

  it('answers --help and --version before checking anything else', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--version', 'nonsense'])).toEqual({ kind: 'version' });
  });

  it.each([
    [[], 'missing command: use "run"'],
    [['start'], 'unknown command "start": use "run"'],
    [['run', '--job', 'j'], '--config FILE is required'],
    [['run', '--config', 'c'], '--job FILE is required'],
    [[...base, '--var', '1A=x'], '--var must be KEY=VALUE with a valid variable name (got "1A=x")'],
    [[...base, '--var', '=x'], '--var must be KEY=VALUE'],
    [[...base, '--job-id', '4.2'], '--job-id must be a whole number (got "4.2")'],
    [[...base, '--prepare-retry-interval=-1'], '--prepare-retry-interval must be a number of seconds (got "-1")'],
    [[...base, '--prepare-timeout', 'soon'], '--prepare-timeout must be a duration such as 90 or 5m (got "soon")'],
    [[...base, '--script-shape', '18'], '--script-shape must be 19.1 or 19.0 (got "18")'],
  ])('refuses %j with a message naming the flag', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(UsageError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});
