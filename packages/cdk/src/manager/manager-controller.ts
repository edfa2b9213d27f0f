import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeNag, ECR_AUTH_REASON, NAG_ARN_PREFIX, nagRef } from '../validation/nag';
import { controllerStatements } from './manager-permissions';
import { RunnerManager } from './runner-manager';

/** Properties of {@link ManagerController}; {@link RunnerEnvironment} fills them in. */
export interface ManagerControllerProps {
  readonly cluster: ecs.ICluster;
  /** The managers to keep running. */
  readonly manager: RunnerManager;
  /** The subnets the managers are spread over, one per availability zone. */
  readonly managerSubnetIds: string[];
  /** Subnets of the controller's own task. */
  readonly subnets: ec2.SubnetSelection;
  /** Give the managers and the controller a public IP (only in public subnets without a NAT gateway). */
  readonly assignPublicIp: boolean;
}

/**
 * Keeps the environment's runner managers running and upgrades them without losing a job: an EventBridge rule runs
 * `gitlab-fargate-driver managers reconcile` from the manager image every minute, in a Fargate task of its own. Each
 * pass keeps {@link RunnerManager.count} managers of the current task definition revision running, spread over the
 * manager subnets; stops an old manager only once its job tasks are gone (or its drain deadline has passed, then
 * with its job tasks); and stops at once the job tasks of a manager that died. A deploy only registers a new revision
 * and writes the settings parameter, so it returns at once, even when it runs on a manager it replaces.
 */
export class ManagerController extends Construct {
  /**
   * The tag the controller puts on a manager it first finds old (the driver's `DRAIN_STARTED_TAG`); its role may put
   * no other tag on a running task.
   */
  public static readonly DRAIN_STARTED_TAG = 'gitlab-fargate:drain-started';

  public readonly rule: events.Rule;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly taskRole: iam.Role;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The controller container's environment (its settings; `managers reconcile --help` lists them). */
  public readonly environment: { [name: string]: string };

  constructor(scope: Construct, id: string, props: ManagerControllerProps) {
    super(scope, id);
    const { manager, cluster } = props;
    this.taskRole = new iam.Role(this, 'Task Role', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'gitlab-fargate manager controller: starts, drains and stops the runner managers of one environment.',
    });
    const managerRoles = [manager.taskRole, manager.taskDefinition.obtainExecutionRole()];
    const statements = controllerStatements(this, {
      cluster, managerFamily: manager.taskDefinition.family, managerRoles, drainStartedTag: ManagerController.DRAIN_STARTED_TAG,
    });
    for (const statement of statements) this.taskRole.addToPrincipalPolicy(statement);

    this.environment = {
      CLUSTER: cluster.clusterName,
      AWS_REGION: Stack.of(this).region,
      MANAGER_TASK_DEFINITION: manager.taskDefinition.taskDefinitionArn,
      MANAGER_CONTAINER_NAME: RunnerManager.CONTAINER_NAME,
      MANAGER_COUNT: String(manager.count),
      MANAGER_SUBNETS: Fn.join(',', props.managerSubnetIds),
      MANAGER_SECURITY_GROUP_IDS: manager.securityGroup.securityGroupId,
      MANAGER_ASSIGN_PUBLIC_IP: String(props.assignPublicIp),
      MANAGER_DRAIN_TIMEOUT_SECONDS: String(manager.drainTimeout.toSeconds()),
    };
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Definition', {
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: { cpuArchitecture: manager.architecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
    });
    this.taskDefinition.addContainer('Controller', {
      containerName: 'manager-controller',
      image: manager.image,
      entryPoint: ['/usr/bin/tini', '--', 'gitlab-fargate-driver', 'managers', 'reconcile'],
      environment: this.environment,
      logging: ecs.LogDrivers.awsLogs({ logGroup: manager.logGroup, streamPrefix: 'manager-controller' }),
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'Security Group', {
      vpc: cluster.vpc,
      description: 'gitlab-fargate manager controller: HTTPS to the ECS API only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'ECS, ECR and CloudWatch APIs');
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs gitlab-fargate-driver managers reconcile: keeps the runner managers running, drains old ones',
      schedule: events.Schedule.rate(Duration.minutes(1)),
    });
    this.rule.addTarget(
      new targets.EcsTask({
        cluster,
        taskDefinition: this.taskDefinition,
        launchType: ecs.LaunchType.FARGATE,
        subnetSelection: props.subnets,
        securityGroups: [this.securityGroup],
        assignPublicIp: props.assignPublicIp,
      }),
    );
    this.acknowledgeFindings(cluster, manager);
  }

  private acknowledgeFindings(cluster: ecs.ICluster, manager: RunnerManager): void {
    const account = `${NAG_ARN_PREFIX}ecs:<AWS::Region>:<AWS::AccountId>`;
    const tasks = `task/${nagRef(cluster)}/*`;
    acknowledgeNag(
      this.taskRole,
      `AwsSolutions-IAM5[Resource::${account}:task-definition/${manager.taskDefinition.family}:*]`,
      "RunTask on the manager family only (the controller runs the revision it is given), in this environment's " +
        'cluster only (ecs:cluster condition).',
    );
    acknowledgeNag(
      this.taskRole,
      `AwsSolutions-IAM5[Resource::${account}:${tasks}]`,
      "Manager and job task ARNs are only known at run time: only this environment's cluster's tasks; tagging only " +
        'at RunTask (ecs:CreateAction) or with the drain tag alone (aws:TagKeys).',
    );
    acknowledgeNag(
      this.taskRole,
      'AwsSolutions-IAM5[Resource::*]',
      'ecs:ListTasks is authorised against container instances, which Fargate has none of, so it is scoped with the ' +
        'ecs:cluster condition instead.',
    );
    acknowledgeNag(this.taskDefinition.obtainExecutionRole(), 'AwsSolutions-IAM5[Resource::*]', ECR_AUTH_REASON);
    acknowledgeNag(
      this.taskDefinition,
      `AwsSolutions-IAM5[Resource::${NAG_ARN_PREFIX}ecs:<AWS::Region>:*:${tasks}]`,
      "Written by aws-events-targets.EcsTask for the scheduled RunTask's tags: it names this cluster's tasks only.",
    );
    acknowledgeNag(
      this.taskDefinition,
      'AwsSolutions-ECS2',
      "The controller's environment holds names and IDs (cluster, task definition, subnets, security group) and " +
        'numbers; no credential.',
    );
  }
}
