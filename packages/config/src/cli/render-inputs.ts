import { hostname } from 'node:os';
import { DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR, JOB_CONTAINER_NAME } from '../contract/job-container.js';
import { asBoolean, asJson, asList, asNumber, asPatternList, asRegistryCredentials, asStrategy, asTags } from './input-values.js';

/** One setting of `render`: a flag, the environment variable behind it, and the key paths it feeds. */
export interface RenderInput {
  /** Flag name without the leading `--`. */
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  /** Used when neither the flag nor the variable is set (or both are empty). */
  readonly default?: () => string;
  /** Shown in help; the schema is what enforces it. */
  readonly required?: boolean;
  /** Key paths (canonical, as issues print them) this input produces, to point issues back at it. */
  readonly covers: readonly string[];
}

/** The inputs of one `render` kind and how their values become a TOML document. */
export interface RenderKind {
  readonly inputs: readonly RenderInput[];
  build(values: ReadonlyMap<string, string>): { document: Record<string, unknown>; header?: string };
}

type Table = Record<string, unknown>;

function put(
  values: ReadonlyMap<string, string>, flag: string, table: Table, key: string, convert: (text: string) => unknown = (text) => text,
): void {
  const value = values.get(flag);
  if (value !== undefined) table[key] = convert(value);
}

export const DRIVER_INPUTS: RenderKind = {
  inputs: [
    { flag: 'cluster', env: 'CLUSTER', help: 'ECS cluster name or ARN', required: true, covers: ['Fargate.Cluster'] },
    { flag: 'region', env: 'REGION', help: "AWS Region (default: the SDK's chain, e.g. AWS_REGION)", covers: ['Fargate.Region'] },
    { flag: 'subnets', env: 'SUBNETS', help: 'subnet ids, comma-separated (1-16)', required: true, covers: ['Fargate.Subnets'] },
    { flag: 'security-groups', env: 'SECURITY_GROUP_IDS', help: "security group ids, comma-separated (0-5; none = the VPC's default)", covers: ['Fargate.SecurityGroups'] },
    { flag: 'task-definition', env: 'TASK_DEFINITION', help: 'task definition family, family:revision or ARN', required: true, covers: ['Fargate.TaskDefinition'] },
    { flag: 'arm64-task-definition', env: 'ARM64_TASK_DEFINITION', help: 'the ARM64 task definition jobs get with FARGATE_CPU_ARCHITECTURE=ARM64', covers: ['Fargate.Arm64TaskDefinition'] },
    { flag: 'enable-public-ip', env: 'ENABLE_PUBLIC_IP', help: 'assign a public IP to tasks: true|false', default: () => 'false', covers: ['Fargate.EnablePublicIP'] },
    { flag: 'use-public-ip', env: 'USE_PUBLIC_IP', help: 'connect to the public IP: true|false (default: --enable-public-ip)', covers: ['Fargate.UsePublicIP'] },
    { flag: 'platform-version', env: 'PLATFORM_VERSION', help: 'Fargate platform version (default: LATEST)', covers: ['Fargate.PlatformVersion'] },
    { flag: 'cpu', env: 'TASK_CPU', help: "task CPU units for every job, with --memory (default: the task definition's)", covers: ['Fargate.Cpu'] },
    { flag: 'memory', env: 'TASK_MEMORY', help: 'task memory MiB for every job, a Fargate pair with --cpu', covers: ['Fargate.Memory'] },
    { flag: 'ephemeral-storage', env: 'TASK_EPHEMERAL_STORAGE', help: 'task ephemeral storage GiB (21-200)', covers: ['Fargate.EphemeralStorage'] },
    { flag: 'container-name', env: 'TASK_CONTAINER_NAME', help: 'container running sshd', default: () => JOB_CONTAINER_NAME, covers: ['Fargate.ContainerName'] },
    { flag: 'enable-execute-command', env: 'ENABLE_EXECUTE_COMMAND', help: 'enable ECS Exec on tasks: true|false', default: () => 'false', covers: ['Fargate.EnableExecuteCommand'] },
    { flag: 'capacity-provider-strategy', env: 'CAPACITY_PROVIDER_STRATEGY', help: 'NAME[:WEIGHT[:BASE]],… e.g. FARGATE_SPOT:1,FARGATE:0 (default: on-demand FARGATE)', covers: ['Fargate.CapacityProviderStrategy'] },
    { flag: 'on-demand-fallback', env: 'ON_DEMAND_FALLBACK', help: 'retry on FARGATE when Spot has no capacity: true|false', default: () => 'true', covers: ['Fargate.OnDemandFallback'] },
    { flag: 'tags', env: 'TASK_TAGS', help: 'task tags KEY=VALUE,… (at most 50)', covers: ['Fargate.Tags'] },
    { flag: 'propagate-tags', env: 'PROPAGATE_TAGS', help: "copy the task definition's tags: TASK_DEFINITION|NONE", default: () => 'NONE', covers: ['Fargate.PropagateTags'] },
    { flag: 'metadata-dir', env: 'METADATA_DIR', help: 'directory for per-job state files (must exist)', default: () => '/opt/gitlab-runner/metadata', covers: ['TaskMetadata'] },
    { flag: 'ssh-username', env: 'SSH_USERNAME', help: 'SSH user in the task', default: () => 'root', covers: ['SSH.Username'] },
    { flag: 'ssh-port', env: 'SSH_PORT', help: 'SSH port in the task', default: () => '22', covers: ['SSH.Port'] },
    { flag: 'log-level', env: 'LOG_LEVEL', help: 'trace|debug|info|warning|error|fatal|panic', default: () => 'info', covers: ['LogLevel'] },
    { flag: 'log-format', env: 'LOG_FORMAT', help: 'text|text-simple|json', default: () => 'text', covers: ['LogFormat'] },
    { flag: 'log-file', env: 'LOG_FILE', help: 'driver log file (default: stderr)', covers: ['LogFile'] },
    { flag: 'task-start-timeout', env: 'TASK_START_TIMEOUT', help: 'seconds from RunTask to RUNNING', covers: ['Timeouts.TaskStart'] },
    { flag: 'ssh-ready-timeout', env: 'SSH_READY_TIMEOUT', help: 'seconds from RUNNING to an SSH handshake', covers: ['Timeouts.SSHReady'] },
    { flag: 'allow-task-definitions', env: 'ALLOWED_TASK_DEFINITIONS', help: 'task definitions jobs may pick (FARGATE_TASK_DEFINITION), comma-separated, * wildcards', covers: ['Overrides.TaskDefinitions'] },
    { flag: 'allow-platform-versions', env: 'ALLOWED_PLATFORM_VERSIONS', help: 'platform versions jobs may pick (FARGATE_PLATFORM_VERSION)', covers: ['Overrides.PlatformVersions'] },
    { flag: 'max-cpu', env: 'MAX_CPU', help: 'highest CPU units a job may ask for (FARGATE_CPU)', covers: ['Overrides.MaxCpu'] },
    { flag: 'max-memory', env: 'MAX_MEMORY', help: 'highest memory MiB a job may ask for (FARGATE_MEMORY)', covers: ['Overrides.MaxMemory'] },
    { flag: 'max-ephemeral-storage', env: 'MAX_EPHEMERAL_STORAGE', help: 'highest ephemeral storage GiB a job may ask for', covers: ['Overrides.MaxEphemeralStorage'] },
    { flag: 'allow-spot', env: 'ALLOW_SPOT', help: 'let jobs choose Spot or on-demand (FARGATE_SPOT): true|false', default: () => 'false', covers: ['Overrides.AllowSpot'] },
    { flag: 'allow-cpu-architectures', env: 'ALLOWED_CPU_ARCHITECTURES', help: 'architectures jobs may pick (FARGATE_CPU_ARCHITECTURE): X86_64,ARM64', covers: ['Overrides.CpuArchitectures'] },
    { flag: 'job-images', env: 'JOB_IMAGES', help: "honour jobs' image: and services: true|false", default: () => 'false', covers: ['JobImages.Enabled'] },
    { flag: 'allowed-images', env: 'ALLOWED_IMAGES', help: 'images jobs may name, comma-separated doublestar patterns (none = every image)', covers: ['JobImages.AllowedImages'] },
    { flag: 'allowed-services', env: 'ALLOWED_SERVICES', help: 'service images jobs may name, likewise', covers: ['JobImages.AllowedServices'] },
    { flag: 'agent-image', env: 'JOB_AGENT_IMAGE', help: 'the job-agent image (required with --job-images true)', covers: ['JobImages.AgentImage'] },
    { flag: 'arm64-agent-image', env: 'ARM64_JOB_AGENT_IMAGE', help: "ARM64 jobs' job-agent image (default: --agent-image, then multi-platform)", covers: ['JobImages.Arm64AgentImage'] },
    { flag: 'registry-credentials', env: 'REGISTRY_CREDENTIALS', help: 'REGISTRY=SECRET_ARN,… private registries and their Secrets Manager secrets', covers: ['JobImages.RegistryCredentials'] },
    { flag: 'family-prefix', env: 'JOB_FAMILY_PREFIX', help: "derived task definitions' family prefix (default: the task definition's family + -job)", covers: ['JobImages.FamilyPrefix'] },
    { flag: 'unused-family-ttl', env: 'UNUSED_FAMILY_TTL', help: 'seconds a derived task definition may go unused before gc retires it (default 604800)', covers: ['JobImages.UnusedFamilyTTL'] },
    { flag: 'service-wait-timeout', env: 'SERVICE_WAIT_TIMEOUT', help: "seconds to wait for services' ports (default 30)", covers: ['JobImages.ServiceWaitTimeout'] },
    { flag: 'pools', env: 'POOLS', help: 'warm pools: a JSON array of [[Pool]] tables with their TOML keys, e.g. [{"Name":"default","IdleCount":2}]', covers: ['Pool'] },
    { flag: 'pool-directory', env: 'POOL_DIRECTORY', help: "the pool state directory (default: <metadata-dir>/pool)", covers: ['PoolSettings.Directory'] },
    { flag: 'pool-metrics-port', env: 'POOL_METRICS_PORT', help: "port of the pool keeper's Prometheus /metrics (default: none)", covers: ['PoolSettings.MetricsPort'] },
  ],
  build(values) {
    const fargate: Table = {};
    const ssh: Table = {};
    const timeouts: Table = {};
    const overrides: Table = {};
    const jobImages: Table = {};
    const document: Table = { Fargate: fargate, SSH: ssh, Timeouts: timeouts, Overrides: overrides, JobImages: jobImages };
    put(values, 'log-level', document, 'LogLevel');
    put(values, 'log-format', document, 'LogFormat');
    put(values, 'log-file', document, 'LogFile');
    put(values, 'cluster', fargate, 'Cluster');
    put(values, 'region', fargate, 'Region');
    put(values, 'subnets', fargate, 'Subnets', asList);
    put(values, 'security-groups', fargate, 'SecurityGroups', asList);
    put(values, 'task-definition', fargate, 'TaskDefinition');
    put(values, 'arm64-task-definition', fargate, 'Arm64TaskDefinition');
    put(values, 'enable-public-ip', fargate, 'EnablePublicIP', asBoolean);
    put(values, 'use-public-ip', fargate, 'UsePublicIP', asBoolean);
    put(values, 'platform-version', fargate, 'PlatformVersion');
    put(values, 'cpu', fargate, 'Cpu', asNumber);
    put(values, 'memory', fargate, 'Memory', asNumber);
    put(values, 'ephemeral-storage', fargate, 'EphemeralStorage', asNumber);
    put(values, 'container-name', fargate, 'ContainerName');
    put(values, 'enable-execute-command', fargate, 'EnableExecuteCommand', asBoolean);
    put(values, 'capacity-provider-strategy', fargate, 'CapacityProviderStrategy', asStrategy);
    put(values, 'on-demand-fallback', fargate, 'OnDemandFallback', asBoolean);
    put(values, 'tags', fargate, 'Tags', asTags);
    put(values, 'propagate-tags', fargate, 'PropagateTags');
    const directory = values.get('metadata-dir');
    if (directory !== undefined) document['TaskMetadata'] = { Directory: directory };
    put(values, 'ssh-username', ssh, 'Username');
    put(values, 'ssh-port', ssh, 'Port', asNumber);
    put(values, 'task-start-timeout', timeouts, 'TaskStart', asNumber);
    put(values, 'ssh-ready-timeout', timeouts, 'SSHReady', asNumber);
    put(values, 'allow-task-definitions', overrides, 'TaskDefinitions', asList);
    put(values, 'allow-platform-versions', overrides, 'PlatformVersions', asList);
    put(values, 'max-cpu', overrides, 'MaxCpu', asNumber);
    put(values, 'max-memory', overrides, 'MaxMemory', asNumber);
    put(values, 'max-ephemeral-storage', overrides, 'MaxEphemeralStorage', asNumber);
    put(values, 'allow-spot', overrides, 'AllowSpot', asBoolean);
    put(values, 'allow-cpu-architectures', overrides, 'CpuArchitectures', asList);
    put(values, 'job-images', jobImages, 'Enabled', asBoolean);
    put(values, 'allowed-images', jobImages, 'AllowedImages', asPatternList);
    put(values, 'allowed-services', jobImages, 'AllowedServices', asPatternList);
    put(values, 'agent-image', jobImages, 'AgentImage');
    put(values, 'arm64-agent-image', jobImages, 'Arm64AgentImage');
    put(values, 'registry-credentials', jobImages, 'RegistryCredentials', asRegistryCredentials);
    put(values, 'family-prefix', jobImages, 'FamilyPrefix');
    put(values, 'unused-family-ttl', jobImages, 'UnusedFamilyTTL', asNumber);
    put(values, 'service-wait-timeout', jobImages, 'ServiceWaitTimeout', asNumber);
    putPools(values, document);
    return { document };
  },
};

/** `[[Pool]]` from POOLS (JSON, so policies with cron periods survive), and the `[PoolSettings]` the keeper needs. */
function putPools(values: ReadonlyMap<string, string>, document: Table): void {
  const settings: Table = {};
  put(values, 'pools', document, 'Pool', asJson('pools'));
  put(values, 'pool-directory', settings, 'Directory');
  put(values, 'pool-metrics-port', settings, 'MetricsPort', asNumber);
  if (Object.keys(settings).length > 0) document['PoolSettings'] = settings;
}

const STAGES = ['config', 'prepare', 'run', 'cleanup'] as const;

export const RUNNER_INPUTS: RenderKind = {
  inputs: [
    { flag: 'url', env: 'GITLAB_URL', help: 'GitLab URL, e.g. https://gitlab.com/', required: true, covers: ['runners[0].url'] },
    { flag: 'token', env: 'RUNNER_TOKEN', help: 'runner authentication token glrt-… (never printed)', required: true, covers: ['runners[0].token'] },
    { flag: 'name', env: 'RUNNER_NAME', help: 'runner description (default: this host name)', default: () => hostname(), covers: ['runners[0].name'] },
    { flag: 'tags', env: 'RUNNER_TAGS', help: 'written as a comment only: with glrt- tokens, tags are set in GitLab', covers: [] },
    { flag: 'concurrent', env: 'CONCURRENT', help: 'jobs at once', default: () => '1', covers: ['concurrent'] },
    { flag: 'check-interval', env: 'CHECK_INTERVAL', help: 'seconds between job requests', default: () => '3', covers: ['check_interval'] },
    { flag: 'driver-path', env: 'DRIVER_PATH', help: 'the driver executable', default: () => '/usr/local/bin/gitlab-fargate-driver', covers: ['runners[0].custom'] },
    { flag: 'run-exec', env: 'RUN_EXEC_PATH', help: "run_exec only: the driver's native run client (default: the driver)", covers: ['runners[0].custom'] },
    { flag: 'cleanup-exec', env: 'CLEANUP_EXEC_PATH', help: "cleanup_exec only: the driver's native client (default: the driver)", covers: ['runners[0].custom'] },
    { flag: 'driver-config', env: 'DRIVER_CONFIG_PATH', help: "the driver's TOML", default: () => '/etc/gitlab-runner/fargate.toml', covers: ['runners[0].custom'] },
    { flag: 'builds-dir', env: 'BUILDS_DIR', help: 'builds_dir inside the job container, used as is (the driver does not override it); the job image must create it', default: () => DEFAULT_BUILDS_DIR, covers: ['runners[0].builds_dir'] },
    { flag: 'cache-dir', env: 'CACHE_DIR', help: 'cache_dir inside the job container, used as is, like --builds-dir', default: () => DEFAULT_CACHE_DIR, covers: ['runners[0].cache_dir'] },
    { flag: 'cache-s3-bucket', env: 'CACHE_S3_BUCKET', help: 'S3 bucket for the distributed cache (default: no cache)', covers: ['runners[0].cache'] },
    { flag: 'cache-s3-region', env: 'CACHE_S3_REGION', help: "the bucket's Region", covers: ['runners[0].cache.s3.BucketLocation'] },
    { flag: 'cache-s3-path', env: 'CACHE_S3_PATH', help: 'key prefix inside the bucket', covers: ['runners[0].cache.Path'] },
    { flag: 'cache-shared', env: 'CACHE_SHARED', help: 'share the cache between runners: true|false', default: () => 'false', covers: ['runners[0].cache.Shared'] },
  ],
  build(values) {
    const driver = values.get('driver-path');
    const driverConfig = values.get('driver-config') ?? '';
    const custom: Table = {};
    if (driver !== undefined) {
      for (const stage of STAGES) {
        // The native client (run and cleanup) takes the driver's arguments and falls back to the driver (packages/driver/native).
        const native = stage === 'run' || stage === 'cleanup' ? values.get(`${stage}-exec`) : undefined;
        custom[`${stage}_exec`] = native ?? driver;
        custom[`${stage}_args`] = ['--config', driverConfig, 'custom', stage];
      }
    }
    const runner: Table = { executor: 'custom', custom };
    put(values, 'url', runner, 'url');
    put(values, 'token', runner, 'token');
    put(values, 'name', runner, 'name');
    put(values, 'builds-dir', runner, 'builds_dir');
    put(values, 'cache-dir', runner, 'cache_dir');
    const bucket = values.get('cache-s3-bucket');
    if (bucket !== undefined) {
      const s3: Table = { BucketName: bucket, AuthenticationType: 'iam' };
      put(values, 'cache-s3-region', s3, 'BucketLocation');
      const cache: Table = { Type: 's3', s3 };
      put(values, 'cache-s3-path', cache, 'Path');
      put(values, 'cache-shared', cache, 'Shared', asBoolean);
      runner['cache'] = cache;
    }
    const document: Table = { runners: [runner] };
    put(values, 'concurrent', document, 'concurrent', asNumber);
    put(values, 'check-interval', document, 'check_interval', asNumber);
    const tags = asList(values.get('tags') ?? '');
    // One line, whatever the input: a newline in a tag must not end the comment.
    const header = tags.length === 0 ? undefined : `Runner tags (informational: with glrt- tokens, tags are set on the runner in GitLab): ${tags.join(', ').replace(/[\r\n]+/g, ' ')}`;
    return header === undefined ? { document } : { document, header };
  },
};
