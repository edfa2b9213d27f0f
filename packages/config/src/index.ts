export { ConfigError, ConfigFileError, MAX_CONFIG_FILE_BYTES, formatIssue, formatIssues, type ConfigIssue, type IssueSeverity } from './errors.js';
export type { ParseOptions, Parsed } from './toml/document.js';

export {
  CPU_ARCHITECTURES,
  LOG_FORMATS,
  LOG_LEVELS,
  OVERRIDE_VARIABLES,
  type CapacityProviderStrategyItem,
  type CpuArchitecture,
  type DriverConfig,
  type FargateCapacityProvider,
  type FargateSettings,
  type JobImageSettings,
  type LogFormat,
  type LogLevel,
  type OverridePolicy,
  type PoolDefaults,
  type PoolPolicy,
  type PoolSettings,
  type PricingSettings,
  type RegistryCredential,
  type SshSettings,
  type TaskMetadataSettings,
  type TimeoutSettings,
} from './driver/model.js';
export { loadDriverConfig, parseDriverConfig } from './driver/parse.js';
export { renderDriverConfig } from './driver/render.js';
export { matchesAllowList } from './driver/allow-list.js';
export { DRIVER_TASK_TAG_KEYS } from './driver/reserved-tags.js';
export { imagePatternProblem, isImageAllowed, matchesImagePattern } from './driver/image-glob.js';
export { familyOf } from './driver/sections/job-images.js';
export { CronSyntaxError, cronMatches, isKnownTimeZone, parseCron, zonedMinute, type CronSchedule, type ZonedMinute } from './driver/cron.js';
export { POOL_CLAIM_COMMAND, POOL_CLAIM_LOCK_DIR, POOL_CLAIM_TAG_KEYS, POOL_IDLE_DEADLINE_VARIABLE, POOL_RUN_DIR, POOL_TAG_KEYS } from './contract/pool.js';
export {
  JOB_AGENT_BUSYBOX,
  JOB_AGENT_CONTAINER_USER,
  JOB_AGENT_DEFAULT_SSH_PORT,
  JOB_AGENT_DIR,
  JOB_AGENT_ENTRY,
  JOB_AGENT_ENTRY_POINT,
  JOB_AGENT_ENV,
  JOB_AGENT_LOGIN_NAME,
} from './contract/job-agent.js';

export type { CacheSettings, CustomExecutorSettings, RunnerConfig, RunnerEntry, S3CacheSettings, SessionServerSettings } from './runner/model.js';
export { loadRunnerConfig, parseRunnerConfig } from './runner/parse.js';
export { renderRunnerConfig, type RenderRunnerOptions } from './runner/render.js';
export { classifyRunnerToken, type RunnerTokenKind } from './runner/token.js';
export { DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR, JOB_CONTAINER_NAME, SSH_PUBLIC_KEY_VARIABLE } from './contract/job-container.js';
export { formatGoDuration, parseGoDurationSeconds } from './runner/go-duration.js';

export {
  EPHEMERAL_STORAGE_GIB,
  FARGATE_CPU_VALUES,
  FARGATE_MEMORY_VALUES,
  FARGATE_TASK_SIZES,
  fargateMemoryFor,
  isValidEphemeralStorage,
  isValidFargateSize,
} from './aws/fargate-sizing.js';
