import { TomlDate } from 'smol-toml';
import { child, describe, type At, type Checker } from '../schema/checker.js';
import { boolean, integer, list, map, refine, section, string, type Schema } from '../schema/schema.js';
import { REGION_PATTERN } from '../aws/shapes.js';
import type { CacheSettings, CustomExecutorSettings, RunnerConfig, RunnerEntry, S3CacheSettings, SessionServerSettings } from './model.js';
import { environmentEntry } from './environment-entry.js';
import { positiveGoDuration } from './go-duration.js';
import { classifyRunnerToken, describeToken } from './token.js';

const path = string({ expected: 'a non-empty path' });
const seconds = (fallback: number): Schema<number> =>
  refine(integer({ min: -1, max: 31_536_000, expected: 'whole seconds (0 or less means the default)' }), (n) => (n <= 0 ? fallback : n));

const httpUrl: Schema<string> = {
  expected: 'an http:// or https:// URL',
  read(value, at, checker) {
    const text = string({ expected: this.expected }).read(value, at, checker);
    if (text === undefined) return undefined;
    try {
      const url = new URL(text);
      if ((url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '') return text;
    } catch {
      // reported below
    }
    return void checker.error(at, this.expected, describe(text));
  },
};

const dateTime: Schema<string> = {
  expected: 'a TOML date-time like 2025-01-01T00:00:00Z',
  read(value, at, checker) {
    if (value instanceof TomlDate) return value.toISOString();
    return void checker.error(at, this.expected, describe(value));
  },
};

const token: Schema<string> = {
  expected: 'a runner authentication token (glrt-…)',
  read(value, at, checker) {
    const text = string({ expected: this.expected, secret: true, pattern: /^\S+$/ }).read(value, at, checker);
    if (text === undefined) return undefined;
    const kind = classifyRunnerToken(text);
    if (kind === 'registration') {
      checker.warn(at, this.expected, describeToken(text), 'registration tokens only work with `gitlab-runner register` and are disabled by default since GitLab 17.0: create the runner in GitLab and use its glrt- token');
    } else if (kind === 'legacy-authentication') {
      checker.warn(at, this.expected, describeToken(text), 'it comes from the deprecated registration-token workflow: create the runner in GitLab and use its glrt- token');
    }
    return text;
  },
};

const args = list(string({ minLength: 0, expected: 'a string' }));

const custom = section<CustomExecutorSettings>(
  {
    configExec: { key: 'config_exec', schema: path },
    configArgs: { key: 'config_args', schema: args, default: [] },
    configExecTimeout: { key: 'config_exec_timeout', schema: seconds(3600), default: 3600 },
    prepareExec: { key: 'prepare_exec', schema: path },
    prepareArgs: { key: 'prepare_args', schema: args, default: [] },
    prepareExecTimeout: { key: 'prepare_exec_timeout', schema: seconds(3600), default: 3600 },
    runExec: { key: 'run_exec', schema: path, required: true },
    runArgs: { key: 'run_args', schema: args, default: [] },
    cleanupExec: { key: 'cleanup_exec', schema: path },
    cleanupArgs: { key: 'cleanup_args', schema: args, default: [] },
    cleanupExecTimeout: { key: 'cleanup_exec_timeout', schema: seconds(3600), default: 3600 },
    gracefulKillTimeout: { key: 'graceful_kill_timeout', schema: seconds(600), default: 600 },
    forceKillTimeout: { key: 'force_kill_timeout', schema: seconds(10), default: 10 },
  },
  { expected: 'a [runners.custom] table' },
);

const secret = string({ secret: true, expected: 'a non-empty string' });
const text = string({ expected: 'a non-empty string' });

const s3 = section<S3CacheSettings>({
  bucketName: { key: 'BucketName', schema: string({ pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, expected: 'an S3 bucket name (3-63 lowercase letters, digits, . and -)' }) },
  bucketLocation: { key: 'BucketLocation', schema: string({ pattern: REGION_PATTERN, expected: 'an AWS Region like "eu-west-1"' }) },
  serverAddress: { key: 'ServerAddress', schema: text },
  authenticationType: { key: 'AuthenticationType', schema: string({ oneOf: ['iam', 'access-key'] }) as Schema<'iam' | 'access-key'> },
  accessKey: { key: 'AccessKey', schema: secret },
  secretKey: { key: 'SecretKey', schema: secret },
  sessionToken: { key: 'SessionToken', schema: secret },
  insecure: { key: 'Insecure', schema: boolean(), default: false },
  serverSideEncryption: { key: 'ServerSideEncryption', schema: string({ oneOf: ['S3', 'KMS', 'DSSE-KMS'] }) },
  serverSideEncryptionKeyId: { key: 'ServerSideEncryptionKeyID', schema: text },
  dualStack: { key: 'DualStack', schema: boolean() },
  pathStyle: { key: 'PathStyle', schema: boolean() },
  accelerate: { key: 'Accelerate', schema: boolean() },
  roleArn: { key: 'RoleARN', schema: text },
  uploadRoleArn: { key: 'UploadRoleARN', schema: text },
}, { expected: 'a [runners.cache.s3] table' });

const scalar: Schema<string | number | boolean> = {
  expected: 'a string, number or boolean',
  read(value, at, checker) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
    return void checker.error(at, this.expected, describe(value));
  },
};
const opaque = map(scalar, { expected: 'a table of settings' });

const cache = refine(
  section<CacheSettings>(
    {
      type: { key: 'Type', schema: string({ oneOf: ['s3', 'gcs', 'azure'] }) as Schema<NonNullable<CacheSettings['type']>> },
      path: { key: 'Path', schema: text },
      shared: { key: 'Shared', schema: boolean(), default: false },
      maxUploadedArchiveSize: { key: 'MaxUploadedArchiveSize', schema: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
      s3: { key: 's3', schema: s3 },
      gcs: { key: 'gcs', schema: opaque },
      azure: { key: 'azure', schema: opaque },
    },
    { expected: 'a [runners.cache] table' },
  ),
  (cache, at: At, checker: Checker): CacheSettings | undefined => {
    // `gitlab-runner register` writes empty provider tables; only the chosen Type must be complete.
    if (cache.type === 's3' && cache.s3?.bucketName === undefined) {
      const s3At = child(at, 's3', 's3');
      checker.error(child(s3At, 'BucketName', 'BucketName'), 'an S3 bucket name, because Type = "s3"', 'nothing', 'add BucketName to [runners.cache.s3]');
      return undefined;
    }
    return cache;
  },
);

const runner = section<Omit<RunnerEntry, 'tokenKind'>>(
  {
    name: { key: 'name', schema: text, default: '' },
    url: { key: 'url', schema: httpUrl, required: true },
    cloneUrl: { key: 'clone_url', schema: httpUrl },
    id: { key: 'id', schema: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
    token: { key: 'token', schema: token, required: true },
    tokenObtainedAt: { key: 'token_obtained_at', schema: dateTime },
    tokenExpiresAt: { key: 'token_expires_at', schema: dateTime },
    executor: { key: 'executor', schema: string({ oneOf: ['custom'], expected: '"custom" (this model covers custom-executor runners)' }) as Schema<'custom'>, required: true },
    buildsDir: { key: 'builds_dir', schema: path, required: true },
    cacheDir: { key: 'cache_dir', schema: path, required: true },
    prepareTimeout: { key: 'prepare_timeout', schema: positiveGoDuration('the job timeout') },
    shell: { key: 'shell', schema: string({ oneOf: ['bash', 'sh', 'pwsh', 'powershell', 'cmd'] }) },
    limit: { key: 'limit', schema: integer({ min: 0, max: 100_000 }), default: 0 },
    requestConcurrency: { key: 'request_concurrency', schema: integer({ min: 1, max: 100_000 }), default: 1 },
    environment: { key: 'environment', schema: list(environmentEntry), default: [] },
    outputLimit: { key: 'output_limit', schema: integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
    tlsCaFile: { key: 'tls-ca-file', schema: path },
    tlsCertFile: { key: 'tls-cert-file', schema: path },
    tlsKeyFile: { key: 'tls-key-file', schema: path },
    preGetSourcesScript: { key: 'pre_get_sources_script', schema: text },
    postGetSourcesScript: { key: 'post_get_sources_script', schema: text },
    preBuildScript: { key: 'pre_build_script', schema: text },
    postBuildScript: { key: 'post_build_script', schema: text },
    debugTraceDisabled: { key: 'debug_trace_disabled', schema: boolean() },
    custom: { key: 'custom', schema: custom, required: true },
    customBuildDir: {
      key: 'custom_build_dir',
      schema: section<{ enabled?: boolean }>({ enabled: { key: 'enabled', schema: boolean() } }, { expected: 'a [runners.custom_build_dir] table' }),
    },
    cache: { key: 'cache', schema: cache },
    featureFlags: { key: 'feature_flags', schema: map(boolean(), { expected: 'a table of FF_NAME = true|false' }), default: {} },
  },
  { expected: 'a [[runners]] table' },
);

const runnerWithKind = refine(runner, (entry): RunnerEntry => ({ ...entry, tokenKind: classifyRunnerToken(entry.token) }));

const sessionServer = section<SessionServerSettings>({
  listenAddress: { key: 'listen_address', schema: text },
  advertiseAddress: { key: 'advertise_address', schema: text },
  sessionTimeout: { key: 'session_timeout', schema: integer({ min: 1, max: 31_536_000 }), default: 1800 },
}, { expected: 'a [session_server] table' });

/** gitlab-runner's config.toml for custom-executor runners; keys case-insensitive as gitlab-runner reads them. */
export const runnerSchema: Schema<RunnerConfig> = section<RunnerConfig>({
  concurrent: { key: 'concurrent', schema: integer({ min: 1, max: 100_000, expected: 'an integer of at least 1 (0 stops gitlab-runner)' }), default: 1 },
  checkInterval: { key: 'check_interval', schema: seconds(3), default: 3 },
  logLevel: { key: 'log_level', schema: string({ oneOf: ['debug', 'info', 'warn', 'error', 'fatal', 'panic'] }) as Schema<NonNullable<RunnerConfig['logLevel']>> },
  logFormat: { key: 'log_format', schema: string({ oneOf: ['runner', 'text', 'json'] }) as Schema<NonNullable<RunnerConfig['logFormat']>> },
  shutdownTimeout: { key: 'shutdown_timeout', schema: integer({ min: 0, max: 31_536_000 }) },
  connectionMaxAge: { key: 'connection_max_age', schema: string({ pattern: /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/, expected: 'a Go duration like "15m"' }) },
  listenAddress: { key: 'listen_address', schema: text },
  sentryDsn: { key: 'sentry_dsn', schema: secret },
  sessionServer: { key: 'session_server', schema: sessionServer },
  runners: { key: 'runners', schema: list(runnerWithKind, { min: 1 }), required: true },
});
