import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { TaskImage } from '../images/task-image';
import { JobCapacity } from '../job/job-capacity';
import { JobTask } from '../job/job-task';
import { acknowledgeNag, ECR_AUTH_REASON, NAG_ARN_PREFIX, nagRef } from '../validation/nag';
import { looksLikeGitLabToken } from '../validation/secret-values';
import { fargateSizeProblem } from '../validation/fargate-sizes';
import { managerJobStatements, managerSettingsStatement, poolClaimStatement } from './manager-permissions';
import { CLEANUP_GRACE, managerSettings, RUNNER_ONLY_SETTINGS, START_ONLY_SETTINGS } from './manager-settings';
import { addPoolKeeper, POOL_DRIVER_CONFIG, poolProblems, poolSettings } from './pool-keeper';
import { PoolOptions } from './pool-options';
import { RunnerToken } from './runner-token';

/** The runner manager's own task: image, size and logging. */
export interface RunnerManagerOptions {
  /**
   * The manager image: gitlab-runner, `gitlab-fargate-driver` and an entrypoint that renders `config.toml` and the
   * driver's TOML from the environment variables this construct sets, built from `images/runner-manager`.
   */
  readonly image: TaskImage;

  /**
   * Task CPU units; see {@link JobTaskOptions.cpu} for the valid pairs.
   * @default 256
   */
  readonly cpu?: number;

  /**
   * Task memory in MiB.
   * @default 512
   */
  readonly memoryMiB?: number;

  /**
   * CPU architecture of the manager task (independent of the jobs').
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly architecture?: ecs.CpuArchitecture;

  /**
   * How long manager logs (gitlab-runner and driver diagnostics) and the manager controller's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Directory inside the manager container for the driver's per-job state files.
   * @default '/opt/gitlab-runner/metadata'
   */
  readonly metadataDirectory?: string;

  /**
   * How many managers run at once, with the same runner token (GitLab counts them as managers of one runner), spread
   * over the manager subnets' availability zones. Each takes up to `concurrent` jobs. A manager that dies loses only
   * its own jobs, and the manager controller replaces it within a minute or two. 1 to 10.
   * @default 2
   */
  readonly count?: number;

  /**
   * The longest a job may run (the highest job timeout of the projects using this runner). After an upgrade, an old
   * manager keeps running its jobs at most this long plus 10 minutes of cleanup before the manager controller stops
   * it and its job tasks.
   * @default Duration.hours(3)
   */
  readonly maxJobDuration?: Duration;

  /**
   * More plain environment variables for the manager container, e.g. `HTTPS_PROXY` or `LOG_LEVEL`.
   * Never put credentials here: values are written into the task definition.
   * @default - none
   */
  readonly extraEnvironment?: { [name: string]: string };

  /**
   * Warm pools of idle job tasks that jobs claim instead of starting a task (see the README's "Warm pools"). With
   * at least one, each manager task gets a second container, the pool keeper (`gitlab-fargate-driver pool keep`
   * from the same image), and the pools go into the settings parameter: changing them replaces no manager. Needs
   * `orphanReaper: { runnerShortToken }`. Idle tasks bill while they wait.
   * @default - none: no keeper, every job starts its own task
   */
  readonly pools?: PoolOptions[];
}

/** Properties of {@link RunnerManager}; {@link RunnerEnvironment} fills them in. */
export interface RunnerManagerProps extends RunnerManagerOptions {
  /** Names the settings parameter. */
  readonly environmentName: string;
  readonly vpc: ec2.IVpc;
  readonly cluster: ecs.ICluster;
  /** The job task definition this manager starts. */
  readonly job: JobTask;
  /** Where the runner authentication token is read from. */
  readonly runnerToken: RunnerToken;
  /** GitLab instance URL, e.g. `https://gitlab.com`. */
  readonly gitlabUrl: string;
  /** The runner's name in `config.toml`. */
  readonly runnerName: string;
  /** The runner's tags, recorded in `config.toml` (GitLab holds the real ones). */
  readonly runnerTags: string[];
  /** Jobs run at once (`concurrent`). */
  readonly concurrent: number;
  /** Subnets the driver starts job tasks in. */
  readonly jobSubnetIds: string[];
  /** The driver asks ECS for a public IP for each job task (`ENABLE_PUBLIC_IP`). */
  readonly assignPublicIpToJobs: boolean;
  /** The driver connects to job tasks' public IPs (`USE_PUBLIC_IP`). */
  readonly connectViaPublicIp: boolean;
  /** Capacity providers for job tasks. */
  readonly capacity: JobCapacity;
  /** Tags the driver puts on every job task at RunTask. */
  readonly taskTags: { [key: string]: string };
  /** Subnets of the manager task. */
  readonly subnets: ec2.SubnetSelection;
  /** Give the manager task a public IP (only in public subnets without a NAT gateway). */
  readonly assignPublicIp: boolean;
  /**
   * The runner's short token, given to the manager container as {@link RunnerManager.RUNNER_IDENTITY_VARIABLE}, so
   * that the driver's identity is the one the orphan reaper goes by.
   * @default - the image's entrypoint derives it from the runner token, as gitlab-runner does
   */
  readonly runnerShortToken?: string;
  /**
   * More settings for gitlab-runner's `config.toml` only, e.g. the cache's `CACHE_S3_BUCKET` (see {@link RunnerCache}):
   * they go into the settings parameter, so a change replaces no manager.
   * @default - none
   */
  readonly runnerSettings?: { [name: string]: string };
}

/**
 * The runner managers' task definition, role, security group, logs and settings parameter: gitlab-runner with the
 * custom executor, whose driver starts one job task per CI job in the environment's cluster. The tasks themselves are
 * started, spread and replaced by the {@link ManagerController}, not by an ECS service (see the README's "Managers").
 *
 * The settings that only change `config.toml` and the driver's TOML are not in the task definition but in the
 * {@link settingsParameter} (a JSON object), which the managers read at start and re-render from when it changes;
 * changing them replaces no manager. The parameter's `GITLAB_FARGATE_MANAGER_VERSION` is the task definition's ARN:
 * a manager whose own version (set by the controller at RunTask) differs stops taking jobs and exits once they end.
 */
export class RunnerManager extends Construct implements ec2.IConnectable {
  /** The manager container's name; the controller sets its version in it. */
  public static readonly CONTAINER_NAME = 'runner-manager';
  /** The manager container's variable naming the settings parameter. */
  public static readonly SETTINGS_PARAMETER_VARIABLE = 'GITLAB_FARGATE_SETTINGS_PARAMETER';
  /** The key of the settings parameter's JSON holding the current version, and the manager's own variable of it. */
  public static readonly VERSION_VARIABLE = 'GITLAB_FARGATE_MANAGER_VERSION';
  /** The manager's own ECS task ID, which its image exports for the driver (the job tasks' `gitlab-fargate:manager`). */
  public static readonly MANAGER_ID_VARIABLE = 'GITLAB_FARGATE_MANAGER_ID';
  /** The ECS secret that carries the runner authentication token into the manager container. */
  public static readonly TOKEN_VARIABLE = 'RUNNER_TOKEN';
  /**
   * The variable the driver takes the runner's identity from (its tasks' `startedBy`, which `gc` and the orphan
   * reaper go by), in gitlab-runner's own environment, where no job can change it: the driver's
   * `RUNNER_IDENTITY_VARIABLE` (a test checks that the names agree).
   */
  public static readonly RUNNER_IDENTITY_VARIABLE = 'GITLAB_FARGATE_RUNNER_SHORT_TOKEN';

  /**
   * The settings the managers render their configuration from, as one JSON object of strings: every variable of
   * {@link settings} but the start-only `METADATA_DIR` (a task definition variable), and `GITLAB_FARGATE_MANAGER_VERSION`.
   * The managers may read it, and nothing else may.
   */
  public readonly settingsParameter: ssm.StringParameter;
  /** How many managers the controller keeps running. */
  public readonly count: number;
  /** How long an old manager may keep running jobs after an upgrade (maxJobDuration + 10 minutes of cleanup). */
  public readonly drainTimeout: Duration;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The role the driver acts as: run, watch, tag and stop this environment's job tasks. */
  public readonly taskRole: iam.Role;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  public readonly connections: ec2.Connections;
  /** The settings the managers render from (everything but the token and the version). */
  public readonly settings: { [name: string]: string };
  /** The subset of {@link settings} that feeds the driver's TOML (what `gitlab-fargate-driver gc` needs). */
  public readonly driverSettings: { [name: string]: string };
  /** The image the manager runs, shared by the orphan reaper. */
  public readonly image: ecs.ContainerImage;
  /** The CPU architecture the manager image is built for. */
  public readonly architecture: ecs.CpuArchitecture;
  /** The pool keeper container, when {@link RunnerManagerOptions.pools} names a pool. */
  public readonly poolKeeper?: ecs.ContainerDefinition;

  constructor(scope: Construct, id: string, props: RunnerManagerProps) {
    super(scope, id);
    const cpu = props.cpu ?? 256;
    const memoryMiB = props.memoryMiB ?? 512;
    this.architecture = props.architecture ?? ecs.CpuArchitecture.X86_64;
    this.count = props.count ?? 2;
    this.drainTimeout = (props.maxJobDuration ?? Duration.hours(3)).plus(CLEANUP_GRACE);
    this.settings = managerSettings(this, {
      ...props,
      metadataDirectory: props.metadataDirectory ?? '/opt/gitlab-runner/metadata',
    });
    this.driverSettings = Object.fromEntries(
      Object.entries(this.settings).filter(([name]) => !RUNNER_ONLY_SETTINGS.includes(name)),
    );
    // The pools are the managers' only (the orphan reaper's gc needs none of them): after driverSettings.
    const pools = props.pools ?? [];
    this.settings = { ...this.settings, ...props.runnerSettings, ...(pools.length > 0 ? poolSettings(pools) : {}) };
    const problems = [...managerProblems(props, this.settings, cpu, memoryMiB, this.count), ...poolProblems(pools, props.runnerShortToken)];
    for (const problem of problems) {
      Annotations.of(this).addError(problem);
    }

    this.taskRole = new iam.Role(this, 'Task Role', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'GitLab runner manager: runs, watches and stops the job tasks of one environment.',
    });
    for (const statement of managerJobStatements(this, props)) this.taskRole.addToPrincipalPolicy(statement);
    // A name, not a reference: the parameter's value names this task definition, which names the parameter. A bad
    // environment name is a synth error of its own; here it must not make the parameter throw and hide the others.
    const parameterName = `/gitlab-fargate/${Stack.of(this).stackName}/${props.environmentName.replace(/[^A-Za-z0-9_.-]/g, '-')}/manager-settings`;
    this.taskRole.addToPrincipalPolicy(managerSettingsStatement(this, parameterName));
    if (pools.length > 0) this.taskRole.addToPrincipalPolicy(poolClaimStatement(this, props.cluster));

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.image = props.image.bind(this.architecture);
    this.taskDefinition = this.createTaskDefinition(props, { cpu, memoryMiB, parameterName });
    this.poolKeeper = this.addPoolKeeper(props, pools);
    this.settingsParameter = new ssm.StringParameter(this, 'Settings', {
      parameterName,
      description: `gitlab-fargate ${props.environmentName}: the runner managers' settings and current version (JSON)`,
      stringValue: Stack.of(this).toJsonString({
        ...Object.fromEntries(Object.entries(this.settings).filter(([name]) => !START_ONLY_SETTINGS.includes(name))),
        [RunnerManager.VERSION_VARIABLE]: this.taskDefinition.taskDefinitionArn,
      }),
    });
    acknowledgeManagerFindings(this, props);

    this.securityGroup = managerSecurityGroup(this, props);
    this.connections = this.securityGroup.connections;
    props.job.connections.allowFrom(this.securityGroup, ec2.Port.tcp(props.job.sshPort), 'SSH from the runner manager');
  }

  /** The task definition: the image, the token as a secret, and only what names the settings in its environment. */
  private createTaskDefinition(
    props: RunnerManagerProps, size: { cpu: number; memoryMiB: number; parameterName: string },
  ): ecs.FargateTaskDefinition {
    const definition = new ecs.FargateTaskDefinition(this, 'Definition', {
      cpu: size.cpu,
      memoryLimitMiB: size.memoryMiB,
      runtimePlatform: { cpuArchitecture: this.architecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
    });
    definition.addContainer('Manager', {
      containerName: RunnerManager.CONTAINER_NAME,
      image: this.image,
      essential: true,
      environment: {
        ...props.extraEnvironment,
        [RunnerManager.SETTINGS_PARAMETER_VARIABLE]: size.parameterName,
        ...Object.fromEntries(Object.entries(this.settings).filter(([name]) => START_ONLY_SETTINGS.includes(name))),
        // The settings parameter is read before anything is rendered: the SDKs and the CLI need the region first.
        AWS_REGION: Stack.of(this).region,
        ...(props.runnerShortToken === undefined ? {} : { [RunnerManager.RUNNER_IDENTITY_VARIABLE]: props.runnerShortToken }),
        // With pools, the driver's TOML lives on the volume the keeper shares, and is re-rendered in place there.
        ...((props.pools ?? []).length > 0 ? { DRIVER_CONFIG_PATH: POOL_DRIVER_CONFIG } : {}),
      },
      secrets: { [RunnerManager.TOKEN_VARIABLE]: props.runnerToken.bind(this) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'manager' }),
      // Fargate's maximum. An upgrade never stops a manager with running jobs (the controller waits for them); this is
      // for a StopTask by hand or at the drain deadline. ECS sends the image's STOPSIGNAL: gitlab-runner aborts jobs on
      // SIGTERM and only finishes them on SIGQUIT.
      stopTimeout: Duration.seconds(120),
    });
    return definition;
  }

  private addPoolKeeper(props: RunnerManagerProps, pools: PoolOptions[]): ecs.ContainerDefinition | undefined {
    if (pools.length === 0 || props.runnerShortToken === undefined) return undefined;
    return addPoolKeeper(this, this.taskDefinition, {
      image: this.image,
      manager: this.taskDefinition.findContainer(RunnerManager.CONTAINER_NAME)!,
      runnerShortToken: props.runnerShortToken,
      region: Stack.of(this).region,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
  }
}

/** HTTPS out (GitLab and AWS APIs), GitLab's own port when its URL names one; SSH to the jobs is added by the caller. */
function managerSecurityGroup(manager: RunnerManager, props: RunnerManagerProps): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(manager, 'Security Group', {
    vpc: props.vpc,
    description: 'GitLab runner manager: HTTPS to GitLab and AWS APIs, SSH to job tasks',
    allowAllOutbound: false,
  });
  group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'GitLab, ECS, ECR and CloudWatch APIs');
  const gitlabPort = explicitPort(props.gitlabUrl);
  if (gitlabPort !== undefined && gitlabPort !== 443) {
    group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(gitlabPort), 'GitLab on its own port');
  }
  return group;
}

/** The manager's cdk-nag findings that are by design, each with its reason. */
function acknowledgeManagerFindings(manager: RunnerManager, props: RunnerManagerProps): void {
  const account = `${NAG_ARN_PREFIX}ecs:<AWS::Region>:<AWS::AccountId>`;
  for (const definition of props.job.taskDefinitions) {
    acknowledgeNag(
      manager.taskRole,
      `AwsSolutions-IAM5[Resource::${account}:task-definition/${definition.family}:*]`,
      'RunTask on every revision of this environment\'s job task definition family only (the driver runs the latest ' +
        'ACTIVE revision), and only in this environment\'s cluster (ecs:cluster condition).',
    );
  }
  acknowledgeNag(
    manager.taskRole,
    `AwsSolutions-IAM5[Resource::${account}:task/${nagRef(props.cluster)}/*]`,
    'Job task ARNs are only known at run time: DescribeTasks, StopTask and TagResource are limited to the tasks of ' +
      'this environment\'s cluster, TagResource further to tagging at RunTask (ecs:CreateAction), and with pools to ' +
      'the two tag keys a warm claim sets on a running task (aws:TagKeys).',
  );
  acknowledgeNag(
    manager.taskRole,
    'AwsSolutions-IAM5[Resource::*]',
    'ecs:ListTasks is authorised against container instances, which Fargate has none of, so it is scoped with the ' +
      'ecs:cluster condition instead; ec2:DescribeNetworkInterfaces (only with connectViaPublicIp) has no ' +
      'resource-level permissions.',
  );
  acknowledgeNag(manager.taskDefinition.obtainExecutionRole(), 'AwsSolutions-IAM5[Resource::*]', ECR_AUTH_REASON);
  acknowledgeNag(
    manager.taskDefinition,
    'AwsSolutions-ECS2',
    'The manager\'s environment variables are non-secret settings (URLs, names, IDs) that its entrypoint renders ' +
      'into config files; the runner token is an ECS secret, and credentials in extraEnvironment are rejected.',
  );
}

function managerProblems(
  props: RunnerManagerProps,
  settings: { [name: string]: string },
  cpu: number,
  memoryMiB: number,
  count: number,
): string[] {
  const problems: string[] = [];
  if (!Token.isUnresolved(count) && !(Number.isInteger(count) && count >= 1 && count <= 10)) {
    problems.push(`manager count ${count} must be a whole number from 1 to 10 (the managers of one environment).`);
  }
  if (!Token.isUnresolved(cpu) && !Token.isUnresolved(memoryMiB)) {
    const size = fargateSizeProblem('manager task', cpu, memoryMiB);
    if (size) problems.push(size);
  }
  problems.push(...props.runnerToken.problems());
  for (const [name, value] of Object.entries(props.extraEnvironment ?? {})) {
    if (name === RunnerManager.RUNNER_IDENTITY_VARIABLE) {
      problems.push(
        `manager extraEnvironment ${name}: the runner's short token is set with orphanReaper: { runnerShortToken }, ` +
          'which gives the manager and the orphan reaper the same identity; without it the image derives it from the token.',
      );
    } else if (name === RunnerManager.TOKEN_VARIABLE || /TOKEN|PASSWORD|SECRET/i.test(name) || looksLikeGitLabToken(value)) {
      problems.push(
        `manager extraEnvironment ${name}: credentials must not be plain environment variables (they are written ` +
          'into the task definition). Pass the runner token with runnerToken: RunnerToken.fromSecretsManager(...) ' +
          'or RunnerToken.fromSsmSecureString(...).',
      );
    } else if (name in settings || CONSTRUCT_VARIABLES.includes(name) || (name === 'DRIVER_CONFIG_PATH' && (props.pools ?? []).length > 0)) {
      problems.push(`manager extraEnvironment ${name}: this variable is set by the construct; use its own option.`);
    }
  }
  const metadata = props.metadataDirectory;
  if (metadata !== undefined && !metadata.startsWith('/')) {
    problems.push(`manager metadataDirectory "${metadata}" must be an absolute path.`);
  }
  return problems;
}

/** The manager container's variables the construct (or the controller, or the image) sets, besides the settings. */
const CONSTRUCT_VARIABLES = [
  RunnerManager.SETTINGS_PARAMETER_VARIABLE,
  RunnerManager.VERSION_VARIABLE,
  RunnerManager.MANAGER_ID_VARIABLE,
  'AWS_REGION',
];

/** The port written in a URL, when there is one. */
function explicitPort(url: string | undefined): number | undefined {
  if (url === undefined || Token.isUnresolved(url)) return undefined;
  try {
    const port = new URL(url).port;
    return port === '' ? undefined : Number(port);
  } catch {
    return undefined;
  }
}
