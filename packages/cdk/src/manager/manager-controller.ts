import * as fs from 'fs';
import * as path from 'path';
import { Duration, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeNag, NAG_ARN_PREFIX, nagRef } from '../validation/nag';
import { controllerStatements } from './manager-permissions';
import { RunnerManager } from './runner-manager';

/**
 * The function's code: the driver's reconcile pass and its AWS SDK clients, bundled into one ES module by
 * `scripts/bundle-controller.mjs` (the compile task runs it) and shipped in the npm package.
 */
const ASSET_DIRECTORY = path.join(__dirname, '..', '..', 'assets', 'manager-controller');

/** Properties of {@link ManagerController}; {@link RunnerEnvironment} fills them in. */
export interface ManagerControllerProps {
  readonly cluster: ecs.ICluster;
  /** The managers to keep running. */
  readonly manager: RunnerManager;
  /** The subnets the managers are spread over, one per availability zone. */
  readonly managerSubnetIds: string[];
  /**
   * Ignored: the controller is a Lambda function outside the VPC (it only calls the ECS API).
   * @default - none
   * @deprecated the controller no longer runs in a subnet; pass nothing
   */
  readonly subnets?: ec2.SubnetSelection;
  /** Give the managers a public IP (only in public subnets without a NAT gateway). */
  readonly assignPublicIp: boolean;
  /**
   * How long the controller's log group keeps its lines.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Keeps the environment's runner managers running and upgrades them without losing a job: an EventBridge rule invokes
 * a Lambda function every minute, and each invocation is one pass of the driver's `managers reconcile`. Each pass
 * keeps {@link RunnerManager.count} managers of the current task definition revision running, spread over the
 * manager subnets; stops an old (or surplus) manager only once its job tasks are gone (or its drain deadline has
 * passed, then with its job tasks); stops at once the job tasks of a manager that died; and counts the current
 * revision's managers that crashed (metric `GitLabFargate` `ManagerCrashes`, dimension `Cluster`). A deploy only
 * registers a new revision and writes the settings parameter, so it returns at once, even when it runs on a manager
 * it replaces.
 *
 * The function runs outside the VPC (no subnet, no security group, no image pull), one invocation at a time (reserved
 * concurrency 1), and fails an invocation whenever a pass failed, which its `Errors` metric counts.
 */
export class ManagerController extends Construct {
  /**
   * The tag the controller puts on a manager it first finds old (the driver's `DRAIN_STARTED_TAG`); its role may put
   * no other tag on a running task.
   */
  public static readonly DRAIN_STARTED_TAG = 'gitlab-fargate:drain-started';

  /** The every-minute schedule. */
  public readonly rule: events.Rule;
  /** The function that runs one reconcile pass per invocation. */
  public readonly reconcileFunction: lambda.Function;
  /** The function's role: the controller's permissions, and writing its log group. */
  public readonly role: iam.Role;
  /** Where the function logs each pass (`gitlab-fargate manager controller failed` lines when one failed). */
  public readonly logGroup: logs.LogGroup;
  /** The function's environment (its settings; `managers reconcile --help` lists them). */
  public readonly environment: { [name: string]: string };

  constructor(scope: Construct, id: string, props: ManagerControllerProps) {
    super(scope, id);
    const { manager, cluster } = props;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'gitlab-fargate manager controller: starts, drains and stops the runner managers of one environment.',
    });
    const managerRoles = [manager.taskRole, manager.taskDefinition.obtainExecutionRole()];
    const statements = controllerStatements(this, {
      cluster, managerFamily: manager.taskDefinition.family, managerRoles, drainStartedTag: ManagerController.DRAIN_STARTED_TAG,
    });
    for (const statement of statements) this.role.addToPrincipalPolicy(statement);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    this.logGroup.grantWrite(this.role);

    this.environment = {
      CLUSTER: cluster.clusterName,
      MANAGER_TASK_DEFINITION: manager.taskDefinition.taskDefinitionArn,
      MANAGER_CONTAINER_NAME: RunnerManager.CONTAINER_NAME,
      MANAGER_COUNT: String(manager.count),
      MANAGER_SUBNETS: Fn.join(',', props.managerSubnetIds),
      MANAGER_SECURITY_GROUP_IDS: manager.securityGroup.securityGroupId,
      MANAGER_ASSIGN_PUBLIC_IP: String(props.assignPublicIp),
      MANAGER_DRAIN_TIMEOUT_SECONDS: String(manager.drainTimeout.toSeconds()),
    };
    this.reconcileFunction = this.createFunction();
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs one gitlab-fargate managers reconcile pass: keeps the runner managers running, drains old ones',
      schedule: events.Schedule.rate(Duration.minutes(1)),
    });
    // EventBridge retries a failed delivery within the minute, never later: the next minute's pass does the same work.
    this.rule.addTarget(new targets.LambdaFunction(this.reconcileFunction, { maxEventAge: Duration.minutes(1), retryAttempts: 2 }));
    this.acknowledgeFindings(cluster, manager);
  }

  private createFunction(): lambda.Function {
    if (!fs.existsSync(path.join(ASSET_DIRECTORY, 'index.mjs'))) {
      throw new Error(
        `The manager controller's code is missing from ${ASSET_DIRECTORY}: build it with \`npx projen compile\` in ` +
          'packages/cdk (node scripts/bundle-controller.mjs), or reinstall @gitlab-fargate/cdk.',
      );
    }
    return new lambda.Function(this, 'Function', {
      description: 'gitlab-fargate manager controller: one managers reconcile pass per invocation',
      code: lambda.Code.fromAsset(ASSET_DIRECTORY),
      handler: 'index.handler',
      // The latest Node.js line Lambda offers (the bundle targets Node.js 20 and later); pure JavaScript, so Graviton.
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // Under the schedule's minute, so that one pass ends before the next begins.
      timeout: Duration.seconds(50),
      // One pass at a time: EventBridge delivers at least once, and a second invocation meanwhile is throttled.
      reservedConcurrentExecutions: 1,
      // A failed pass is not retried, and a throttled invocation waits at most a minute: the next minute's pass does it.
      maxEventAge: Duration.minutes(1),
      retryAttempts: 0,
      environment: this.environment,
      role: this.role,
      logGroup: this.logGroup,
    });
  }

  private acknowledgeFindings(cluster: ecs.ICluster, manager: RunnerManager): void {
    const account = `${NAG_ARN_PREFIX}ecs:<AWS::Region>:<AWS::AccountId>`;
    const tasks = `task/${nagRef(cluster)}/*`;
    acknowledgeNag(
      this.role,
      `AwsSolutions-IAM5[Resource::${account}:task-definition/${manager.taskDefinition.family}:*]`,
      "RunTask on the manager family only (the controller runs the revision it is given), in this environment's " +
        'cluster only (ecs:cluster condition).',
    );
    acknowledgeNag(
      this.role,
      `AwsSolutions-IAM5[Resource::${account}:${tasks}]`,
      "Manager and job task ARNs are only known at run time: only this environment's cluster's tasks; tagging only " +
        'at RunTask (ecs:CreateAction) or with the drain tag alone (aws:TagKeys).',
    );
    acknowledgeNag(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'ecs:ListTasks is authorised against container instances, which Fargate has none of, so it is scoped with the ' +
        'ecs:cluster condition instead.',
    );
  }
}
