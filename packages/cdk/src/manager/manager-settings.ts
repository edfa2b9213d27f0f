import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { JobCapacity } from '../job/job-capacity';
import { JobTask } from '../job/job-task';

/** The inputs of the manager entrypoint's renderer. */
export interface ManagerSettingsInput {
  readonly cluster: ecs.ICluster;
  readonly job: JobTask;
  readonly gitlabUrl: string;
  readonly runnerName: string;
  readonly runnerTags: string[];
  readonly concurrent: number;
  readonly jobSubnetIds: string[];
  readonly assignPublicIpToJobs: boolean;
  readonly connectViaPublicIp: boolean;
  readonly metadataDirectory: string;
  readonly capacity: JobCapacity;
  readonly taskTags: { [key: string]: string };
}

/** With an ARM64 job task definition: the driver's `[Fargate] Arm64TaskDefinition` and its allow-listing. */
function arm64Settings(job: JobTask): { [name: string]: string } {
  if (!job.arm64TaskDefinition) return {};
  return { ARM64_TASK_DEFINITION: job.arm64TaskDefinition.family, ALLOWED_CPU_ARCHITECTURES: 'X86_64,ARM64' };
}

/** Time a stopped job's cleanup stage may take after the job's timeout (the reaper's and the drain deadline's grace). */
export const CLEANUP_GRACE = Duration.minutes(10);

/**
 * The settings a manager reads only at start, so they stay in its task definition (a change is a new manager version)
 * and out of the settings parameter, which the runner-manager image refuses as a whole if it names one: the running
 * jobs find their state files in METADATA_DIR (and their claimed pool entries in POOL_DIRECTORY, on the volume the
 * keeper shares; the keeper binds POOL_METRICS_PORT once); the runner token is sent to GITLAB_URL and the agent images
 * (JOB_AGENT_IMAGE, and ARM64_JOB_AGENT_IMAGE for ARM64 jobs) run as root in every image job, so whoever may write the
 * parameter must not be able to change any of them.
 */
export const START_ONLY_SETTINGS = ['METADATA_DIR', 'GITLAB_URL', 'JOB_AGENT_IMAGE', 'ARM64_JOB_AGENT_IMAGE', 'POOL_DIRECTORY', 'POOL_METRICS_PORT'];

/** The settings only gitlab-runner's `config.toml` needs; the rest feed the driver's TOML. */
export const RUNNER_ONLY_SETTINGS = ['GITLAB_URL', 'RUNNER_NAME', 'RUNNER_TAGS', 'CONCURRENT'];

/**
 * The environment variables `gitlab-fargate-config render` turns into gitlab-runner's `config.toml` and the driver's
 * TOML when the manager starts. The runner token is not among them: it is the ECS secret `RUNNER_TOKEN`.
 */
export function managerSettings(scope: Construct, input: ManagerSettingsInput): { [name: string]: string } {
  return {
    GITLAB_URL: input.gitlabUrl,
    RUNNER_NAME: input.runnerName,
    // Written into config.toml as a comment only: with glrt- tokens, GitLab holds the runner's tags.
    RUNNER_TAGS: input.runnerTags.join(','),
    CONCURRENT: String(input.concurrent),
    CLUSTER: input.cluster.clusterName,
    REGION: Stack.of(scope).region,
    SUBNETS: Fn.join(',', input.jobSubnetIds),
    SECURITY_GROUP_IDS: input.job.securityGroup.securityGroupId,
    // The family, not a revision: RunTask takes the latest ACTIVE revision, so job image updates apply at once.
    TASK_DEFINITION: input.job.taskDefinition.family,
    ...arm64Settings(input.job),
    TASK_CONTAINER_NAME: input.job.containerName,
    SSH_PORT: String(input.job.sshPort),
    ENABLE_PUBLIC_IP: String(input.assignPublicIpToJobs),
    USE_PUBLIC_IP: String(input.connectViaPublicIp),
    METADATA_DIR: input.metadataDirectory,
    CAPACITY_PROVIDER_STRATEGY: input.capacity.toEnvironmentValue(),
    TASK_TAGS: Object.entries(input.taskTags)
      .map(([key, value]) => `${key}=${value}`)
      .join(','),
    // [JobImages]: driver settings, so the orphan reaper's gc gets them too (it retires unused derived families).
    ...input.job.images?.settings,
  };
}
