import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateClusterCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { JOB_CONTAINER_NAME } from '@gitlab-fargate/config';
import { ensureDockerEngine } from '@gitlab-fargate/docker-bootstrap';
import { RUNNER_IDENTITY_VARIABLE } from '@gitlab-fargate/driver';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '@gitlab-fargate/ecs-emulator';
import { buildCiCoordinatorImage, type BuildImageOptions } from './ci-coordinator-image.js';
import { buildJobAgentImage } from './job-agent-image.js';
import { LOCAL_RUNNER_SHORT_TOKEN, localDriverToml, localRunnerToml, type DriverInvocation, type LocalDriverSettings } from './configuration.js';

/** The driver's CLI as compiled in this repository (`@gitlab-fargate/driver`'s bin). */
export const driverCli = fileURLToPath(new URL('./cli.js', import.meta.resolve('@gitlab-fargate/driver')));

/** Options for {@link startLocalStack}. */
export interface LocalStackOptions {
  /**
   * Settings of the ECS emulator (phases, faults, throttling).
   * @default the emulator's defaults: AWS's throttling on, short phases
   */
  readonly emulator?: EmulatorOptions;
  /** How the job image is built. @default tag `gitlab-fargate/ci-coordinator:local` */
  readonly image?: BuildImageOptions;
  /** @default 'gitlab-runner-dev' */
  readonly cluster?: string;
  /** Task definition family of the job task. @default 'gitlab-runner-dev-task' */
  readonly taskDefinition?: string;
  /** @default 'eu-west-1' */
  readonly region?: string;
  /**
   * The driver script gitlab-runner runs with node, e.g. the split bundle the runner-manager image ships
   * (`packages/driver/dist/bundle/gitlab-fargate-driver.mjs`).
   * @default the compiled driver CLI, {@link driverCli}
   */
  readonly driverEntry?: string;
  /** Extra driver TOML: `fargateExtra` inside `[Fargate]`, `extraTables` at the end. */
  readonly driverConfig?: Pick<LocalDriverSettings, 'fargateExtra' | 'extraTables' | 'jobImagesExtra'>;
  /**
   * Honour jobs' `image:` and `services:`: builds the job-agent image from `images/job-agent` and writes
   * `[JobImages] Enabled = true, AgentImage = …` into the driver TOML (kept across {@link LocalStack.rewriteDriverConfig}).
   * @default false
   */
  readonly jobImages?: boolean;
  /** Progress messages for a person ("building the job image", …). */
  readonly onProgress?: (message: string) => void;
}

/** A running local stand-in for one runner environment. Call {@link LocalStack.stop} when done. */
export interface LocalStack {
  readonly emulator: RunningEmulator;
  /** The emulator's endpoint, for `AWS_ENDPOINT_URL_ECS` and `AWS_ENDPOINT_URL_EC2`. */
  readonly endpoint: string;
  readonly region: string;
  readonly cluster: string;
  readonly taskDefinition: string;
  /** The job image every task runs. */
  readonly image: string;
  /** Folder holding the configuration files and the metadata directory; removed by `stop`. */
  readonly workDir: string;
  readonly driverConfigPath: string;
  readonly runnerConfigPath: string;
  /** `[TaskMetadata] Directory`: where the driver keeps per-job state files. */
  readonly metadataDirectory: string;
  /** How gitlab-runner calls the driver here: Node with the compiled CLI. */
  readonly driver: DriverInvocation;
  /**
   * Environment for the runner and driver processes: this process's, plus the emulator's endpoint and credentials,
   * and the runner's identity ({@link runnerShortToken}) as the runner-manager image gives it to gitlab-runner.
   */
  readonly env: NodeJS.ProcessEnv;
  /**
   * The runner's short token, as gitlab-runner derives it from config.toml's token: the driver's trusted runner
   * identity (the driver's `RUNNER_IDENTITY_VARIABLE` in {@link env}), and the job's `CI_RUNNER_SHORT_TOKEN`.
   */
  readonly runnerShortToken: string;
  /** An ECS client for the emulator, for checks and setup. */
  readonly ecs: ECSClient;
  /** Rewrites the driver TOML with other extras (for example a Spot strategy). */
  rewriteDriverConfig(extra: Pick<LocalDriverSettings, 'fargateExtra' | 'extraTables' | 'jobImagesExtra'>): Promise<void>;
  /** The job-agent image, with {@link LocalStackOptions.jobImages}. */
  readonly jobAgentImage?: string;
  /** Stops the emulator (removing every task container) and deletes the work folder. */
  stop(): Promise<void>;
}

/**
 * Brings up a local runner environment: a Docker engine and base image, the ci-coordinator job image, the ECS
 * emulator with a cluster (FARGATE and FARGATE_SPOT, on-demand by default) and the job task definition, and the
 * driver TOML plus gitlab-runner config.toml that point at them. The demo, the end-to-end tests and the
 * benchmarks all start here.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => {});
  const names = {
    region: options.region ?? 'eu-west-1',
    cluster: options.cluster ?? 'gitlab-runner-dev',
    taskDefinition: options.taskDefinition ?? 'gitlab-runner-dev-task',
  };
  progress('Making sure a Docker engine and the local base image exist');
  await ensureDockerEngine();
  progress('Building the ci-coordinator job image from images/ci-coordinator');
  const image = await buildCiCoordinatorImage(options.image);
  if (options.jobImages === true) progress('Building the job-agent image from images/job-agent');
  const jobAgentImage = options.jobImages === true ? await buildJobAgentImage() : undefined;

  progress('Starting the ECS emulator');
  const emulator = await startEmulator({ region: names.region, ...options.emulator });
  const workDir = await mkdtemp(join(tmpdir(), 'gitlab-fargate-stack-'));
  const ecs = new ECSClient({ endpoint: emulator.endpoint, region: names.region, credentials: LOCAL_CREDENTIALS });
  try {
    progress(`Creating cluster ${names.cluster} and task definition ${names.taskDefinition}`);
    await createClusterAndTaskDefinition(ecs, names, image);
    const files = await writeConfiguration(workDir, names, options, jobAgentImage);
    let stopped = false;
    return {
      emulator, endpoint: emulator.endpoint, ...names, image, workDir, ...files, ...(jobAgentImage === undefined ? {} : { jobAgentImage }),
      env: driverEnvironment(emulator.endpoint, names.region), ecs, runnerShortToken: LOCAL_RUNNER_SHORT_TOKEN,
      async stop() {
        if (stopped) return;
        stopped = true;
        ecs.destroy();
        await emulator.stop();
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    ecs.destroy();
    await emulator.stop();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** Static credentials the emulator accepts; never real ones. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

interface StackNames {
  readonly region: string;
  readonly cluster: string;
  readonly taskDefinition: string;
}

/** The cluster (FARGATE and FARGATE_SPOT, on-demand by default) and the job task definition on the ci-coordinator image. */
async function createClusterAndTaskDefinition(ecs: ECSClient, names: StackNames, image: string): Promise<void> {
  await ecs.send(new CreateClusterCommand({
    clusterName: names.cluster,
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    tags: [{ key: 'gitlab-fargate:environment', value: 'dev' }],
  }));
  await ecs.send(new RegisterTaskDefinitionCommand({
    family: names.taskDefinition,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '512',
    memory: '1024',
    containerDefinitions: [{ name: JOB_CONTAINER_NAME, image, essential: true, portMappings: [{ containerPort: 22, protocol: 'tcp' }] }],
  }));
}

/** The driver TOML and gitlab-runner's config.toml in `workDir`, and the 0700 metadata directory. */
async function writeConfiguration(workDir: string, names: StackNames, options: LocalStackOptions, jobAgentImage: string | undefined) {
  const metadataDirectory = join(workDir, 'metadata');
  await mkdir(metadataDirectory, { mode: 0o700 });
  const driverConfigPath = join(workDir, 'fargate.toml');
  const runnerConfigPath = join(workDir, 'config.toml');
  const driver: DriverInvocation = { executable: process.execPath, leadingArgs: [options.driverEntry ?? driverCli] };
  const rewriteDriverConfig = async (extra: LocalStackOptions['driverConfig'] = {}) =>
    writeFile(
      driverConfigPath,
      localDriverToml({ ...names, metadataDirectory, ...(jobAgentImage === undefined ? {} : { jobAgentImage }), ...extra }),
      { mode: 0o600 },
    );
  await rewriteDriverConfig(options.driverConfig);
  await writeFile(runnerConfigPath, localRunnerToml(driver, driverConfigPath), { mode: 0o600 });
  return { metadataDirectory, driverConfigPath, runnerConfigPath, driver, rewriteDriverConfig };
}

/** What gitlab-runner's environment holds in the runner-manager image, pointed at the emulator. */
function driverEnvironment(endpoint: string, region: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL_ECS: endpoint,
    AWS_ENDPOINT_URL_EC2: endpoint,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: region,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // As in the runner-manager image: the identity the driver trusts, so it need not fall back (with a warning) to
    // the job's CI_RUNNER_SHORT_TOKEN.
    [RUNNER_IDENTITY_VARIABLE]: LOCAL_RUNNER_SHORT_TOKEN,
  };
  // A profile from the user's environment must not send the driver to real AWS.
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  return env;
}
