import { Annotations, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { JobCapacity } from './job/job-capacity';
import { JobTask, JobTaskOptions } from './job/job-task';
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
}

/**
 * One GitLab runner environment on ECS Fargate: a cluster with Fargate and Fargate Spot capacity, the task
 * definition each job runs in (container `ci-coordinator`), a job role with no permissions until you grant some, a
 * runner-manager service whose driver may only run and stop this environment's job tasks, and a scheduled orphan
 * reaper.
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
  /** The orphan reaper, when {@link RunnerEnvironmentProps.orphanReaper} is set. */
  public readonly orphanReaper?: OrphanReaper;
  /** The job tasks' role: grant it what this environment's jobs (builds and deploys) need. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The job tasks' security group connections. */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: RunnerEnvironmentProps) {
    super(scope, id);
    this.environmentName = props.environmentName;
    const gitlabUrl = props.gitlabUrl ?? 'https://gitlab.com';
    const runnerName = props.runnerName ?? `gitlab-fargate-${props.environmentName}`;
    const concurrent = props.concurrent ?? 10;
    const capacity = props.capacity ?? JobCapacity.ON_DEMAND;
    const assignPublicIpToJobs = props.assignPublicIpToJobs ?? false;
    const connectViaPublicIp = props.connectViaPublicIp ?? false;
    const assignPublicIpToManager = props.assignPublicIpToManager ?? false;
    const tags: { [key: string]: string } = {
      ...props.tags,
      'gitlab-fargate:environment': props.environmentName,
      'gitlab-fargate:runner': runnerName,
    };
    // On job tasks the driver sets gitlab-fargate:runner itself (to the runner's short token), and the driver's TOML
    // refuses that key in TASK_TAGS: the runner's name tags only this environment's own resources.
    const taskTags = Object.fromEntries(Object.entries(tags).filter(([key]) => key !== 'gitlab-fargate:runner'));

    const runnerTags = props.runnerTags ?? [props.environmentName];
    const problems: string[] = [
      ...environmentProblems({
        environmentName: props.environmentName,
        gitlabUrl,
        concurrent,
        assignPublicIpToJobs,
        connectViaPublicIp,
      }),
      ...capacity.problems(),
    ];
    for (const tag of runnerTags) {
      if (!/^[^,]{1,255}$/.test(tag)) problems.push(`runnerTags entry "${tag}" must be 1-255 characters without commas.`);
    }
    if (props.orphanReaper) {
      const problem = runnerShortTokenProblem(props.orphanReaper.runnerShortToken);
      if (problem) problems.push(problem);
    }
    for (const [key, value] of Object.entries(tags)) {
      const problem = taskTagProblem(key, value);
      if (problem) problems.push(problem);
    }
    for (const key of Object.keys(props.tags ?? {})) {
      const problem = reservedTagProblem(key);
      if (problem) problems.push(problem);
    }
    const jobSubnets = selectSubnets(props.vpc, 'jobSubnets', props.jobSubnets, assignPublicIpToJobs, problems);
    const managerSubnets = selectSubnets(
      props.vpc,
      'managerSubnets',
      props.managerSubnets,
      assignPublicIpToManager,
      problems,
    );
    for (const problem of problems) Annotations.of(this).addError(problem);
    // A public IP in a non-public subnet is an error above; building on with it would make aws-events-targets throw
    // and hide the other errors.
    const managerPublicIp = assignPublicIpToManager && allPublic(props.vpc, managerSubnets);
    const withoutIp: Array<[string, boolean, ec2.SubnetSelection, string]> = [
      ['runner manager', assignPublicIpToManager, managerSubnets, 'assignPublicIpToManager'],
      ['job tasks', assignPublicIpToJobs, jobSubnets, 'assignPublicIpToJobs'],
    ];
    for (const [who, publicIp, subnets, option] of withoutIp) {
      if (!publicIp && allPublic(props.vpc, subnets)) {
        Annotations.of(this).addWarningV2(
          `gitlab-fargate:public-subnet-without-ip:${option}`,
          `The ${who} run in public subnets without a public IP, so they reach neither the internet nor ECR (public ` +
            `subnets have no NAT route). Use private subnets with a NAT gateway or VPC endpoints, or set ${option}.`,
        );
      }
    }

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2:
        (props.containerInsights ?? true) ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
    });
    // Without a default strategy, a RunTask naming neither launch type nor strategy fails with
    // "No Container Instances were found in your cluster" (the seed article's troubleshooting section).
    // Declared directly rather than through Cluster.enableFargateCapacityProviders/addDefaultCapacityProviderStrategy:
    // the aspect behind those adds the association again on every synthesis, so a second (forced) synthesis of the
    // same app, as Annotations.fromStack and integ tooling do, fails with "There is already a Construct".
    this.capacityProviders = new ecs.CfnClusterCapacityProviderAssociations(this, 'Capacity Providers', {
      cluster: this.cluster.clusterName,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: capacity.strategy.map((s) => ({
        capacityProvider: s.capacityProvider,
        weight: s.weight,
        base: s.base,
      })),
    });

    this.job = new JobTask(this, 'Job', { ...props.job, vpc: props.vpc });
    this.grantPrincipal = this.job.grantPrincipal;
    this.connections = this.job.connections;

    this.manager = new RunnerManager(this, 'Manager', {
      ...props.manager,
      vpc: props.vpc,
      cluster: this.cluster,
      job: this.job,
      runnerToken: props.runnerToken,
      gitlabUrl,
      runnerName,
      runnerTags,
      concurrent,
      jobSubnetIds: props.vpc.selectSubnets(jobSubnets).subnetIds,
      assignPublicIpToJobs,
      connectViaPublicIp,
      capacity,
      taskTags,
      subnets: managerSubnets,
      assignPublicIp: managerPublicIp,
      // The reaper's gc finds this manager's tasks by it: both get the same value.
      ...(props.orphanReaper ? { runnerShortToken: props.orphanReaper.runnerShortToken } : {}),
    });
    // The service names the FARGATE provider, which must be associated with the cluster first.
    this.manager.service.node.addDependency(this.capacityProviders);

    if (props.orphanReaper) {
      this.orphanReaper = new OrphanReaper(this, 'Orphan Reaper', {
        ...props.orphanReaper,
        cluster: this.cluster,
        manager: this.manager,
        subnets: managerSubnets,
        assignPublicIp: managerPublicIp,
      });
    } else {
      Annotations.of(this).addWarningV2(
        'gitlab-fargate:no-orphan-reaper',
        'No orphan reaper: job tasks left behind by a replaced manager keep running (and billing) until stopped by ' +
          'hand. Set orphanReaper: { runnerShortToken } once the runner exists in GitLab.',
      );
    }

    for (const [key, value] of Object.entries(tags)) Tags.of(this).add(key, value);
  }
}
