import { DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR, parseDriverConfig, parseRunnerConfig } from '@gitlab-fargate/config';

/** What the driver TOML of a local stack says. */
export interface LocalDriverSettings {
  readonly cluster: string;
  readonly region: string;
  readonly taskDefinition: string;
  readonly metadataDirectory: string;
  /** Extra TOML appended to the `[Fargate]` table, e.g. a capacity-provider strategy. */
  readonly fargateExtra?: string;
  /** Extra TOML tables appended at the end, e.g. `[Timeouts]` or `[Overrides]`. */
  readonly extraTables?: string;
  /** The job-agent image: writes `[JobImages] Enabled = true, AgentImage = …` (honour jobs' `image:` and `services:`). */
  readonly jobAgentImage?: string;
  /** Extra keys of the `[JobImages]` table (with {@link jobAgentImage}), e.g. `AllowedImages = ["local/*"]`. */
  readonly jobImagesExtra?: string;
}

/** The `[JobImages]` table, when the stack honours job images. */
function jobImagesTable(settings: LocalDriverSettings): string {
  if (settings.jobAgentImage === undefined) return '';
  return `
[JobImages]
  Enabled = true
  AgentImage = ${JSON.stringify(settings.jobAgentImage)}
${settings.jobImagesExtra ?? ''}`;
}

/** The prefixes of the placeholder token: a runner authentication token (`glrt-`) of partition 1 (`t1_`). */
const LOCAL_RUNNER_TOKEN_PREFIX = 'glrt-t1_';
/** A placeholder runner authentication token for config.toml: nothing here talks to GitLab. */
export const LOCAL_RUNNER_TOKEN = `${LOCAL_RUNNER_TOKEN_PREFIX}localstackplaceholder`;
/**
 * The short token gitlab-runner derives from {@link LOCAL_RUNNER_TOKEN} (helpers/shorten_token.go: without the
 * prefixes, 9 characters): the job's `CI_RUNNER_SHORT_TOKEN`, and the driver's runner identity here.
 */
export const LOCAL_RUNNER_SHORT_TOKEN = LOCAL_RUNNER_TOKEN.slice(LOCAL_RUNNER_TOKEN_PREFIX.length, LOCAL_RUNNER_TOKEN_PREFIX.length + 9);

// Any well-formed ids do: the emulator checks their shape, as AWS's validation does, not their existence.
const subnets = ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a60718'];
const securityGroup = 'sg-0123456789abcdef0';

/**
 * The driver TOML for a local stack, validated strictly (unknown keys too) with the config package so a mistake
 * here fails loudly at start rather than in the middle of a job.
 */
export function localDriverToml(settings: LocalDriverSettings): string {
  const text = `# Driver configuration of a local gitlab-fargate stack (ECS emulator on 127.0.0.1).
LogLevel = "info"
LogFormat = "text"

[Fargate]
  Cluster = "${settings.cluster}"
  Region = "${settings.region}"
  Subnets = ["${subnets.join('", "')}"]
  SecurityGroups = ["${securityGroup}"]
  TaskDefinition = "${settings.taskDefinition}"
  EnablePublicIP = false
${settings.fargateExtra ?? ''}
[Fargate.Tags]
  "gitlab-fargate:stack" = "local"

[TaskMetadata]
  Directory = "${settings.metadataDirectory}"

[SSH]
  Username = "root"
  Port = 22

[Timeouts]
  TaskStart = 120
  SSHReady = 60
  TaskPollInterval = 0.5
  SSHPollInterval = 0.1
${jobImagesTable(settings)}${settings.extraTables ?? ''}`;
  // Strict: an unknown key is only a warning for users' files, but a typo in what this tool writes is a bug.
  parseDriverConfig(text, { file: 'local-stack driver TOML', strict: true });
  return text;
}

/** How gitlab-runner should call the driver: the executable and the arguments before `custom <stage>`. */
export interface DriverInvocation {
  readonly executable: string;
  readonly leadingArgs: readonly string[];
}

/** A runner config.toml whose custom executor calls the driver with the given TOML, validated. */
export function localRunnerToml(driver: DriverInvocation, driverConfigPath: string, name = 'local-fargate'): string {
  const stage = (verb: string) => {
    const args = [...driver.leadingArgs, '--config', driverConfigPath, 'custom', verb].map((a) => JSON.stringify(a));
    return `    ${verb}_exec = ${JSON.stringify(driver.executable)}\n    ${verb}_args = [${args.join(', ')}]`;
  };
  const text = `# gitlab-runner config.toml of a local gitlab-fargate stack.
concurrent = 50
check_interval = 3

[[runners]]
  name = "${name}"
  url = "https://gitlab.example.com/"
  # A placeholder runner authentication token: nothing here talks to GitLab.
  token = "${LOCAL_RUNNER_TOKEN}"
  executor = "custom"
  # The only place the job's folders are set (the driver's config stage prints none); the job image creates them.
  builds_dir = ${JSON.stringify(DEFAULT_BUILDS_DIR)}
  cache_dir = ${JSON.stringify(DEFAULT_CACHE_DIR)}
  [runners.custom]
${stage('config')}
${stage('prepare')}
${stage('run')}
${stage('cleanup')}
    graceful_kill_timeout = 30
    force_kill_timeout = 10
`;
  parseRunnerConfig(text, { file: 'local-stack runner config.toml', strict: true });
  return text;
}
