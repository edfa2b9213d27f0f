import { describe, expect, it } from 'vitest';
import { formatIssue } from '../errors.js';
import { allIssuesOf, fixture, issuesOf, unknownKeysAsWarnings } from '../test-support.js';
import { parseRunnerConfig } from './parse.js';
import { renderRunnerConfig } from './render.js';

const RUNNER = '[[runners]]\nurl = "https://gitlab.com/"\ntoken = "glrt-abc"\nexecutor = "custom"\nbuilds_dir = "/b"\ncache_dir = "/c"\n[runners.custom]\nrun_exec = "/d"\n';

describe('parseRunnerConfig', () => {
  it('reads the documented custom-executor config.toml', () => {
    const { config, warnings } = parseRunnerConfig(fixture('runner-custom-executor.toml'));
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({ concurrent: 10, checkInterval: 3, sessionServer: { sessionTimeout: 1800 } });
    const [runner] = config.runners;
    expect(runner).toMatchObject({
      name: 'fargate-runner',
      url: 'https://gitlab.com/',
      id: 12345,
      tokenKind: 'authentication',
      tokenObtainedAt: '2025-01-01T00:00:00.000Z',
      executor: 'custom',
      buildsDir: '/opt/gitlab-runner/builds',
      cacheDir: '/opt/gitlab-runner/cache',
    });
    expect(runner?.custom).toEqual({
      configExec: '/opt/gitlab-runner/fargate',
      configArgs: ['--config', '/etc/gitlab-runner/fargate.toml', 'custom', 'config'],
      configExecTimeout: 3600,
      prepareExec: '/opt/gitlab-runner/fargate',
      prepareArgs: ['--config', '/etc/gitlab-runner/fargate.toml', 'custom', 'prepare'],
      prepareExecTimeout: 3600,
      runExec: '/opt/gitlab-runner/fargate',
      runArgs: ['--config', '/etc/gitlab-runner/fargate.toml', 'custom', 'run'],
      cleanupExec: '/opt/gitlab-runner/fargate',
      cleanupArgs: ['--config', '/etc/gitlab-runner/fargate.toml', 'custom', 'cleanup'],
      cleanupExecTimeout: 3600,
      gracefulKillTimeout: 600,
      forceKillTimeout: 10,
    });
  });

  it('reads gitlab-runner\'s "0 or less means the default" for intervals and timeouts', () => {
    const { config } = parseRunnerConfig(`check_interval = 0\n${RUNNER}prepare_exec_timeout = -1\n`);
    expect(config.checkInterval).toBe(3);
    expect(config.runners[0]?.custom.prepareExecTimeout).toBe(3600);
  });

  it('reads prepare_timeout as gitlab-runner does: a Go duration, in seconds; absent when not set', () => {
    expect(parseRunnerConfig(`${RUNNER.replace('cache_dir', 'prepare_timeout = "1m30s"\ncache_dir')}`).config.runners[0]?.prepareTimeout).toBe(90);
    expect(parseRunnerConfig(RUNNER).config.runners[0]?.prepareTimeout).toBeUndefined();
  });

  it('writes prepare_timeout back as a Go duration that reads the same', () => {
    const { config } = parseRunnerConfig(RUNNER.replace('cache_dir', 'name = "r"\nprepare_timeout = "2m30s"\ncache_dir'));
    const rendered = renderRunnerConfig(config);
    expect(rendered).toContain('prepare_timeout = "150s"');
    expect(parseRunnerConfig(rendered).config.runners[0]?.prepareTimeout).toBe(150);
  });

  it('renders a runner without a name into a file it reads back', () => {
    const rendered = renderRunnerConfig(parseRunnerConfig(RUNNER).config);
    expect(parseRunnerConfig(rendered).config.runners[0]?.name).toBe('');
  });

  it('warns about a prepare_timeout gitlab-runner ignores, and refuses one it cannot read', () => {
    const zero = parseRunnerConfig(RUNNER.replace('cache_dir', 'prepare_timeout = "0s"\ncache_dir'), { file: 'c.toml' });
    expect(zero.config.runners[0]?.prepareTimeout).toBe(0);
    expect(zero.warnings.map(formatIssue)).toEqual(['c.toml:6:1: warning: runners[0].prepare_timeout: expected a duration greater than 0, found "0s"; gitlab-runner ignores it and uses the job timeout']);
    expect(issuesOf(() => parseRunnerConfig(RUNNER.replace('cache_dir', 'prepare_timeout = 300\ncache_dir'), { file: 'c.toml' }))).toEqual([
      'c.toml:6:1: error: runners[0].prepare_timeout: expected a Go duration string like "5m" or "1h30m", found 300 (an integer); write it with a unit, e.g. "300s" (gitlab-runner would read a bare number as nanoseconds)',
    ]);
    expect(issuesOf(() => parseRunnerConfig(RUNNER.replace('cache_dir', 'prepare_timeout = "5 minutes"\ncache_dir'), { file: 'c.toml' }))).toEqual([
      'c.toml:6:1: error: runners[0].prepare_timeout: expected a Go duration string like "5m" or "1h30m", found "5 minutes"; units are h, m, s, ms, us and ns',
    ]);
  });

  it('accepts the empty cache tables `gitlab-runner register` writes, and an S3 cache', () => {
    const empty = parseRunnerConfig(`connection_max_age = "15m0s"\n${RUNNER}[runners.custom_build_dir]\n[runners.cache]\nMaxUploadedArchiveSize = 0\n[runners.cache.s3]\n[runners.cache.gcs]\n[runners.cache.azure]\n`);
    expect(empty.config.connectionMaxAge).toBe('15m0s');
    expect(empty.config.runners[0]?.customBuildDir).toEqual({});
    expect(empty.config.runners[0]?.cache).toMatchObject({ maxUploadedArchiveSize: 0, shared: false, gcs: {}, azure: {} });
    expect(empty.config.runners[0]?.cache?.type).toBeUndefined();
    const s3 = parseRunnerConfig(`${RUNNER}[runners.cache]\nType = "s3"\nShared = true\n[runners.cache.s3]\nBucketName = "ci-cache"\nBucketLocation = "eu-west-1"\nAuthenticationType = "iam"\n`);
    expect(s3.config.runners[0]?.cache).toEqual({ type: 's3', shared: true, s3: { bucketName: 'ci-cache', bucketLocation: 'eu-west-1', authenticationType: 'iam', insecure: false } });
  });

  it.each([
    ['GR1348941zzzzzzzzzzzz', 'registration', 'found a registration token (GR1348941…); registration tokens only work with `gitlab-runner register` and are disabled by default since GitLab 17.0: create the runner in GitLab and use its glrt- token'],
    ['glrtr-zzzzzzzzzzzzzzzz', 'legacy-authentication', 'found a legacy runner token (glrtr-…); it comes from the deprecated registration-token workflow: create the runner in GitLab and use its glrt- token'],
    ['zzzzzzzzzzzzzzzzzzzz', 'legacy-authentication', 'found a token without the glrt- prefix; it comes from the deprecated registration-token workflow: create the runner in GitLab and use its glrt- token'],
  ])('warns about the legacy token %s without showing it', (token, kind, found) => {
    const { config, warnings } = parseRunnerConfig(RUNNER.replace('glrt-abc', token), { file: 'c.toml' });
    expect(config.runners[0]?.tokenKind).toBe(kind);
    expect(warnings.map(formatIssue)).toEqual([`c.toml:3:1: warning: runners[0].token: expected a runner authentication token (glrt-…), ${found}`]);
    expect(JSON.stringify(warnings)).not.toContain(token.slice(9));
  });

  it('never shows a malformed environment entry, which may be a secret; names a clear variable name only', () => {
    const entries = ['glpat-Secret0123456789abcdef', 'MY-VAR=hunter2-Secret', ' PASSWORD =Secret-p4ss', 'c2Vj+cmV0/Secret==', '9LIVES=Secret-x', 'OK=fine'];
    const text = RUNNER.replace('cache_dir = "/c"\n', `cache_dir = "/c"\nenvironment = [${entries.map((entry) => JSON.stringify(entry)).join(', ')}, 42]\n`);
    const issues = issuesOf(() => parseRunnerConfig(text, { file: 'c.toml' }));
    const expected = 'expected a "KEY=value" string (KEY of letters, digits and _, not starting with a digit)';
    expect(issues).toEqual([
      `c.toml:7:16: error: runners[0].environment[0]: ${expected}, found a string of 28 characters without "=" (not shown, as it may be a secret)`,
      `c.toml:7:48: error: runners[0].environment[1]: ${expected}, found the name "MY-VAR" before "=" (the value is not shown)`,
      `c.toml:7:73: error: runners[0].environment[2]: ${expected}, found the name " PASSWORD " before "=" (the value is not shown)`,
      `c.toml:7:99: error: runners[0].environment[3]: ${expected}, found a string whose part before "=" is not a variable name (not shown, as it may be a secret)`,
      `c.toml:7:121: error: runners[0].environment[4]: ${expected}, found a string whose part before "=" is not a variable name (not shown, as it may be a secret)`,
      `c.toml:7:151: error: runners[0].environment[6]: ${expected}, found an integer (not shown)`,
    ]);
    expect(issues.join('\n')).not.toMatch(/Secret|hunter|glpat|c2Vj|LIVES/);
  });

  const cases: [string, string, string[]][] = [
    ['an empty file', '', ['c.toml:1:1: error: runners: expected an array of at least 1 items, each a [[runners]] table, found nothing; add runners to the top level']],
    ['concurrent = 0', `concurrent = 0\n${RUNNER}`, ['c.toml:1:1: error: concurrent: expected an integer of at least 1 (0 stops gitlab-runner), found 0 (an integer)']],
    [
      'a runner missing what the custom executor needs',
      '[[runners]]\nurl = "gitlab.com"\ntoken = "glrt-abc"\nexecutor = "docker"\n[runners.custom]\nrun_exc = "/d"\n',
      [
        'c.toml:1:1: error: runners[0].builds_dir: expected a non-empty path, found nothing; add builds_dir to runners[0]',
        'c.toml:1:1: error: runners[0].cache_dir: expected a non-empty path, found nothing; add cache_dir to runners[0]',
        'c.toml:2:1: error: runners[0].url: expected an http:// or https:// URL, found "gitlab.com"',
        'c.toml:4:1: error: runners[0].executor: expected "custom" (this model covers custom-executor runners), found "docker"',
        'c.toml:5:1: error: runners[0].custom.run_exec: expected a non-empty path, found nothing; add run_exec to [runners[0].custom]',
        'c.toml:6:1: error: runners[0].custom.run_exc: expected a known key, found unknown key "run_exc"; did you mean "run_exec"?',
      ],
    ],
    [
      'keys under the wrong table header',
      `${RUNNER}name = "n"\nconcurrent = 3\n`,
      [
        'c.toml:9:1: error: runners[0].custom.name: expected a known key, found unknown key "name"; name belongs under [[runners]] (a key belongs to the nearest table header above it)',
        'c.toml:10:1: error: runners[0].custom.concurrent: expected a known key, found unknown key "concurrent"; concurrent belongs at the top level, before the first table header',
      ],
    ],
    [
      'an S3 cache without a bucket',
      `${RUNNER}[runners.cache]\nType = "s3"\n[runners.cache.s3]\n[runners.cache.gcs]\n`,
      ['c.toml:11:1: error: runners[0].cache.s3.BucketName: expected an S3 bucket name, because Type = "s3", found nothing; add BucketName to [runners.cache.s3]'],
    ],
    ['a token of the wrong type, not shown', RUNNER.replace('"glrt-abc"', '12345'), ['c.toml:3:1: error: runners[0].token: expected a runner authentication token (glrt-…), found an integer (not shown)']],
    [
      'a syntax error on the token line, without the line\'s text',
      '[[runners]]\ntoken = "glrt-secret\n',
      ['c.toml:2:21: error: expected valid TOML, found control characters are not allowed in strings'],
    ],
  ];

  it.each(cases)('reports %s', (_name, text, expected) => {
    expect(issuesOf(() => parseRunnerConfig(text, { file: 'c.toml', strict: true }))).toEqual(expected);
    // Without strict, as gitlab-runner, an unknown key is only a warning; everything else is reported alike.
    expect(allIssuesOf(() => parseRunnerConfig(text, { file: 'c.toml' }))).toEqual(unknownKeysAsWarnings(expected));
  });
});
