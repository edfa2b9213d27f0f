import { Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { derivedFamiliesArn, jobImageManagerStatements } from '../job/job-image-permissions';
import { JobTask } from '../job/job-task';
import { POOL_CLAIM_TAG_KEYS } from './pool-keeper';

/** What the runner manager's driver may do, and nothing more. */
export interface ManagerPermissionsOptions {
  readonly cluster: ecs.ICluster;
  readonly job: JobTask;
  /** The driver connects to the job task's public IP, which it reads from the task's network interface. */
  readonly connectViaPublicIp: boolean;
}

/** RunTask on any revision of this environment's job families (X86_64, and ARM64 when offered), in its cluster only. */
function runJobTasksStatement(scope: Construct, { cluster, job }: ManagerPermissionsOptions): iam.PolicyStatement {
  const stack = Stack.of(scope);
  return new iam.PolicyStatement({
    sid: 'RunJobTasks',
    actions: ['ecs:RunTask'],
    // Never another environment's.
    resources: [
      ...job.taskDefinitions.map((definition) =>
        stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${definition.family}:*` }),
      ),
      // With job images, the task definitions the driver derives from this one (one family per content hash).
      ...(job.images ? [derivedFamiliesArn(scope, job.images)] : []),
    ],
    conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
  });
}

/**
 * The IAM statements the runner manager needs to run jobs in one environment: start tasks from that environment's
 * job task definition family in that cluster only, watch and stop that cluster's tasks, tag them at launch, and pass
 * exactly the job's two roles to ECS.
 */
export function managerJobStatements(scope: Construct, options: ManagerPermissionsOptions): iam.PolicyStatement[] {
  const { cluster, job } = options;
  const stack = Stack.of(scope);
  const clusterTasks = stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` });
  const onThisCluster = { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };

  const statements = [
    runJobTasksStatement(scope, options),
    // The manager's own task is one of them: its image reads the controller's drain tag with DescribeTasks
    // (include TAGS), which needs no ecs:ListTagsForResource.
    new iam.PolicyStatement({
      sid: 'WatchAndStopJobTasks',
      actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
      resources: [clusterTasks],
    }),
    new iam.PolicyStatement({
      sid: 'ListJobTasks',
      actions: ['ecs:ListTasks'],
      // ListTasks is authorised against container instances, which Fargate has none of; the cluster condition is the
      // scope that applies (the same pattern aws-cdk uses for its ECS drain hook).
      resources: ['*'],
      conditions: onThisCluster,
    }),
    // RunTask with tags (TASK_TAGS, and the driver's job id, runner and gitlab-fargate:deadline, which the orphan
    // reaper goes by) is authorized for ecs:TagResource too; without it RunTask fails. Only at launch, never later.
    new iam.PolicyStatement({
      sid: 'TagJobTasksAtLaunch',
      actions: ['ecs:TagResource'],
      resources: [clusterTasks],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    }),
    new iam.PolicyStatement({
      sid: 'PassJobRoles',
      actions: ['iam:PassRole'],
      resources: [job.taskRole.roleArn, job.executionRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }),
  ];
  if (job.images) statements.push(...jobImageManagerStatements(scope, job.images));
  if (options.connectViaPublicIp) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'ReadJobTaskPublicIp',
        actions: ['ec2:DescribeNetworkInterfaces'],
        // A Describe* call with no resource-level permissions: '*' is the only resource IAM accepts.
        resources: ['*'],
      }),
    );
  }
  return statements;
}

/**
 * What the orphan reaper (`gitlab-fargate-driver gc`) needs: find and stop this cluster's tasks. gc reads each task's
 * `gitlab-fargate:deadline` tag through DescribeTasks with `include: ['TAGS']`, which `ecs:DescribeTasks` covers (the
 * Service Authorization Reference lists no dependent action for it): no `ecs:ListTagsForResource`.
 */
export function reaperStatements(scope: Construct, cluster: ecs.ICluster): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  return [
    new iam.PolicyStatement({
      sid: 'WatchAndStopJobTasks',
      actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
      resources: [stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` })],
    }),
    new iam.PolicyStatement({
      sid: 'ListJobTasks',
      actions: ['ecs:ListTasks'],
      resources: ['*'],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }),
  ];
}

/**
 * With warm pools: a job's prepare that claimed an idle pool task retags it while it runs, with the job's own
 * deadline and the claim, and with no other key (the pool keeper itself runs, watches, lists and stops tasks with
 * the statements above: the pool tasks come from the same job task definition, in the same cluster).
 */
export function poolClaimStatement(scope: Construct, cluster: ecs.ICluster): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'RetagClaimedPoolTasks',
    actions: ['ecs:TagResource'],
    resources: [Stack.of(scope).formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` })],
    conditions: {
      'ForAllValues:StringEquals': { 'aws:TagKeys': POOL_CLAIM_TAG_KEYS },
      // ForAllValues holds for a request without tag keys too: require them.
      'Null': { 'aws:TagKeys': 'false' },
    },
  });
}

/**
 * What a runner manager needs besides running jobs: read its settings parameter (the JSON it renders its configuration
 * from, and the version it compares its own with), and no other parameter.
 */
export function managerSettingsStatement(scope: Construct, parameterName: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadManagerSettings',
    actions: ['ssm:GetParameter'],
    resources: [Stack.of(scope).formatArn({ service: 'ssm', resource: 'parameter', resourceName: parameterName.replace(/^\//, '') })],
  });
}

/** The cache bucket a runner manager presigns gitlab-runner's cache URLs for. */
export interface CacheGrantOptions {
  readonly bucketArn: string;
  /** The key prefix the cache lives under; the grants stop there. */
  readonly path?: string;
  /** The KMS key encrypting the bucket's objects, if any. */
  readonly encryptionKey?: kms.IKey;
}

/**
 * What gitlab-runner's S3 cache with `AuthenticationType = "iam"` needs: it presigns a GET (cache-extractor) and a PUT
 * (cache-archiver) for each cache key with the manager's credentials, and S3 checks those URLs against the manager's
 * permissions: s3:GetObject and s3:PutObject on the cache's objects
 * (https://docs.gitlab.com/runner/configuration/advanced-configuration/#the-runnerscaches3-section). s3:ListBucket,
 * limited to the cache's prefix, makes a missing key a 404 ("cache not found") instead of a 403 AccessDenied
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"). With a KMS key, S3 asks the
 * URL's signer for kms:GenerateDataKey on a PUT and kms:Decrypt on a GET.
 */
export function cacheStatements(options: CacheGrantOptions): iam.PolicyStatement[] {
  const prefix = options.path === undefined ? '' : `${options.path}/`;
  const statements = [
    new iam.PolicyStatement({
      sid: 'ReadWriteCache',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [`${options.bucketArn}/${prefix}*`],
    }),
    new iam.PolicyStatement({
      sid: 'FindCacheKeys',
      actions: ['s3:ListBucket'],
      resources: [options.bucketArn],
      ...(prefix === '' ? {} : { conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } }),
    }),
  ];
  if (options.encryptionKey) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'EncryptCache',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [options.encryptionKey.keyArn],
      }),
    );
  }
  return statements;
}

/** What the manager controller acts on: the environment's cluster and the manager's task definition and roles. */
export interface ControllerPermissionsOptions {
  readonly cluster: ecs.ICluster;
  /** The managers' task definition family. */
  readonly managerFamily: string;
  /** The roles the manager task definition names, which RunTask passes to ECS. */
  readonly managerRoles: iam.IRole[];
  /** The one tag the controller may put on a running task. */
  readonly drainStartedTag: string;
}

/**
 * The manager controller's statements: start managers from the manager family in this cluster only (tagged at
 * launch), list, describe and stop this cluster's tasks (old managers, and the job tasks of dead ones), mark a
 * running manager with the drain tag and no other, and pass exactly the manager's two roles to ECS.
 */
export function controllerStatements(scope: Construct, options: ControllerPermissionsOptions): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const { cluster } = options;
  const clusterTasks = stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` });
  const onThisCluster = { ArnEquals: { 'ecs:cluster': cluster.clusterArn } };
  return [
    new iam.PolicyStatement({
      sid: 'RunManagers',
      actions: ['ecs:RunTask'],
      resources: [stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${options.managerFamily}:*` })],
      conditions: onThisCluster,
    }),
    new iam.PolicyStatement({ sid: 'WatchAndStopTasks', actions: ['ecs:DescribeTasks', 'ecs:StopTask'], resources: [clusterTasks] }),
    // ListTasks is authorised against container instances, which Fargate has none of: the cluster condition scopes it.
    new iam.PolicyStatement({ sid: 'ListTasks', actions: ['ecs:ListTasks'], resources: ['*'], conditions: onThisCluster }),
    new iam.PolicyStatement({
      sid: 'TagManagersAtLaunch',
      actions: ['ecs:TagResource'],
      resources: [clusterTasks],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
    }),
    new iam.PolicyStatement({
      sid: 'MarkDrainingManagers',
      actions: ['ecs:TagResource'],
      resources: [clusterTasks],
      conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [options.drainStartedTag] } },
    }),
    new iam.PolicyStatement({
      sid: 'PassManagerRoles',
      actions: ['iam:PassRole'],
      resources: options.managerRoles.map((role) => role.roleArn),
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }),
  ];
}
