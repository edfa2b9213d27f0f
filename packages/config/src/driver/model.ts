/** Log levels upstream's logrus accepts (`warn` is read as `warning`). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'fatal', 'panic'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Log formats upstream accepts. */
export const LOG_FORMATS = ['text', 'text-simple', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** CPU architectures of Fargate Linux tasks, as the task definition's `runtimePlatform.cpuArchitecture` names them. */
export const CPU_ARCHITECTURES = ['X86_64', 'ARM64'] as const;
export type CpuArchitecture = (typeof CPU_ARCHITECTURES)[number];

/** A Fargate capacity provider. */
export type FargateCapacityProvider = 'FARGATE' | 'FARGATE_SPOT';

/** One entry of RunTask's `capacityProviderStrategy`. */
export interface CapacityProviderStrategyItem {
  readonly capacityProvider: FargateCapacityProvider;
  /** Relative share of tasks. @default 1 */
  readonly weight: number;
  /** Tasks placed on this provider before weights apply; at most one entry may set it. @default 0 */
  readonly base: number;
}

/** How tasks are launched and reached (`[Fargate]`). */
export interface FargateSettings {
  /** ECS cluster name or ARN. */
  readonly cluster: string;
  /** AWS Region; when absent the SDK's default chain (`AWS_REGION`, profile) decides. */
  readonly region?: string;
  /** Subnets for the task's ENI (`Subnet` and `Subnets` upstream), 1 to 16. */
  readonly subnets: readonly string[];
  /** Security groups (`SecurityGroup` and `SecurityGroups` upstream), 0 to 5; none = the VPC's default group. */
  readonly securityGroups: readonly string[];
  /** Task definition: `family`, `family:revision` or ARN. */
  readonly taskDefinition: string;
  /**
   * The environment's ARM64 (Graviton) task definition, which a job gets with `FARGATE_CPU_ARCHITECTURE=ARM64`
   * when `[Overrides] CpuArchitectures` allows it; `TaskDefinition` is then the X86_64 one.
   * @default - none: the environment offers one architecture
   */
  readonly arm64TaskDefinition?: string;
  /** Assign a public IP to the task (`assignPublicIp`). @default false */
  readonly enablePublicIp: boolean;
  /** Connect over SSH to the public IP rather than the private one. @default enablePublicIp (upstream's coupling) */
  readonly usePublicIp: boolean;
  /** Fargate platform version; absent = ECS's `LATEST`. */
  readonly platformVersion?: string;
  /** Task CPU units for every job (RunTask `overrides.cpu`); absent = the task definition's. Set with `memory`. */
  readonly cpu?: number;
  /** Task memory in MiB for every job (`overrides.memory`), a valid Fargate pair with `cpu`. */
  readonly memory?: number;
  /** Task ephemeral storage in GiB (21-200) for every job; absent = the task definition's (20 GiB by default). */
  readonly ephemeralStorage?: number;
  /** Start tasks with ECS Exec enabled. @default false */
  readonly enableExecuteCommand: boolean;
  /** The container that runs sshd and receives `SSH_PUBLIC_KEY`. @default "ci-coordinator" */
  readonly containerName: string;
  /** Capacity-provider strategy; empty = launch type `FARGATE` (on-demand). @default [] */
  readonly capacityProviderStrategy: readonly CapacityProviderStrategyItem[];
  /** When Spot has no capacity, retry once on on-demand `FARGATE`. @default true */
  readonly onDemandFallback: boolean;
  /** Tags put on every task (RunTask `tags`), at most 50. @default {} */
  readonly tags: Readonly<Record<string, string>>;
  /** Copy the task definition's tags to the task. @default "NONE" */
  readonly propagateTags: 'TASK_DEFINITION' | 'NONE';
  /** Add ECS-managed `aws:ecs:*` tags. @default false */
  readonly enableEcsManagedTags: boolean;
}

/** Where per-job state files live (`[TaskMetadata]`). */
export interface TaskMetadataSettings {
  /**
   * Directory for state files; must exist. Absent = the stage's working directory, which the runner makes per
   * job (upstream's behaviour for an empty `Directory`).
   */
  readonly directory?: string;
}

/** SSH connection to the task (`[SSH]`). */
export interface SshSettings {
  /** @default "root" */
  readonly username: string;
  /** @default 22 (also for upstream's `Port = 0`) */
  readonly port: number;
  /** Seconds to wait for one TCP connect and SSH handshake. @default 10 */
  readonly connectTimeout: number;
  /** Seconds between SSH keepalives while a stage runs; 0 disables them. @default 15 */
  readonly keepaliveInterval: number;
  /** Unanswered keepalives before the connection is considered dead. @default 4 */
  readonly keepaliveCountMax: number;
  /**
   * Keep one SSH connection per job, opened by prepare, and run every stage on it (as OpenSSH's ControlMaster
   * does) instead of connecting once per stage. A stage that cannot reach it connects on its own.
   * @default true
   */
  readonly multiplex: boolean;
}

/** Deadlines and poll intervals, in seconds (`[Timeouts]`). */
export interface TimeoutSettings {
  /** From RunTask until the task is RUNNING (upstream's waiter: about 600 s). @default 600 */
  readonly taskStart: number;
  /**
   * From RUNNING (as the DescribeTasks poller sees it) until sshd accepts the job's key, also when the SSH probe started
   * earlier from a PENDING task's address. @default 120
   */
  readonly sshReady: number;
  /** For StopTask in cleanup, retries included. @default 60 */
  readonly stopTask: number;
  /**
   * The first and shortest pause between DescribeTasks polls while the task starts: later pauses grow to half the time
   * waited so far, capped (the driver's `aws/poll-schedule.ts`). Also the fixed pause (at least 0.25 s) between the
   * rounds of a job image's services wait. @default 2
   */
  readonly taskPollInterval: number;
  /** Between SSH readiness probes. @default 1 */
  readonly sshPollInterval: number;
}

/**
 * Which per-job CI variables may change the task (`[Overrides]`). Everything is refused unless allowed here:
 * a job author must not gain what the runner's administrator did not grant.
 */
export interface OverridePolicy {
  /**
   * Task definitions `FARGATE_TASK_DEFINITION` may name: `family`, `family:revision` or ARN; `*` matches any
   * run of characters (`ci-*`, `ci-large:*`, or `*` for upstream's allow-everything). @default [] (refused)
   */
  readonly taskDefinitions: readonly string[];
  /** Platform versions `FARGATE_PLATFORM_VERSION` may name. @default [] (refused) */
  readonly platformVersions: readonly string[];
  /** Highest CPU units `FARGATE_CPU` may ask for; absent = refused. */
  readonly maxCpu?: number;
  /** Highest memory (MiB) `FARGATE_MEMORY` may ask for; absent = refused. */
  readonly maxMemory?: number;
  /** Highest ephemeral storage (GiB) `FARGATE_EPHEMERAL_STORAGE` may ask for; absent = refused. */
  readonly maxEphemeralStorage?: number;
  /** Whether `FARGATE_SPOT=true|false` may switch between Spot and on-demand. @default false */
  readonly allowSpot: boolean;
  /**
   * Architectures `FARGATE_CPU_ARCHITECTURE` may name: `ARM64` selects `[Fargate] Arm64TaskDefinition`, `X86_64`
   * the `TaskDefinition`. @default [] (refused)
   */
  readonly cpuArchitectures?: readonly CpuArchitecture[];
}

/**
 * `[Pricing]`: prices (US dollars per unit-hour, for the driver's region) that replace the built-in table's in the
 * driver's cost estimates: negotiated prices, or a region the table lacks. A price left out keeps the table's.
 */
export interface PricingSettings {
  /** On-demand x86 vCPU-hour. @default the built-in table's */
  readonly vcpuHour?: number;
  /** On-demand x86 GB-hour of memory. @default the built-in table's */
  readonly gbHour?: number;
  /** On-demand ARM vCPU-hour. @default the built-in table's */
  readonly armVcpuHour?: number;
  /** On-demand ARM GB-hour. @default the built-in table's */
  readonly armGbHour?: number;
  /** Fargate Spot x86 vCPU-hour. @default the built-in table's */
  readonly spotVcpuHour?: number;
  /** Fargate Spot x86 GB-hour. @default the built-in table's */
  readonly spotGbHour?: number;
  /** Fargate Spot ARM vCPU-hour. @default the built-in table's */
  readonly armSpotVcpuHour?: number;
  /** Fargate Spot ARM GB-hour. @default the built-in table's */
  readonly armSpotGbHour?: number;
  /** Ephemeral storage beyond the 20 GiB included, per GB-hour. @default the built-in table's */
  readonly ephemeralGbHour?: number;
  /** Percent taken off every price (an enterprise discount). @default 0 */
  readonly discountPercent: number;
  /** Where these prices come from, shown with every estimate. @default - none */
  readonly source?: string;
}

/** A private registry's credentials (`[[JobImages.RegistryCredentials]]`). */
export interface RegistryCredential {
  /** Registry host pattern (doublestar, as the allow-lists), matched against an image's registry: `docker.io` for Docker Hub names. */
  readonly registry: string;
  /** Secrets Manager secret (`arn:aws:secretsmanager:…`) the task's execution role reads: `repositoryCredentials.credentialsParameter`. */
  readonly secretArn: string;
}

/**
 * `[JobImages]`: run each job in the image its `image:` names, with its `services:` beside it in the same task (a task
 * definition derived from `[Fargate] TaskDefinition` per image and services).
 */
export interface JobImageSettings {
  /** Honour `image:` and `services:`; when false they are ignored and the job runs in the task definition's image. @default false */
  readonly enabled: boolean;
  /**
   * Images a job may name, as doublestar patterns with gitlab-runner's `allowed_images` semantics (`ruby:*`,
   * `registry.example.com/**`). @default [] (every image: gitlab-runner's rule for an empty list)
   */
  readonly allowedImages: readonly string[];
  /** Service images a job may name, likewise (`allowed_services`). @default [] (every image) */
  readonly allowedServices: readonly string[];
  /** The job-agent image (`gf-init`: copies the SSH server and entry script into the task). Required when `enabled`. */
  readonly agentImage?: string;
  /**
   * The job-agent image of ARM64 jobs, whose task definition's `runtimePlatform.cpuArchitecture` is `ARM64`: a task runs
   * one architecture, so its agent must be built for it. Set it when the images are pushed as one tag per architecture.
   * @default agentImage, which must then be a multi-platform image (a manifest list with linux/arm64)
   */
  readonly arm64AgentImage?: string;
  /** Credentials per registry pattern, the first match wins; no match = a public registry or ECR (the execution role). @default [] */
  readonly registryCredentials: readonly RegistryCredential[];
  /** Prefix of the derived task definitions' families (`<prefix>-<16 hex digits>`). @default "<TaskDefinition's family>-job" */
  readonly familyPrefix: string;
  /** Seconds a derived task definition may go unused before `gc` deregisters it, and then before it deletes it. @default 604800 (7 days) */
  readonly unusedFamilyTtl: number;
  /** Seconds to wait for the services' ports before the job's script starts (gitlab-runner's `wait_for_services_timeout`). @default 30 */
  readonly serviceWaitTimeout: number;
}

/** The driver's configuration, normalized: canonical names, defaults applied, singular/plural keys merged. */
export interface DriverConfig {
  /** @default "info" */
  readonly logLevel: LogLevel;
  /** @default "text" */
  readonly logFormat: LogFormat;
  /** Log file; absent = stderr. */
  readonly logFile?: string;
  readonly fargate: FargateSettings;
  readonly taskMetadata: TaskMetadataSettings;
  readonly ssh: SshSettings;
  readonly timeouts: TimeoutSettings;
  readonly overrides: OverridePolicy;
  readonly pricing: PricingSettings;
  readonly jobImages: JobImageSettings;
  /** `[[Pool]]`: warm pools of idle tasks that `pool keep` maintains. @default [] (no pool) */
  readonly pools: readonly PoolSettings[];
  /** `[PoolSettings]`: what every pool shares. */
  readonly poolDefaults: PoolDefaults;
}

/**
 * One `[[Pool.Policy]]` block (gitlab-runner's `[[runners.autoscaler.policy]]`): while one of `periods` matches the
 * current minute in `timezone`, the pool keeps `idleCount` idle tasks. The last matching block wins.
 */
export interface PoolPolicy {
  /** Five-field unix-cron periods (`driver/cron.ts`). @default ["* * * * *"] */
  readonly periods: readonly string[];
  /** IANA time zone the periods are read in. @default "UTC" */
  readonly timezone: string;
  readonly idleCount: number;
  /** Seconds an idle task may wait for a job, counted from its launch. @default the pool's IdleTime */
  readonly idleTime?: number;
}

/** One `[[Pool]]`: idle tasks started like a job's default task (no per-job overrides), each serving one job. */
export interface PoolSettings {
  /** Directory name and `gitlab-fargate:pool` tag value. */
  readonly name: string;
  /** Idle tasks to keep when no policy matches. @default 0 */
  readonly idleCount: number;
  /** Seconds an idle task may wait for a job, from its launch; its in-task watchdog stops it then. @default 1200 */
  readonly idleTime: number;
  /** At most this many idle (ready + starting) tasks, whatever a policy asks. @default 10 */
  readonly maxIdle: number;
  /** Seconds after launch past which an unclaimed task is replaced, whatever its IdleTime. @default 14400 */
  readonly maxAge: number;
  /** @default [] */
  readonly policies: readonly PoolPolicy[];
}

/** `[PoolSettings]`. */
export interface PoolDefaults {
  /** The pool state directory (0700). @default "<[TaskMetadata] Directory>/pool"; required when that is unset and a pool exists */
  readonly directory?: string;
  /** Seconds between two reconcile cycles of `pool keep`. @default 20 */
  readonly reconcileInterval: number;
  /** A task is never claimed, and the keeper replaces it, this many seconds before its idle deadline. @default 120 */
  readonly claimMargin: number;
  /** Port of the keeper's Prometheus `/metrics` endpoint (on all interfaces). @default - none */
  readonly metricsPort?: number;
}

/** The per-job CI variables the override policy governs (the driver sees them as `CUSTOM_ENV_<name>`). */
export const OVERRIDE_VARIABLES = {
  taskDefinition: 'FARGATE_TASK_DEFINITION',
  platformVersion: 'FARGATE_PLATFORM_VERSION',
  cpu: 'FARGATE_CPU',
  memory: 'FARGATE_MEMORY',
  ephemeralStorage: 'FARGATE_EPHEMERAL_STORAGE',
  spot: 'FARGATE_SPOT',
  cpuArchitecture: 'FARGATE_CPU_ARCHITECTURE',
} as const;
