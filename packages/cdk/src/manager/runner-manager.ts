import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TaskImage } from '../images/task-image';
import { JobCapacity } from '../job/job-capacity';
import { JobTask } from '../job/job-task';
import { acknowledgeNag, ECR_AUTH_REASON, NAG_ARN_PREFIX, nagRef } from '../validation/nag';
import { looksLikeGitLabToken } from '../validation/secret-values';
import { fargateSizeProblem } from '../validation/fargate-sizes';
import { managerJobStatements } from './manager-permissions';
import { managerSettings, RUNNER_ONLY_SETTINGS } from './manager-settings';
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
   * How long manager logs (gitlab-runner and driver diagnostics) are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Directory inside the manager container for the driver's per-job state files.
   * @default '/opt/gitlab-runner/metadata'
   */
  readonly metadataDirectory?: string;

  /**
   * More plain environment variables for the manager container, e.g. `HTTPS_PROXY` or `LOG_LEVEL`.
   * Never put credentials here: values are written into the task definition.
   * @default - none
   */
  readonly extraEnvironment?: { [name: string]: string };
}

/** Properties of {@link RunnerManager}; {@link RunnerEnvironment} fills them in. */
export interface RunnerManagerProps extends RunnerManagerOptions {
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
}

/**
 * The runner manager: an ECS service of one Fargate task running gitlab-runner with the custom executor, whose
 * driver starts one job task per CI job in the environment's cluster.
 */
export class RunnerManager extends Construct implements ec2.IConnectable {
  /** The ECS secret that carries the runner authentication token into the manager container. */
  public static readonly TOKEN_VARIABLE = 'RUNNER_TOKEN';
  /**
   * The variable the driver takes the runner's identity from (its tasks' `startedBy`, which `gc` and the orphan
   * reaper go by), in gitlab-runner's own environment, where no job can change it: the driver's
   * `RUNNER_IDENTITY_VARIABLE` (a test checks that the names agree).
   */
  public static readonly RUNNER_IDENTITY_VARIABLE = 'GITLAB_FARGATE_RUNNER_SHORT_TOKEN';

  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The role the driver acts as: run, watch, tag and stop this environment's job tasks. */
  public readonly taskRole: iam.Role;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  public readonly connections: ec2.Connections;
  /** The plain environment variables of the manager container (everything but the token). */
  public readonly settings: { [name: string]: string };
  /** The subset of {@link settings} that feeds the driver's TOML (what `gitlab-fargate-driver gc` needs). */
  public readonly driverSettings: { [name: string]: string };
  /** The image the manager runs, shared by the orphan reaper. */
  public readonly image: ecs.ContainerImage;
  /** The CPU architecture the manager image is built for. */
  public readonly architecture: ecs.CpuArchitecture;

  constructor(scope: Construct, id: string, props: RunnerManagerProps) {
    super(scope, id);
    const cpu = props.cpu ?? 256;
    const memoryMiB = props.memoryMiB ?? 512;
    const architecture = props.architecture ?? ecs.CpuArchitecture.X86_64;
    this.architecture = architecture;
    this.settings = managerSettings(this, {
      ...props,
      metadataDirectory: props.metadataDirectory ?? '/opt/gitlab-runner/metadata',
    });
    this.driverSettings = Object.fromEntries(
      Object.entries(this.settings).filter(([name]) => !RUNNER_ONLY_SETTINGS.includes(name)),
    );
    for (const problem of managerProblems(props, this.settings, cpu, memoryMiB)) {
      Annotations.of(this).addError(problem);
    }

    this.taskRole = new iam.Role(this, 'Task Role', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'GitLab runner manager: runs, watches and stops the job tasks of one environment.',
    });
    for (const statement of managerJobStatements(this, props)) this.taskRole.addToPrincipalPolicy(statement);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.image = props.image.bind(architecture);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Definition', {
      cpu,
      memoryLimitMiB: memoryMiB,
      runtimePlatform: { cpuArchitecture: architecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
    });
    this.taskDefinition.addContainer('Manager', {
      containerName: 'runner-manager',
      image: this.image,
      essential: true,
      environment: {
        ...props.extraEnvironment,
        ...this.settings,
        ...(props.runnerShortToken === undefined ? {} : { [RunnerManager.RUNNER_IDENTITY_VARIABLE]: props.runnerShortToken }),
      },
      secrets: { [RunnerManager.TOKEN_VARIABLE]: props.runnerToken.bind(this) },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'manager' }),
      // Fargate's maximum, for gitlab-runner's shutdown and the driver's cleanup stages that stop job tasks. ECS sends
      // the image's STOPSIGNAL: gitlab-runner aborts jobs on SIGTERM and only finishes them on SIGQUIT.
      stopTimeout: Duration.seconds(120),
    });

    acknowledgeManagerFindings(this, props);

    this.securityGroup = new ec2.SecurityGroup(this, 'Security Group', {
      vpc: props.vpc,
      description: 'GitLab runner manager: HTTPS to GitLab and AWS APIs, SSH to job tasks',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'GitLab, ECS, ECR and CloudWatch APIs');
    const gitlabPort = explicitPort(props.gitlabUrl);
    if (gitlabPort !== undefined && gitlabPort !== 443) {
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(gitlabPort), 'GitLab on its own port');
    }
    this.connections = this.securityGroup.connections;
    props.job.connections.allowFrom(this.securityGroup, ec2.Port.tcp(props.job.sshPort), 'SSH from the runner manager');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 1,
      // The manager itself must not be interrupted by Spot reclaims, whatever the jobs use.
      capacityProviderStrategies: [{ capacityProvider: 'FARGATE', weight: 1 }],
      circuitBreaker: { enable: true, rollback: true },
      // The new manager starts before the old one stops, so jobs keep being picked up during a deployment.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      assignPublicIp: props.assignPublicIp,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
  }
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
      'this environment\'s cluster, TagResource further to tagging at RunTask (ecs:CreateAction).',
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
): string[] {
  const problems: string[] = [];
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
    } else if (name in settings) {
      problems.push(`manager extraEnvironment ${name}: this variable is set by the construct; use its own option.`);
    }
  }
  const metadata = props.metadataDirectory;
  if (metadata !== undefined && !metadata.startsWith('/')) {
    problems.push(`manager metadataDirectory "${metadata}" must be an absolute path.`);
  }
  return problems;
}

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
