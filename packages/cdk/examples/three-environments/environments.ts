// The dev / staging / production pattern: one runner stack per environment (its own cluster, job role, runner tag
// and least privilege) and the GitLab OIDC deploy roles of each target account. Consumers import from
// '@gitlab-fargate/cdk'; this example imports the sources so it runs from a checkout without a build.
import { App, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  GitLabOidcDeployRole,
  GitLabRefType,
  JobCapacity,
  RunnerEnvironment,
  RunnerEnvironmentProps,
  RunnerToken,
  RunnerVpcEndpoints,
  TaskImage,
} from '../../src';

export const ENVIRONMENT_NAMES = ['dev', 'staging', 'production'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** What differs between the three environments. */
interface EnvironmentSpec {
  /** Job size and capacity: dev is cheap and interruptible, production is on-demand and larger. */
  readonly job: Pick<RunnerEnvironmentProps['job'], 'cpu' | 'memoryMiB' | 'ephemeralStorageGiB'>;
  readonly capacity: JobCapacity;
  readonly concurrent: number;
  /** Where the deploy role may be assumed from. */
  readonly refType: GitLabRefType;
  readonly refs: string[];
  /** Production keeps ECR, Logs, Secrets Manager, ECS and STS traffic inside the VPC. */
  readonly vpcEndpoints: boolean;
  /**
   * The deploy role accepts only calls through the STS endpoint in this environment's own runner VPC
   * (`aws:SourceVpc`): a token is useless from anywhere else. Needs `vpcEndpoints`.
   */
  readonly deployFromOwnVpcOnly: boolean;
}

const SPECS: Record<EnvironmentName, EnvironmentSpec> = {
  dev: {
    job: { cpu: 1024, memoryMiB: 2048 },
    capacity: JobCapacity.SPOT,
    concurrent: 10,
    refType: GitLabRefType.BRANCH,
    refs: ['main', 'develop'],
    vpcEndpoints: false,
    deployFromOwnVpcOnly: false,
  },
  staging: {
    job: { cpu: 2048, memoryMiB: 4096 },
    capacity: JobCapacity.spotWithOnDemandFallback({ spotWeight: 3, onDemandWeight: 1 }),
    concurrent: 5,
    refType: GitLabRefType.BRANCH,
    refs: ['main'],
    vpcEndpoints: false,
    deployFromOwnVpcOnly: false,
  },
  production: {
    job: { cpu: 2048, memoryMiB: 8192, ephemeralStorageGiB: 50 },
    capacity: JobCapacity.ON_DEMAND,
    concurrent: 3,
    // Production deploys run from the default branch, behind a manual job and a protected environment.
    refType: GitLabRefType.BRANCH,
    refs: ['main'],
    vpcEndpoints: true,
    deployFromOwnVpcOnly: true,
  },
};

/** Inputs of {@link defineThreeEnvironments}; the app reads them from CDK context. */
export interface ThreeEnvironmentsOptions {
  /** Build context of the job image (images/ci-coordinator in this repository). */
  readonly jobImageDirectory: string;
  /** Build context of the manager image (images/runner-manager in this repository). */
  readonly managerImageDirectory: string;
  /** The GitLab instance. */
  readonly gitlabUrl: string;
  /** The project whose pipelines deploy, e.g. acme/web-app. */
  readonly projectPath: string;
  /** One AWS account per environment; environments without one are env-agnostic and share the CLI's account. */
  readonly accounts: Partial<Record<EnvironmentName, string>>;
  /** Runner short tokens, known once the runners exist in GitLab; they switch on the orphan reapers. */
  readonly runnerShortTokens: Partial<Record<EnvironmentName, string>>;
}

interface RunnerStackProps extends StackProps {
  readonly environmentName: EnvironmentName;
  readonly options: ThreeEnvironmentsOptions;
}

/** One environment's runner: VPC, optional endpoints, cluster, job task, manager service, reaper. */
export class RunnerStack extends Stack {
  public readonly runner: RunnerEnvironment;
  public readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: RunnerStackProps) {
    super(scope, id, props);
    const name = props.environmentName;
    const spec = SPECS[name];
    const vpc = (this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      ],
    }));
    vpc.addFlowLog('Flow Log');
    if (spec.vpcEndpoints) new RunnerVpcEndpoints(this, 'Endpoints', { vpc, sts: true });

    const shortToken = props.options.runnerShortTokens[name];
    this.runner = new RunnerEnvironment(this, 'Runner', {
      environmentName: name,
      vpc,
      gitlabUrl: props.options.gitlabUrl,
      // Created outside this app: `aws secretsmanager create-secret --name gitlab-fargate/<env>/runner-token
      // --secret-string glrt-...` with the token GitLab shows when you create the runner with tag <env>.
      runnerToken: RunnerToken.fromSecretsManager(
        secretsmanager.Secret.fromSecretNameV2(this, 'Runner Token', `gitlab-fargate/${name}/runner-token`),
      ),
      job: { ...spec.job, image: TaskImage.fromAsset(props.options.jobImageDirectory) },
      manager: { image: TaskImage.fromAsset(props.options.managerImageDirectory) },
      capacity: spec.capacity,
      concurrent: spec.concurrent,
      orphanReaper: shortToken === undefined ? undefined : { runnerShortToken: shortToken },
    });

    new CfnOutput(this, 'RunnerTag', {
      value: name,
      description: 'Create the GitLab runner with this tag; jobs tagged with it run in this environment',
    });
    new CfnOutput(this, 'JobRoleArn', {
      value: this.runner.job.taskRole.roleArn,
      description: "The role this environment's jobs act as: grant it what they need",
    });
    // What docs/troubleshooting.md asks for first: where the manager's and the jobs' logs are, and the cluster.
    new CfnOutput(this, 'ManagerLogGroup', {
      value: this.runner.manager.logGroup.logGroupName,
      description: "gitlab-runner's and the driver's log (one metrics line per job)",
    });
    new CfnOutput(this, 'JobLogGroup', {
      value: this.runner.job.logGroup.logGroupName,
      description: "The job containers' own output (sshd, the entrypoint); the job log itself is in GitLab",
    });
    new CfnOutput(this, 'ClusterName', {
      value: this.runner.cluster.clusterName,
      description: 'The cluster the job tasks run in (aws ecs list-tasks --cluster ...)',
    });
  }
}

interface DeployRolesStackProps extends StackProps {
  readonly environmentNames: EnvironmentName[];
  readonly options: ThreeEnvironmentsOptions;
  /** An environment's runner VPC, for the roles that accept calls from there only. */
  readonly runnerVpc: (name: EnvironmentName) => ec2.IVpc;
}

/** One account's GitLab OIDC provider and the deploy roles of the environments that live in that account. */
export class DeployRolesStack extends Stack {
  public readonly roles: Partial<Record<EnvironmentName, GitLabOidcDeployRole>> = {};

  constructor(scope: Construct, id: string, props: DeployRolesStackProps) {
    super(scope, id, props);
    const url = new URL(props.options.gitlabUrl);
    // An account has one IAM OIDC provider per issuer URL, so it lives here, once per account. Its client IDs are
    // the audiences of this account's environments: each deploy job asks GitLab for its own environment's audience,
    // so a dev job's token cannot assume the production role although both run on main.
    const provider = new iam.OidcProviderNative(this, 'GitLab', {
      url: url.origin,
      clientIds: props.environmentNames.map((name) => GitLabOidcDeployRole.defaultAudience(url.host, name)),
    });
    for (const name of props.environmentNames) {
      const spec = SPECS[name];
      const role = new GitLabOidcDeployRole(this, `Deploy ${name}`, {
        provider,
        gitlabHost: url.host,
        projectPath: props.options.projectPath,
        refType: spec.refType,
        refs: spec.refs,
        environment: name,
        sourceVpcIds: spec.deployFromOwnVpcOnly ? [props.runnerVpc(name).vpcId] : undefined,
      });
      role.grantCdkDeploy();
      this.roles[name] = role;
      new CfnOutput(this, `${name}DeployRoleArn`, {
        value: role.role.roleArn,
        description: `AWS_ROLE_ARN for ${name} deploy jobs`,
      });
    }
  }
}

/**
 * Adds the three runner stacks and one deploy-roles stack per distinct account to `app`. Stacks without an account
 * are env-agnostic: `cdk synth` needs no credentials and does no lookups.
 */
export function defineThreeEnvironments(
  app: App,
  options: ThreeEnvironmentsOptions,
): { runners: RunnerStack[]; deployRoles: DeployRolesStack[] } {
  const envFor = (name: EnvironmentName) =>
    options.accounts[name] === undefined ? undefined : { account: options.accounts[name] };
  const runners = ENVIRONMENT_NAMES.map(
    (name) =>
      new RunnerStack(app, `GitLabRunner-${name}`, {
        environmentName: name,
        options,
        env: envFor(name),
        description: `GitLab runner on ECS Fargate for the ${name} environment (runner tag "${name}")`,
      }),
  );

  const runnerVpc = (name: EnvironmentName) => runners[ENVIRONMENT_NAMES.indexOf(name)]!.vpc;
  const byAccount = new Map<string, EnvironmentName[]>();
  for (const name of ENVIRONMENT_NAMES) {
    const key = options.accounts[name] ?? 'default';
    byAccount.set(key, [...(byAccount.get(key) ?? []), name]);
  }
  const deployRoles = [...byAccount.entries()].map(
    ([account, names]) =>
      new DeployRolesStack(app, account === 'default' ? 'GitLabDeployRoles' : `GitLabDeployRoles-${names.join('-')}`, {
        environmentNames: names,
        options,
        runnerVpc,
        env: account === 'default' ? undefined : { account },
        description: `GitLab OIDC deploy roles for ${names.join(', ')}`,
      }),
  );
  return { runners, deployRoles };
}
