import { Annotations, Stack, Tags, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RunnerCache, RunnerCacheOptions } from './cache/runner-cache';
import { JobCapacity } from './job/job-capacity';
import { acknowledgeJobImageFindings, jobImageGcStatements } from './job/job-image-permissions';
import { JobImages } from './job/job-images';
import { JobTask, JobTaskOptions } from './job/job-task';
import { ManagerController } from './manager/manager-controller';
import { OrphanReaper, OrphanReaperOptions } from './manager/orphan-reaper';
import { RunnerManager, RunnerManagerOptions } from './manager/runner-manager';
import { RunnerToken } from './manager/runner-token';
import { allPublic, environmentProblems, selectSubnets } from './validation/environment-checks';
import { reservedTagProblem, runnerShortTokenProblem, taskTagProblem } from './validation/values';

/** Properties of {@link RunnerEnvironment}. */
export interface RunnerEnvironmentProps {
  /**
   * The environment's name, e.g. `dev`, `staging` or `production`: lower-case letters, digits and hyphens. It names
   * the runner, tags every resource and every job task, and is the runner tag the README suggests.
   */
  readonly environmentName: string;

  /**
   * The VPC the cluster, the manager and the job tasks live in. There is no default VPC: pass one explicitly.
   */
  readonly vpc: ec2.IVpc;

  /**
   * The runner authentication token (`glrt-...`) of a runner created in GitLab (Settings > CI/CD > Runners, or
   * `POST /user/runners`), stored in Secrets Manager or as an SSM SecureString.
   */
  readonly runnerToken: RunnerToken;

  /** The job task: image, size, architecture, SSH port. */
  readonly job: JobTaskOptions;

  /** The runner manager task: image, size. */
  readonly manager: RunnerManagerOptions;

  /**
   * URL of the GitLab instance.
   * @default 'https://gitlab.com'
   */
  readonly gitlabUrl?: string;

  /**
   * The runner's name in `config.toml`.
   * @default `gitlab-fargate-${environmentName}`
   */
  readonly runnerName?: string;

  /**
   * How many jobs run at once (gitlab-runner's `concurrent`). Each job is one Fargate task.
   * @default 10
   */
  readonly concurrent?: number;

  /**
   * Which Fargate capacity job tasks use; also the cluster's default capacity-provider strategy.
   * @default JobCapacity.ON_DEMAND
   */
  readonly capacity?: JobCapacity;

  /**
   * Subnets for job tasks.
   * @default - the VPC's private subnets (with egress, else isolated); its public subnets when `assignPublicIpToJobs`
   */
  readonly jobSubnets?: ec2.SubnetSelection;

  /**
   * Subnets for the runner manager and the orphan reaper.
   * @default - the VPC's private subnets (with egress, else isolated); its public subnets when `assignPublicIpToManager`
   */
  readonly managerSubnets?: ec2.SubnetSelection;

  /**
   * Give each job task a public IP (`ENABLE_PUBLIC_IP`): for public subnets without a NAT gateway. Job subnets must
   * then be public.
   * @default false
   */
  readonly assignPublicIpToJobs?: boolean;

  /**
   * The driver connects over SSH to the job task's public IP instead of its private one (`USE_PUBLIC_IP`). Needs
   * `assignPublicIpToJobs`, and grants the manager `ec2:DescribeNetworkInterfaces`. Prefer private IPs: SSH then
   * never leaves the VPC.
   * @default false
   */
  readonly connectViaPublicIp?: boolean;

  /**
   * Give the runner manager (and the orphan reaper) a public IP; manager subnets must then be public.
   * @default false
   */
  readonly assignPublicIpToManager?: boolean;

  /**
   * CloudWatch Container Insights on the cluster (per-task CPU, memory, network metrics; billed per metric).
   * @default true
   */
  readonly containerInsights?: boolean;

  /**
   * Run `gitlab-fargate-driver gc` on a schedule to stop orphaned job tasks. It needs the runner's short token,
   * which GitLab shows only once the runner exists: deploy without it first, then add it.
   * @default - no orphan reaper (a warning says so)
   */
  readonly orphanReaper?: OrphanReaperOptions;

  /**
   * The runner's tags, recorded in `config.toml` for reference. With runner authentication tokens (`glrt-`), GitLab
   * holds the tags: set the same ones when creating the runner in GitLab.
   * @default [environmentName]
   */
  readonly runnerTags?: string[];

  /**
   * Extra tags for every resource of this environment and for every job task (`TASK_TAGS`). Keys and values must
   * not contain `,` or `=`, and keys must not start with `gitlab-fargate:` (the constructs' and the driver's own,
   * such as the `gitlab-fargate:deadline` tag the orphan reaper goes by).
   * @default - only `gitlab-fargate:environment` and `gitlab-fargate:runner` (the runner's name; on job tasks the
   * driver sets `gitlab-fargate:runner` to the runner's short token instead)
   */
  readonly tags?: { [key: string]: string };

  /**
   * gitlab-runner's distributed cache: an S3 bucket (created, or given) the managers presign each job's cache
   * download and upload for. Job tasks need a route to S3 (NAT, or the S3 gateway endpoint of
   * {@link RunnerVpcEndpoints}) but no permission. `{ enabled: false }` turns it off.
   * @default - a new bucket: SSE-S3, public access blocked, TLS only, objects expiring after 14 days
   */
  readonly cache?: RunnerCacheOptions;
}

/** The props with their defaults applied. */
interface ResolvedProps {
  readonly gitlabUrl: string;
  readonly runnerName: string;
  readonly runnerTags: string[];
  readonly concurrent: number;
  readonly capacity: JobCapacity;
  readonly assignPublicIpToJobs: boolean;
  readonly connectViaPublicIp: boolean;
  readonly assignPublicIpToManager: boolean;
  /** Every resource's tags: the user's, `gitlab-fargate:environment` and `gitlab-fargate:runner`. */
  readonly tags: { [key: string]: string };
  readonly jobSubnets: ec2.SubnetSelection;
  readonly managerSubnets: ec2.SubnetSelection;
}

/**
 * One GitLab runner environment on ECS Fargate: a cluster with Fargate and Fargate Spot capacity, the task
 * definition each job runs in (container `ci-coordinator`), a job role with no permissions until you grant some,
 * runner managers whose driver may only run and stop this environment's job tasks, the controller that keeps them
 * running and upgrades them without losing a job, and a scheduled orphan reaper.
 *
 * The environment is an `IGrantable` for its jobs: `bucket.grantRead(environment)` lets this environment's CI jobs
 * read the bucket, and no other environment's. It is also `IConnectable` for its job tasks.
 *
 * Configuration mistakes are reported as synth-time errors, all at once.
 */
export class RunnerEnvironment extends Construct implements iam.IGrantable, ec2.IConnectable {
  public readonly environmentName: string;
  public readonly cluster: ecs.Cluster;
  /** The cluster's FARGATE and FARGATE_SPOT capacity providers and default strategy. */
  public readonly capacityProviders: ecs.CfnClusterCapacityProviderAssociations;
  public readonly job: JobTask;
  public readonly manager: RunnerManager;
  /** Starts, spreads, drains and replaces the runner managers. */
  public readonly controller: ManagerController;
  /** The distributed cache, unless {@link RunnerEnvironmentProps.cache} turns it off. */
  public readonly cache?: RunnerCache;
  /** The orphan reaper, when {@link RunnerEnvironmentProps.orphanReaper} is set. */
  public readonly orphanReaper?: OrphanReaper;
  /** The job tasks' role: grant it what this environment's jobs (builds and deploys) need. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The job tasks' security group connections. */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: RunnerEnvironmentProps) {
    super(scope, id);
    this.environmentName = props.environmentName;
    const resolved = validateEnvironment(this, props);
    // A public IP in a non-public subnet is an error above; building on with it would make aws-events-targets throw
    // and hide the other errors.
    const managerPublicIp = resolved.assignPublicIpToManager && allPublic(props.vpc, resolved.managerSubnets);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2:
        (props.containerInsights ?? true) ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
    });
    this.capacityProviders = associateCapacityProviders(this, this.cluster, resolved.capacity);
    this.job = new JobTask(this, 'Job', { ...props.job, vpc: props.vpc });
    this.grantPrincipal = this.job.grantPrincipal;
    this.connections = this.job.connections;
    const cacheEnabled = props.cache?.enabled ?? true;
    this.cache = cacheEnabled ? new RunnerCache(this, 'Cache', { ...props.cache, region: Stack.of(this).region }) : undefined;
    this.manager = this.createManager(props, resolved, managerPublicIp);
    this.cache?.grantManager(this.manager.taskRole);
    this.controller = new ManagerController(this, 'Manager Controller', {
      cluster: this.cluster,
      manager: this.manager,
      // One subnet per zone: the controller spreads the managers over them in turn.
      managerSubnetIds: props.vpc.selectSubnets({ ...resolved.managerSubnets, onePerAz: true }).subnetIds,
      assignPublicIp: managerPublicIp,
      // The controller's log group keeps its lines as long as the managers' group.
      logRetention: props.manager.logRetention,
    });
    // The controller starts managers on the FARGATE provider, which must be associated with the cluster first; and
    // it learns of a new manager revision before the managers do (from the settings parameter), so that new managers
    // start as soon as the old ones stop taking jobs.
    this.controller.rule.node.addDependency(this.capacityProviders);
    this.manager.settingsParameter.node.addDependency(this.controller.rule);
    this.orphanReaper = this.createOrphanReaper(props, resolved, managerPublicIp);
    if (this.job.images) this.grantJobImages(this.job.images);
    for (const [key, value] of Object.entries(resolved.tags)) Tags.of(this).add(key, value);
  }

  private createManager(props: RunnerEnvironmentProps, resolved: ResolvedProps, managerPublicIp: boolean): RunnerManager {
    return new RunnerManager(this, 'Manager', {
      ...props.manager,
      environmentName: props.environmentName,
      vpc: props.vpc,
      cluster: this.cluster,
      job: this.job,
      runnerToken: props.runnerToken,
      gitlabUrl: resolved.gitlabUrl,
      runnerName: resolved.runnerName,
      runnerTags: resolved.runnerTags,
      concurrent: resolved.concurrent,
      jobSubnetIds: props.vpc.selectSubnets(resolved.jobSubnets).subnetIds,
      assignPublicIpToJobs: resolved.assignPublicIpToJobs,
      connectViaPublicIp: resolved.connectViaPublicIp,
      capacity: resolved.capacity,
      // On job tasks the driver sets gitlab-fargate:runner itself (to the runner's short token), and the driver's
      // TOML refuses that key in TASK_TAGS: the runner's name tags only this environment's own resources.
      taskTags: Object.fromEntries(Object.entries(resolved.tags).filter(([key]) => key !== 'gitlab-fargate:runner')),
      subnets: resolved.managerSubnets,
      assignPublicIp: managerPublicIp,
      // The reaper's gc finds this manager's tasks by it: both get the same value.
      ...(props.orphanReaper ? { runnerShortToken: props.orphanReaper.runnerShortToken } : {}),
      ...(this.cache ? { runnerSettings: this.cache.settings } : {}),
    });
  }

  /**
   * Job images: the manager may register, tag and run the derived task definitions (its statements), the orphan
   * reaper's gc may retire them, and the manager reaches the job agent's SSH port in the build container.
   */
  private grantJobImages(images: JobImages): void {
    acknowledgeJobImageFindings(this.manager.taskRole, images);
    if (this.orphanReaper) {
      for (const statement of jobImageGcStatements(this, images)) this.orphanReaper.taskRole.addToPrincipalPolicy(statement);
      acknowledgeJobImageFindings(this.orphanReaper.taskRole, images);
    }
    this.job.connections.allowFrom(this.manager.securityGroup, ec2.Port.tcp(JobImages.AGENT_PORT), 'SSH to the job agent from the runner manager');
  }

  private createOrphanReaper(
    props: RunnerEnvironmentProps, resolved: ResolvedProps, managerPublicIp: boolean,
  ): OrphanReaper | undefined {
    if (props.orphanReaper) {
      return new OrphanReaper(this, 'Orphan Reaper', {
        ...props.orphanReaper,
        cluster: this.cluster,
        manager: this.manager,
        subnets: resolved.managerSubnets,
        assignPublicIp: managerPublicIp,
      });
    }
    Annotations.of(this).addWarningV2(
      'gitlab-fargate:no-orphan-reaper',
      'No orphan reaper: job tasks left behind by a replaced manager keep running (and billing) until stopped by ' +
        'hand. Set orphanReaper: { runnerShortToken } once the runner exists in GitLab.',
    );
    return undefined;
  }
}

/**
 * The cluster's FARGATE and FARGATE_SPOT providers and default strategy. Without a default strategy, a RunTask naming
 * neither launch type nor strategy fails with "No Container Instances were found in your cluster" (the seed article's
 * troubleshooting section). Declared directly rather than through Cluster.enableFargateCapacityProviders/
 * addDefaultCapacityProviderStrategy: the aspect behind those adds the association again on every synthesis, so a
 * second (forced) synthesis of the same app, as Annotations.fromStack and integ tooling do, fails with "There is
 * already a Construct".
 */
function associateCapacityProviders(
  scope: Construct, cluster: ecs.Cluster, capacity: JobCapacity,
): ecs.CfnClusterCapacityProviderAssociations {
  return new ecs.CfnClusterCapacityProviderAssociations(scope, 'Capacity Providers', {
    cluster: cluster.clusterName,
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    defaultCapacityProviderStrategy: capacity.strategy.map((s) => ({
      capacityProvider: s.capacityProvider,
      weight: s.weight,
      base: s.base,
    })),
  });
}

/**
 * Applies the defaults and reports every configuration mistake as a synth-time error on `scope`, all at once, and
 * warns about tasks in public subnets without a public IP.
 */
function validateEnvironment(scope: Construct, props: RunnerEnvironmentProps): ResolvedProps {
  const runnerName = props.runnerName ?? `gitlab-fargate-${props.environmentName}`;
  const base = {
    gitlabUrl: props.gitlabUrl ?? 'https://gitlab.com',
    runnerName,
    runnerTags: props.runnerTags ?? [props.environmentName],
    concurrent: props.concurrent ?? 10,
    capacity: props.capacity ?? JobCapacity.ON_DEMAND,
    assignPublicIpToJobs: props.assignPublicIpToJobs ?? false,
    connectViaPublicIp: props.connectViaPublicIp ?? false,
    assignPublicIpToManager: props.assignPublicIpToManager ?? false,
    tags: { ...props.tags, 'gitlab-fargate:environment': props.environmentName, 'gitlab-fargate:runner': runnerName },
  };
  const problems = [
    ...environmentProblems({ environmentName: props.environmentName, ...base }),
    ...base.capacity.problems(),
    ...base.runnerTags.filter((tag) => !/^[^,]{1,255}$/.test(tag)).map((tag) => `runnerTags entry "${tag}" must be 1-255 characters without commas.`),
    ...(props.orphanReaper ? [runnerShortTokenProblem(props.orphanReaper.runnerShortToken)] : []),
    ...Object.entries(base.tags).map(([key, value]) => taskTagProblem(key, value)),
    ...Object.keys(props.tags ?? {}).map(reservedTagProblem),
  ].filter((problem): problem is string => problem !== undefined);
  const jobSubnets = selectSubnets(props.vpc, 'jobSubnets', props.jobSubnets, base.assignPublicIpToJobs, problems);
  const managerSubnets = selectSubnets(props.vpc, 'managerSubnets', props.managerSubnets, base.assignPublicIpToManager, problems);
  for (const problem of problems) Annotations.of(scope).addError(problem);
  const resolved = { ...base, jobSubnets, managerSubnets };
  warnAboutSubnets(scope, props.vpc, resolved, props.manager.count ?? 2);
  return resolved;
}

/** Warnings: tasks in public subnets without a public IP reach nothing; several managers in one zone share its fate. */
function warnAboutSubnets(scope: Construct, vpc: ec2.IVpc, resolved: ResolvedProps, managerCount: number): void {
  const withoutIp: Array<[string, boolean, ec2.SubnetSelection, string]> = [
    ['runner manager', resolved.assignPublicIpToManager, resolved.managerSubnets, 'assignPublicIpToManager'],
    ['job tasks', resolved.assignPublicIpToJobs, resolved.jobSubnets, 'assignPublicIpToJobs'],
  ];
  for (const [who, publicIp, subnets, option] of withoutIp) {
    if (!publicIp && allPublic(vpc, subnets)) {
      Annotations.of(scope).addWarningV2(
        `gitlab-fargate:public-subnet-without-ip:${option}`,
        `The ${who} run in public subnets without a public IP, so they reach neither the internet nor ECR (public ` +
          `subnets have no NAT route). Use private subnets with a NAT gateway or VPC endpoints, or set ${option}.`,
      );
    }
  }
  const zones = vpc.selectSubnets(resolved.managerSubnets).availabilityZones;
  // Zones of an env-agnostic VPC are tokens, one per subnet: one zone is then certain only with one subnet.
  if (managerCount > 1 && zones.length === 1) {
    const zone = Token.isUnresolved(zones[0]) ? 'one availability zone' : zones[0];
    Annotations.of(scope).addWarningV2(
      'gitlab-fargate:managers-in-one-zone',
      `The ${managerCount} runner managers all run in ${zone}: an outage of that zone stops every one of them. ` +
        'Give managerSubnets subnets in two or more availability zones.',
    );
  }
}
