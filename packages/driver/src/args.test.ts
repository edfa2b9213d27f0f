import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';
import { UsageError } from './errors.js';

describe('parseArgs', () => {
  it('reads the upstream grammar: global flags, then custom <stage>', () => {
    expect(parseArgs(['--config', '/etc/gitlab-runner/fargate.toml', 'custom', 'prepare'])).toEqual({
      flags: { config: '/etc/gitlab-runner/fargate.toml', configGiven: true, debug: false },
      command: { kind: 'stage', stage: 'prepare' },
    });
    expect(parseArgs(['custom', 'run', '/tmp/custom-executor1/script1/script.', 'build_script']).command).toEqual({
      kind: 'stage',
      stage: 'run',
      script: '/tmp/custom-executor1/script1/script.',
      runStage: 'build_script',
    });
  });

  it('accepts the upstream aliases c, co, p, r, cl', () => {
    expect(parseArgs(['c', 'co']).command).toEqual({ kind: 'stage', stage: 'config' });
    expect(parseArgs(['c', 'p']).command).toEqual({ kind: 'stage', stage: 'prepare' });
    expect(parseArgs(['c', 'r', 's', 'x']).command).toMatchObject({ stage: 'run' });
    expect(parseArgs(['c', 'cl']).command).toEqual({ kind: 'stage', stage: 'cleanup' });
  });

  it('accepts any run stage name, including ones the runner adds later', () => {
    for (const stage of ['clear_worktree', 'step_release', 'cleanup_file_variables', 'some_future_stage']) {
      expect(parseArgs(['custom', 'run', 'script', stage]).command).toMatchObject({ runStage: stage });
    }
  });

  it('reads every global flag, as --flag value or --flag=value, before or after the words', () => {
    const { flags } = parseArgs([
      '--debug',
      '--log-level=warning',
      '--log-format',
      'json',
      '--log-file',
      '/var/log/driver.log',
      'custom',
      '--task-def=ci-job:4',
      'config',
      '--platform-version',
      '1.4.0',
    ]);
    expect(flags).toEqual({
      config: 'config.toml',
      configGiven: false,
      debug: true,
      logLevel: 'warn',
      logFormat: 'json',
      logFile: '/var/log/driver.log',
      taskDefinition: 'ci-job:4',
      platformVersion: '1.4.0',
    });
    expect(parseArgs(['--log-format', 'text-simple', 'c', 'co']).flags.logFormat).toBe('text');
    expect(parseArgs(['--log-level', 'panic', 'c', 'co']).flags.logLevel).toBe('error');
  });

  it('reads the extra verbs', () => {
    expect(parseArgs(['--version']).command).toEqual({ kind: 'version' });
    expect(parseArgs(['--help']).command).toEqual({ kind: 'help', topic: 'main' });
    expect(() => parseArgs([])).toThrow(/missing command/);
    expect(parseArgs(['custom', 'run', '--help']).command).toEqual({ kind: 'help', topic: 'run' });
    expect(parseArgs(['custom', '-h']).command).toEqual({ kind: 'help', topic: 'custom' });
    expect(parseArgs(['gc', '--help']).command).toEqual({ kind: 'help', topic: 'gc' });
    expect(parseArgs(['help', 'cl']).command).toEqual({ kind: 'help', topic: 'cleanup' });
    expect(parseArgs(['validate', 'x.toml']).command).toEqual({ kind: 'validate', path: 'x.toml' });
    expect(parseArgs(['validate']).command).toEqual({ kind: 'validate' });
    expect(parseArgs(['gc']).command).toEqual({ kind: 'gc', dryRun: false, withoutState: false });
    expect(parseArgs(['gc', '--dry-run', '--min-age', '30']).command).toEqual({ kind: 'gc', dryRun: true, withoutState: false, minAgeSeconds: 30 });
    expect(parseArgs(['gc', '--without-state', '--min-age=90000']).command).toEqual({ kind: 'gc', dryRun: false, withoutState: true, minAgeSeconds: 90000 });
  });

  it('refuses what it does not understand, naming the word', () => {
    const cases: [string[], RegExp][] = [
      [['custom', 'run', 'script'], /custom run: missing required arguments: SCRIPT STAGE/],
      [['custom', 'run', 'a', 'b', 'c'], /unexpected argument "c"/],
      [['custom', 'deploy'], /unknown stage command "deploy"/],
      [['custom'], /missing stage/],
      [['custom', 'config', 'extra'], /custom config: unexpected argument "extra"/],
      [['--config'], /--config needs a value/],
      [['--log-level', 'loud', 'c', 'co'], /--log-level: unknown level "loud"/],
      [['--log-format', 'xml', 'c', 'co'], /--log-format: unknown format "xml"/],
      [['--frobnicate', 'c', 'co'], /unknown option --frobnicate/],
      [['--task-def', '', 'c', 'p'], /--task-def must not be empty/],
      [['gc', '--min-age', '1h'], /--min-age: expected whole seconds, found "1h"/],
      [['gc', '--without-state'], /gc --without-state needs --min-age SECONDS/],
      [['launch'], /unknown command "launch"/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseArgs(argv), argv.join(' ')).toThrow(UsageError);
      expect(() => parseArgs(argv), argv.join(' ')).toThrow(message);
    }
  });
});
