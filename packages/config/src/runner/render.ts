import { TomlDateTime, TomlWriter } from '../render/toml-writer.js';
import type { CacheSettings, RunnerConfig, RunnerEntry } from './model.js';
import { formatGoDuration } from './go-duration.js';

/** Options of {@link renderRunnerConfig}. */
export interface RenderRunnerOptions {
  /** Lines written as a comment at the top of the file (e.g. the runner's tags, which live in GitLab). */
  readonly header?: string;
  /** Replace tokens, keys and `[[runners]] environment` values with a placeholder, for printing. @default false */
  readonly redactSecrets?: boolean;
}

const REDACTED = '[REDACTED]';

/** Keys of the opaque `[runners.cache.gcs]` / `[runners.cache.azure]` tables that hold credentials (`PrivateKey`, `AccountKey`). */
const SECRET_CACHE_KEY = /key|secret|token|password/i;

/** What {@link renderRunnerConfig} prints for a secret: a value, or each `KEY=value` environment entry's value. */
interface Hide {
  (value: string | undefined): string | undefined;
  /** `KEY=[REDACTED]` for each entry when redacting: the names help, the values often are secrets. */
  entries(entries: readonly string[]): readonly string[];
}

function hider(redact: boolean): Hide {
  const hide = (value: string | undefined): string | undefined => (value !== undefined && redact ? REDACTED : value);
  // An entry is validated as KEY=value; one without "=" is hidden whole.
  const entry = (text: string): string => (text.includes('=') ? `${text.slice(0, text.indexOf('='))}=${REDACTED}` : REDACTED);
  return Object.assign(hide, { entries: (entries: readonly string[]) => (redact ? entries.map(entry) : entries) });
}

function renderCache(out: TomlWriter, cache: CacheSettings, hide: Hide): void {
  out.table(['runners', 'cache'], { depth: 1 }).set('Type', cache.type).set('Path', cache.path).set('Shared', cache.shared).set('MaxUploadedArchiveSize', cache.maxUploadedArchiveSize);
  const { s3 } = cache;
  if (s3 !== undefined) {
    out
      .table(['runners', 'cache', 's3'], { depth: 2 })
      .set('ServerAddress', s3.serverAddress)
      .set('BucketName', s3.bucketName)
      .set('BucketLocation', s3.bucketLocation)
      .set('AuthenticationType', s3.authenticationType)
      .set('AccessKey', hide(s3.accessKey))
      .set('SecretKey', hide(s3.secretKey))
      .set('SessionToken', hide(s3.sessionToken))
      .set('Insecure', s3.insecure)
      .set('ServerSideEncryption', s3.serverSideEncryption)
      .set('ServerSideEncryptionKeyID', s3.serverSideEncryptionKeyId)
      .set('DualStack', s3.dualStack)
      .set('PathStyle', s3.pathStyle)
      .set('Accelerate', s3.accelerate)
      .set('RoleARN', s3.roleArn)
      .set('UploadRoleARN', s3.uploadRoleArn);
  }
  for (const provider of ['gcs', 'azure'] as const) {
    const settings = cache[provider];
    if (settings === undefined) continue;
    out.table(['runners', 'cache', provider], { depth: 2 });
    for (const [key, value] of Object.entries(settings)) out.set(key, typeof value === 'string' && SECRET_CACHE_KEY.test(key) ? hide(value) : value);
  }
}

function renderRunner(out: TomlWriter, runner: RunnerEntry, hide: Hide): void {
  out
    .table(['runners'], { array: true })
    .set('name', runner.name === '' ? undefined : runner.name)
    .set('url', runner.url)
    .set('clone_url', runner.cloneUrl)
    .set('id', runner.id)
    .set('token', hide(runner.token))
    .set('token_obtained_at', runner.tokenObtainedAt === undefined ? undefined : new TomlDateTime(runner.tokenObtainedAt))
    .set('token_expires_at', runner.tokenExpiresAt === undefined ? undefined : new TomlDateTime(runner.tokenExpiresAt))
    .set('executor', runner.executor)
    .set('builds_dir', runner.buildsDir)
    .set('cache_dir', runner.cacheDir)
    .set('prepare_timeout', runner.prepareTimeout === undefined ? undefined : formatGoDuration(runner.prepareTimeout))
    .set('shell', runner.shell)
    .set('limit', runner.limit)
    .set('request_concurrency', runner.requestConcurrency)
    .set('environment', runner.environment.length === 0 ? undefined : hide.entries(runner.environment))
    .set('output_limit', runner.outputLimit)
    .set('tls-ca-file', runner.tlsCaFile)
    .set('tls-cert-file', runner.tlsCertFile)
    .set('tls-key-file', runner.tlsKeyFile)
    .set('pre_get_sources_script', runner.preGetSourcesScript)
    .set('post_get_sources_script', runner.postGetSourcesScript)
    .set('pre_build_script', runner.preBuildScript)
    .set('post_build_script', runner.postBuildScript)
    .set('debug_trace_disabled', runner.debugTraceDisabled);
  const { custom } = runner;
  out
    .table(['runners', 'custom'], { depth: 1 })
    .set('config_exec', custom.configExec)
    .set('config_args', custom.configArgs)
    .set('config_exec_timeout', custom.configExecTimeout)
    .set('prepare_exec', custom.prepareExec)
    .set('prepare_args', custom.prepareArgs)
    .set('prepare_exec_timeout', custom.prepareExecTimeout)
    .set('run_exec', custom.runExec)
    .set('run_args', custom.runArgs)
    .set('cleanup_exec', custom.cleanupExec)
    .set('cleanup_args', custom.cleanupArgs)
    .set('cleanup_exec_timeout', custom.cleanupExecTimeout)
    .set('graceful_kill_timeout', custom.gracefulKillTimeout)
    .set('force_kill_timeout', custom.forceKillTimeout);
  if (runner.customBuildDir !== undefined) out.table(['runners', 'custom_build_dir'], { depth: 1 }).set('enabled', runner.customBuildDir.enabled);
  if (runner.cache !== undefined) renderCache(out, runner.cache, hide);
  if (Object.keys(runner.featureFlags).length > 0) {
    out.table(['runners', 'feature_flags'], { depth: 1 });
    for (const [flag, enabled] of Object.entries(runner.featureFlags)) out.set(flag, enabled);
  }
}

/** Renders gitlab-runner's config.toml. Parsing the result gives back an equal config. */
export function renderRunnerConfig(config: RunnerConfig, options: RenderRunnerOptions = {}): string {
  const hide = hider(options.redactSecrets === true);
  const out = new TomlWriter();
  out.comment('gitlab-runner configuration, generated by gitlab-fargate-config render runner.');
  if (options.header !== undefined) out.comment(options.header);
  out
    .set('concurrent', config.concurrent)
    .set('check_interval', config.checkInterval)
    .set('log_level', config.logLevel)
    .set('log_format', config.logFormat)
    .set('shutdown_timeout', config.shutdownTimeout)
    .set('connection_max_age', config.connectionMaxAge)
    .set('listen_address', config.listenAddress)
    .set('sentry_dsn', hide(config.sentryDsn));
  if (config.sessionServer !== undefined) {
    out
      .table(['session_server'])
      .set('listen_address', config.sessionServer.listenAddress)
      .set('advertise_address', config.sessionServer.advertiseAddress)
      .set('session_timeout', config.sessionServer.sessionTimeout);
  }
  for (const runner of config.runners) renderRunner(out, runner, hide);
  return out.toString();
}
