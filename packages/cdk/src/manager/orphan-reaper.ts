import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { REAPER_FAILED_MARKER } from '../monitoring/metric-names';
import { acknowledgeNag, ECR_AUTH_REASON, NAG_ARN_PREFIX, nagRef } from '../validation/nag';
import { reaperStatements } from './manager-permissions';
import { CLEANUP_GRACE } from './manager-settings';
import { RunnerManager } from './runner-manager';

/** Options of the orphan reaper. */
export interface OrphanReaperOptions {
  /**
   * The runner's short token, as GitLab shows it: on the runner's page in Settings > CI/CD > Runners, and in every
   * job log's "Running with gitlab-runner ... on <name> <short token>" line: 1 to 9 letters, digits, `_` or `-` (the
   * token without its `glrt-` and `t3_` prefixes, cut to 9). It is not a secret (GitLab prints it in job logs), but it
   * is written in plain text into task definitions and logs, so a longer value, or one that starts like a token, is a
   * synth-time error. The driver tags each job task with it (ECS `startedBy`), which is how `gc` finds this runner's
   * tasks.
   */
  readonly runnerShortToken: string;

  /**
   * The longest a job may run (the highest job timeout of the projects using this runner), for job tasks that carry
   * no deadline tag. The driver tags each task at RunTask with `gitlab-fargate:deadline` (prepare's start + the
   * job's own timeout + 1 h grace, ISO 8601 UTC), and the reaper stops a tagged task only once that has passed,
   * however long the job's timeout. Only untagged tasks (started by a driver older than the deadline tag, or by a
   * job whose timeout the driver could not read) are stopped by age: once older than this plus ten minutes.
   * @default Duration.hours(3)
   */
  readonly maxJobDuration?: Duration;

  /**
   * How often the reaper runs.
   * @default events.Schedule.rate(Duration.minutes(15))
   */
  readonly schedule?: events.Schedule;
}

/** Properties of {@link OrphanReaper}. */
export interface OrphanReaperProps extends OrphanReaperOptions {
  readonly cluster: ecs.ICluster;
  /** The manager whose image and driver settings the reaper shares. */
  readonly manager: RunnerManager;
  /** Subnets of the reaper task. */
  readonly subnets: ec2.SubnetSelection;
  /** Give the reaper task a public IP (only in public subnets without a NAT gateway). */
  readonly assignPublicIp: boolean;
}

/**
 * The manager's settings the reaper must not get: its state directory. In the reaper's own task that folder is the
 * image's empty one, owned by gitlab-runner, so gc (run as root) would refuse it, or judge tasks by an empty folder.
 */
const MANAGER_ONLY_SETTINGS = ['METADATA_DIR'];

/**
 * The shell command of the reaper container: render the driver's TOML (the image's entrypoint would also render
 * gitlab-runner's config.toml, which needs the runner token; DRIVER_CONFIG_PATH is set by the runner-manager image),
 * then `gc --without-state` (ignore `[TaskMetadata] Directory`, go by deadline tag and age). On any failure it prints
 * {@link REAPER_FAILED_MARKER} for the monitoring's metric filter and exits with the failing command's status.
 */
function reaperCommand(minAgeSeconds: number): string {
  const render = 'gitlab-fargate-config render driver --out "$DRIVER_CONFIG_PATH"';
  const gc = `gitlab-fargate-driver --config "$DRIVER_CONFIG_PATH" gc --without-state --min-age ${minAgeSeconds}`;
  return `${render} && ${gc} || { status=$?; echo "${REAPER_FAILED_MARKER} (exit $status)" >&2; exit $status; }`;
}

/**
 * Stops job tasks nobody will clean up (a manager replaced mid-job, a cleanup stage that never ran): an
 * EventBridge-scheduled Fargate task running `gitlab-fargate-driver gc` from the manager image, with the manager's
 * driver settings.
 *
 * It renders only the driver's configuration, so it needs no runner token; and it runs with its own role, which may
 * only list, describe and stop the environment's tasks. It cannot see the manager's per-job state files, so it runs
 * `gc --without-state` (and gets no `METADATA_DIR`) and goes by each task's `gitlab-fargate:deadline` tag, which the
 * driver sets at RunTask from the job's own timeout (gc reads it with DescribeTasks `include: ['TAGS']`, which needs
 * no permission beyond `ecs:DescribeTasks`): a tagged task is stopped once its deadline has passed. Tasks without
 * the tag (older drivers) are stopped once older than `--min-age` = {@link OrphanReaperOptions.maxJobDuration} + 10
 * minutes. When rendering or gc fails, the container prints a line starting `gitlab-fargate orphan reaper failed`
 * and exits non-zero; `RunnerMonitoring` alarms on it.
 */
export class OrphanReaper extends Construct {
  public readonly rule: events.Rule;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly taskRole: iam.Role;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The shell command the reaper container runs. */
  public readonly command: string;

  constructor(scope: Construct, id: string, props: OrphanReaperProps) {
    super(scope, id);
    const minAge = (props.maxJobDuration ?? Duration.hours(3)).plus(CLEANUP_GRACE).toSeconds();

    this.taskRole = new iam.Role(this, 'Task Role', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'gitlab-fargate-driver gc: finds and stops orphaned job tasks of one environment.',
    });
    for (const statement of reaperStatements(this, props.cluster)) this.taskRole.addToPrincipalPolicy(statement);

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Definition', {
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: {
        cpuArchitecture: props.manager.architecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole: this.taskRole,
    });
    this.command = reaperCommand(minAge);
    this.taskDefinition.addContainer('Reaper', {
      containerName: 'orphan-reaper',
      image: props.manager.image,
      // -g: the shell stays to report a failure, so tini signals its whole process group (gc too), not the shell only.
      entryPoint: ['/usr/bin/tini', '-g', '--', '/bin/sh', '-c'],
      command: [this.command],
      environment: {
        ...Object.fromEntries(
          Object.entries(props.manager.driverSettings).filter(([name]) => !MANAGER_ONLY_SETTINGS.includes(name)),
        ),
        // The driver's trusted runner identity, as the manager's driver has it (RunnerEnvironment gives both the same
        // value); gc matches it against the tasks' startedBy.
        [RunnerManager.RUNNER_IDENTITY_VARIABLE]: props.runnerShortToken,
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.manager.logGroup, streamPrefix: 'orphan-reaper' }),
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'Security Group', {
      vpc: props.cluster.vpc,
      description: 'gitlab-fargate-driver gc: HTTPS to the ECS API only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'ECS, ECR and CloudWatch APIs');

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs gitlab-fargate-driver gc to stop orphaned CI job tasks',
      schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(15)),
    });
    this.rule.addTarget(
      new targets.EcsTask({
        cluster: props.cluster,
        taskDefinition: this.taskDefinition,
        launchType: ecs.LaunchType.FARGATE,
        subnetSelection: props.subnets,
        securityGroups: [this.securityGroup],
        assignPublicIp: props.assignPublicIp,
      }),
    );
    this.acknowledgeFindings(props.cluster);
  }

  private acknowledgeFindings(cluster: ecs.ICluster): void {
    const tasks = `task/${nagRef(cluster)}/*`;
    acknowledgeNag(
      this.taskRole,
      `AwsSolutions-IAM5[Resource::${NAG_ARN_PREFIX}ecs:<AWS::Region>:<AWS::AccountId>:${tasks}]`,
      "The reaper looks at and stops tasks it cannot know in advance: only the tasks of this environment's cluster.",
    );
    acknowledgeNag(
      this.taskRole,
      'AwsSolutions-IAM5[Resource::*]',
      'ecs:ListTasks is authorised against container instances, which Fargate has none of, so it is scoped with the ' +
        'ecs:cluster condition instead.',
    );
    acknowledgeNag(this.taskDefinition.obtainExecutionRole(), 'AwsSolutions-IAM5[Resource::*]', ECR_AUTH_REASON);
    // The EventBridge role is aws-events-targets.EcsTask's own; its TagResource statement leaves the account open.
    acknowledgeNag(
      this.taskDefinition,
      `AwsSolutions-IAM5[Resource::${NAG_ARN_PREFIX}ecs:<AWS::Region>:*:${tasks}]`,
      "Written by aws-events-targets.EcsTask for the scheduled RunTask's tags: it names this cluster's tasks only.",
    );
    acknowledgeNag(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      "The reaper gets the driver's non-secret settings (names, IDs) and the runner's short token, which GitLab " +
        'prints in every job log; it receives no runner token or other credential.',
    );
  }
}
