import type { RunnerTokenKind } from './token.js';

/** `[runners.custom]`: how gitlab-runner calls the driver (timeouts in seconds). */
export interface CustomExecutorSettings {
  readonly configExec?: string;
  /** @default [] */
  readonly configArgs: readonly string[];
  /** @default 3600 */
  readonly configExecTimeout: number;
  readonly prepareExec?: string;
  /** @default [] */
  readonly prepareArgs: readonly string[];
  /** @default 3600 */
  readonly prepareExecTimeout: number;
  /** Required by gitlab-runner. */
  readonly runExec: string;
  /** Placed before `<script> <stage>`. @default [] */
  readonly runArgs: readonly string[];
  readonly cleanupExec?: string;
  /** @default [] */
  readonly cleanupArgs: readonly string[];
  /** @default 3600 */
  readonly cleanupExecTimeout: number;
  /** Wait after SIGTERM before SIGKILL. @default 600 */
  readonly gracefulKillTimeout: number;
  /** Wait after SIGKILL before giving up (the runner's code says 10, its docs 600). @default 10 */
  readonly forceKillTimeout: number;
}

/** `[runners.cache.s3]`. */
export interface S3CacheSettings {
  /** Required when the cache `Type` is `s3`. */
  readonly bucketName?: string;
  /** The bucket's Region. */
  readonly bucketLocation?: string;
  /** Custom endpoint; absent = AWS S3. */
  readonly serverAddress?: string;
  /** `iam` (the task role: what Fargate managers use) or `access-key`. */
  readonly authenticationType?: 'iam' | 'access-key';
  readonly accessKey?: string;
  readonly secretKey?: string;
  readonly sessionToken?: string;
  /** @default false */
  readonly insecure: boolean;
  readonly serverSideEncryption?: string;
  readonly serverSideEncryptionKeyId?: string;
  readonly dualStack?: boolean;
  readonly pathStyle?: boolean;
  readonly accelerate?: boolean;
  readonly roleArn?: string;
  readonly uploadRoleArn?: string;
}

/** `[runners.cache]`: the distributed cache (Fargate tasks are ephemeral, so a local cache is lost). */
export interface CacheSettings {
  /** Absent = no distributed cache (what `gitlab-runner register` writes). */
  readonly type?: 's3' | 'gcs' | 'azure';
  /** Prefix inside the bucket. */
  readonly path?: string;
  /** Share the cache between runners. @default false */
  readonly shared: boolean;
  readonly maxUploadedArchiveSize?: number;
  readonly s3?: S3CacheSettings;
  /** Kept as written (not modeled: only S3 is). */
  readonly gcs?: Readonly<Record<string, string | number | boolean>>;
  /** Kept as written (not modeled: only S3 is). */
  readonly azure?: Readonly<Record<string, string | number | boolean>>;
}

/** One `[[runners]]` entry for the custom executor. */
export interface RunnerEntry {
  /** Description shown in GitLab. */
  readonly name: string;
  /** GitLab URL, e.g. `https://gitlab.com/`. */
  readonly url: string;
  readonly cloneUrl?: string;
  /** Runner id written by `gitlab-runner register`. */
  readonly id?: number;
  /** The runner's token. Never printed by this package. */
  readonly token: string;
  /** Derived from the token's prefix. */
  readonly tokenKind: RunnerTokenKind;
  /** ISO date-time, as written by `gitlab-runner register`. */
  readonly tokenObtainedAt?: string;
  readonly tokenExpiresAt?: string;
  readonly executor: 'custom';
  /** Builds directory inside the job environment (required for the custom executor). */
  readonly buildsDir: string;
  /** Cache directory inside the job environment (required for the custom executor). */
  readonly cacheDir: string;
  /**
   * `prepare_timeout` (gitlab-runner 19.0+), in seconds, from a Go duration string such as `"5m"`: bounds config,
   * prepare and prepare_script together, counted from the job's start. 0 or less (warned about) and anything above
   * the job's timeout mean the job's timeout, as in gitlab-runner's `GetPrepareTimeout`.
   * @default the job's timeout (absent)
   */
  readonly prepareTimeout?: number;
  /** Script shell: `bash`, `sh`, `pwsh`, `powershell` or `cmd`; absent = the OS default (bash on Linux). */
  readonly shell?: string;
  /** Jobs this runner runs at once; 0 = no limit beyond `concurrent`. @default 0 */
  readonly limit: number;
  /** @default 1 */
  readonly requestConcurrency: number;
  /** `KEY=value` pairs given to every job. @default [] */
  readonly environment: readonly string[];
  /** Job log limit in KiB. */
  readonly outputLimit?: number;
  readonly tlsCaFile?: string;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  readonly preGetSourcesScript?: string;
  readonly postGetSourcesScript?: string;
  readonly preBuildScript?: string;
  readonly postBuildScript?: string;
  readonly debugTraceDisabled?: boolean;
  readonly custom: CustomExecutorSettings;
  /** `[runners.custom_build_dir]`: whether jobs may set `GIT_CLONE_PATH`. */
  readonly customBuildDir?: { readonly enabled?: boolean };
  readonly cache?: CacheSettings;
  /** `[runners.feature_flags]`. @default {} */
  readonly featureFlags: Readonly<Record<string, boolean>>;
}

/** `[session_server]` (interactive web terminal). */
export interface SessionServerSettings {
  readonly listenAddress?: string;
  readonly advertiseAddress?: string;
  /** @default 1800 */
  readonly sessionTimeout: number;
}

/** gitlab-runner's `config.toml` for custom-executor runners, normalized to camelCase with defaults applied. */
export interface RunnerConfig {
  /** Jobs at once across all runners; 0 is refused by gitlab-runner. @default 1 */
  readonly concurrent: number;
  /** Seconds between job requests (gitlab-runner reads ≤ 0 as 3). @default 3 */
  readonly checkInterval: number;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'panic';
  readonly logFormat?: 'runner' | 'text' | 'json';
  readonly shutdownTimeout?: number;
  /** Go duration such as `15m`. */
  readonly connectionMaxAge?: string;
  readonly listenAddress?: string;
  readonly sentryDsn?: string;
  readonly sessionServer?: SessionServerSettings;
  /** At least one. */
  readonly runners: readonly RunnerEntry[];
}
