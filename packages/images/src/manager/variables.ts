/**
 * The variables of the runner-manager's settings contract, shared by the entrypoint (generated bash) and the
 * `gitlab-fargate-manager` helper. Each name lives here only.
 */

/** The name of the SSM String parameter holding the manager's settings as a JSON object of strings. */
export const SETTINGS_PARAMETER_VARIABLE = 'GITLAB_FARGATE_SETTINGS_PARAMETER';

/** Seconds between two reads of the settings parameter. */
export const SETTINGS_POLL_SECONDS_VARIABLE = 'GITLAB_FARGATE_SETTINGS_POLL_SECONDS';

/** The manager's own version (task definition), and the parameter key that names the current one. */
export const MANAGER_VERSION_VARIABLE = 'GITLAB_FARGATE_MANAGER_VERSION';

/** The manager's ECS task ID, exported into gitlab-runner's environment for the driver to tag job tasks with. */
export const MANAGER_ID_VARIABLE = 'GITLAB_FARGATE_MANAGER_ID';

/**
 * Settings the parameter may set: the variables `gitlab-fargate-config render driver|runner` read that a running
 * manager can change without breaking a job already running (its later stages take what they need from the job's
 * state file, gitlab-runner keeps a running build's own copy of its runner section). `variables.test.ts`
 * checks that every variable the config CLI reads is either here or in {@link START_ONLY_VARIABLES}.
 */
export const RELOADABLE_SETTING_VARIABLES: readonly string[] = [
  // driver TOML: [Fargate]
  'CLUSTER',
  'REGION',
  'SUBNETS',
  'SECURITY_GROUP_IDS',
  'TASK_DEFINITION',
  'ARM64_TASK_DEFINITION',
  'ENABLE_PUBLIC_IP',
  'USE_PUBLIC_IP',
  'PLATFORM_VERSION',
  'TASK_CPU',
  'TASK_MEMORY',
  'TASK_EPHEMERAL_STORAGE',
  'TASK_CONTAINER_NAME',
  'ENABLE_EXECUTE_COMMAND',
  'CAPACITY_PROVIDER_STRATEGY',
  'ON_DEMAND_FALLBACK',
  'TASK_TAGS',
  'PROPAGATE_TAGS',
  // driver TOML: [SSH], logging, [Timeouts], [Overrides]
  'SSH_USERNAME',
  'SSH_PORT',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'TASK_START_TIMEOUT',
  'SSH_READY_TIMEOUT',
  'ALLOWED_TASK_DEFINITIONS',
  'ALLOWED_PLATFORM_VERSIONS',
  'MAX_CPU',
  'MAX_MEMORY',
  'MAX_EPHEMERAL_STORAGE',
  'ALLOW_SPOT',
  'ALLOWED_CPU_ARCHITECTURES',
  // driver TOML: job images (each job's task definition is derived at prepare; cleanup goes by the state file)
  'JOB_IMAGES',
  'ALLOWED_IMAGES',
  'ALLOWED_SERVICES',
  'REGISTRY_CREDENTIALS',
  'JOB_FAMILY_PREFIX',
  'UNUSED_FAMILY_TTL',
  'SERVICE_WAIT_TIMEOUT',
  // driver TOML: warm pools (the keeper re-reads the file; a removed pool's claimed tasks stay their jobs')
  'POOLS',
  // config.toml
  'RUNNER_NAME',
  'RUNNER_TAGS',
  'CONCURRENT',
  'CHECK_INTERVAL',
  'BUILDS_DIR',
  'CACHE_DIR',
  'CACHE_S3_BUCKET',
  'CACHE_S3_REGION',
  'CACHE_S3_PATH',
  'CACHE_SHARED',
];

/**
 * Variables the manager reads that the parameter must not set, each with the reason. A parameter naming one is
 * refused as a whole.
 */
export const START_ONLY_VARIABLES: Readonly<Record<string, string>> = {
  RUNNER_TOKEN: 'a secret: it stays in Secrets Manager (the task definition\'s secrets), never in a String parameter',
  REGISTRATION_TOKEN: 'a secret: it stays in Secrets Manager (the task definition\'s secrets), never in a String parameter',
  RUNNER_TOKEN_FILE: 'read once at start (the token is a secret)',
  REGISTRATION_TOKEN_FILE: 'read once at start (the token is a secret)',
  DRIVER_PATH: 'a path inside the image',
  DRIVER_CONFIG_PATH: 'a path inside the image',
  // The native client runs whatever this names with the job's environment: as the driver's own path, never set by
  // whoever may write the parameter.
  RUN_EXEC_PATH: 'a path inside the image',
  CLEANUP_EXEC_PATH: 'a path inside the image',
  RUNNER_CONFIG_PATH: 'a path inside the image',
  METADATA_DIR: 'the running jobs find their state files in it',
  LOG_FILE: 'the driver log relay is set up at start',
  GITLAB_FARGATE_RUNNER_SHORT_TOKEN: "names the driver's tasks and the running jobs' state files",
  [MANAGER_ID_VARIABLE]: 'the manager finds it at start',
  [SETTINGS_PARAMETER_VARIABLE]: "set in the task definition: it names this parameter",
  [SETTINGS_POLL_SECONDS_VARIABLE]: 'set in the task definition',
  // Whoever may write the parameter must not be able to send the runner token elsewhere, or run their own image as
  // root beside every image job: these change only with the task definition (a new manager version).
  GITLAB_URL: 'the runner token is sent there: a changed URL is a new manager version (task definition), never a parameter write',
  JOB_AGENT_IMAGE: 'it runs as root in every image job: a changed agent is a new manager version (task definition)',
  ARM64_JOB_AGENT_IMAGE: 'the same, for ARM64 image jobs',
  POOL_DIRECTORY: "the running jobs' claimed pool entries and the keeper's volume are there",
  POOL_METRICS_PORT: 'the keeper binds it once, at start',
};
