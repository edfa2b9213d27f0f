import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ECR_AUTH_REASON } from '../job/job-task';
import { acknowledgeNag, NAG_ARN_PREFIX, nagRef } from '../validation/nag';
import { reaperStatements } from './manager-permissions';
import { RunnerManager } from './runner-manager';

/** Properties of {@link OrphanReaper}. */
export interface OrphanReaperProps {
  readonly cluster: ecs.ICluster;
  /** The manager whose image and settings the reaper shares. */
  readonly manager: RunnerManager;
  /** Subnets of the reaper task. */
  readonly subnets: ec2.SubnetSelection;
  /** Give the reaper task a public IP (only in public subnets without a NAT gateway). */
  readonly assignPublicIp: boolean;

  /**
   * How often the reaper runs.
   * @default events.Schedule.rate(Duration.minutes(15))
   */
  readonly schedule?: events.Schedule;

  /**
   * The reaper's command in the manager image.
   * @default ['gitlab-fargate-driver', 'gc']
   */
  readonly command?: string[];
}

/**
 * Stops job tasks nobody will clean up (a manager restarted mid-job, a cleanup stage that never ran): an
 * EventBridge-scheduled Fargate task running `gitlab-fargate-driver gc` from the manager image with the manager's
 * settings.
 *
 * It runs with its own role, which may only list, describe and stop the environment's tasks, and without the runner
 * token, which `gc` does not need.
 */
export class OrphanReaper extends Construct {
  public readonly rule: events.Rule;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly taskRole: iam.Role;
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: OrphanReaperProps) {
    super(scope, id);
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
    this.taskDefinition.addContainer('Reaper', {
      containerName: 'orphan-reaper',
      image: props.manager.image,
      command: props.command ?? ['gitlab-fargate-driver', 'gc'],
      environment: props.manager.settings,
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
      'The reaper looks at and stops tasks it cannot know in advance: only the tasks of this environment\'s cluster.',
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
      'Written by aws-events-targets.EcsTask for the scheduled RunTask\'s tags: it names this cluster\'s tasks only.',
    );
    acknowledgeNag(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      'The reaper shares the manager\'s non-secret settings (names, IDs); it receives no token or other credential.',
    );
  }
}
