import { Annotations, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TaskImage } from '../images/task-image';
import { JobImages, JobImagesOptions } from './job-images';
import { ephemeralStorageProblem, fargateSizeProblem } from '../validation/fargate-sizes';
import { acknowledgeNag, ECR_AUTH_REASON } from '../validation/nag';
import { portProblem } from '../validation/values';

/** Size, platform and logging of the task every job runs in. */
export interface JobTaskOptions {
  /**
   * The job container's image: sshd on {@link sshPort}, bash, git, git-lfs and gitlab-runner (for artifacts and
   * cache), built from `images/ci-coordinator` in this repository.
   */
  readonly image: TaskImage;

  /**
   * Task CPU units (1024 = 1 vCPU). Valid Fargate pairs:
   *
   * | cpu   | memoryMiB                                 |
   * |-------|-------------------------------------------|
   * | 256   | 512, 1024, 2048                           |
   * | 512   | 1024 to 4096 in steps of 1024             |
   * | 1024  | 2048 to 8192 in steps of 1024             |
   * | 2048  | 4096 to 16384 in steps of 1024            |
   * | 4096  | 8192 to 30720 in steps of 1024            |
   * | 8192  | 16384 to 61440 in steps of 4096           |
   * | 16384 | 32768 to 122880 in steps of 8192          |
   *
   * @default 1024
   */
  readonly cpu?: number;

  /**
   * Task memory in MiB; must fit {@link cpu}.
   * @default 2048
   */
  readonly memoryMiB?: number;

  /**
   * Ephemeral storage in GiB, 21 to 200. Builds, the checkout and the pulled image share it.
   * @default - Fargate's 20 GiB
   */
  readonly ephemeralStorageGiB?: number;

  /**
   * CPU architecture of the job task. Fargate Spot supports both.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly architecture?: ecs.CpuArchitecture;

  /**
   * Also register an ARM64 (Graviton, about 20% cheaper per vCPU-hour) task definition beside the X86_64 one: same
   * size, image, roles, logs and security group. The driver allow-lists it, and a job chooses it with the CI variable
   * `FARGATE_CPU_ARCHITECTURE: ARM64`. The image needs an arm64 variant: {@link TaskImage.fromAsset} builds one;
   * a registry image must be a multi-platform one. Needs `architecture` X86_64.
   * @default false
   */
  readonly offerArm64?: boolean;

  /**
   * Port sshd listens on inside the job container.
   * @default 22
   */
  readonly sshPort?: number;

  /**
   * Name of the container the driver runs scripts in.
   * @default 'ci-coordinator'
   */
  readonly containerName?: string;

  /**
   * How long job container logs (sshd and entrypoint output, not job logs) are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Honour each job's `image:` and `services:` (the driver's `[JobImages]`), with the job-agent image injected into
   * the job's image; the manager may then register task definitions derived from this one (see the README's "Job
   * images").
   * @default - jobs run in {@link image}; their `image:` and `services:` are ignored
   */
  readonly images?: JobImagesOptions;
}

/** Properties of {@link JobTask}. */
export interface JobTaskProps extends JobTaskOptions {
  /** The VPC job tasks run in. */
  readonly vpc: ec2.IVpc;
}

/**
 * The task definition every job of one environment runs in, with its own task role (no permissions until you grant
 * some), its execution role, log group and security group.
 *
 * The security group admits nothing by default: {@link RunnerEnvironment} opens the SSH port to the runner
 * manager's security group only.
 */
export class JobTask extends Construct implements iam.IGrantable, ec2.IConnectable {
  /**
   * The default name of the job container, the one GitLab's Fargate driver also expects. A copy of the config
   * package's JOB_CONTAINER_NAME (jsii packages cannot depend on an ESM package): test/job-container.test.ts checks
   * they agree.
   */
  public static readonly DEFAULT_CONTAINER_NAME = 'ci-coordinator';

  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The ARM64 task definition, when {@link JobTaskOptions.offerArm64} is set. */
  public readonly arm64TaskDefinition?: ecs.FargateTaskDefinition;
  /** The role job scripts act as. It starts with no permissions: grant what this environment's jobs need. */
  public readonly taskRole: iam.Role;
  /** The role ECS uses to pull the image and write logs. */
  public readonly executionRole: iam.Role;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  public readonly container: ecs.ContainerDefinition;
  public readonly containerName: string;
  public readonly sshPort: number;
  public readonly cpu: number;
  public readonly memoryMiB: number;
  public readonly architecture: ecs.CpuArchitecture;
  public readonly connections: ec2.Connections;
  public readonly grantPrincipal: iam.IPrincipal;
  /** The job images' agent image, grants and settings, when {@link JobTaskOptions.images} is set. */
  public readonly images?: JobImages;

  constructor(scope: Construct, id: string, props: JobTaskProps) {
    super(scope, id);
    this.cpu = props.cpu ?? 1024;
    this.memoryMiB = props.memoryMiB ?? 2048;
    this.sshPort = props.sshPort ?? 22;
    this.containerName = props.containerName ?? JobTask.DEFAULT_CONTAINER_NAME;
    this.architecture = props.architecture ?? ecs.CpuArchitecture.X86_64;
    const problems = jobTaskProblems(props, this.cpu, this.memoryMiB, this.sshPort, this.containerName);
    for (const problem of problems) Annotations.of(this).addError(problem);
    // FargateTaskDefinition throws on a bad storage size; leaving it out lets synth report every error at once.
    const ephemeralStorageGiB =
      props.ephemeralStorageGiB !== undefined && ephemeralStorageProblem(props.ephemeralStorageGiB) === undefined
        ? props.ephemeralStorageGiB
        : undefined;

    this.taskRole = new iam.Role(this, 'Task Role', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Role of CI jobs; it has only the permissions granted to this runner environment.',
    });
    this.executionRole = new iam.Role(this, 'Execution Role', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Lets ECS pull the job image and write the job container logs.',
    });
    this.grantPrincipal = this.taskRole;
    acknowledgeNag(this.executionRole, 'AwsSolutions-IAM5[Resource::*]', ECR_AUTH_REASON);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    this.taskDefinition = this.defineTask('Definition', this.architecture, props.image, ephemeralStorageGiB);
    this.container = this.taskDefinition.findContainer(this.containerName) as ecs.ContainerDefinition;
    if (props.offerArm64 === true) {
      this.arm64TaskDefinition = this.defineTask('Arm64 Definition', ecs.CpuArchitecture.ARM64, props.image, ephemeralStorageGiB);
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'Security Group', {
      vpc: props.vpc,
      description: 'CI job tasks: SSH from the runner manager only; outbound for git, packages and deploys',
      allowAllOutbound: true,
    });
    this.connections = this.securityGroup.connections;
    if (props.images) {
      this.images = new JobImages(this, 'Images', {
        ...props.images,
        templateFamily: this.taskDefinition.family,
        executionRole: this.executionRole,
        architecture: this.architecture,
        offerArm64: props.offerArm64,
      });
    }
  }

  /** Every job task definition of this environment: the main one, then the ARM64 one when offered. */
  public get taskDefinitions(): ecs.FargateTaskDefinition[] {
    return this.arm64TaskDefinition ? [this.taskDefinition, this.arm64TaskDefinition] : [this.taskDefinition];
  }

  /** One job task definition for `architecture`, sharing this job's roles and logs. */
  private defineTask(
    id: string,
    architecture: ecs.CpuArchitecture,
    image: TaskImage,
    ephemeralStorageGiB: number | undefined,
  ): ecs.FargateTaskDefinition {
    const definition = new ecs.FargateTaskDefinition(this, id, {
      cpu: this.cpu,
      memoryLimitMiB: this.memoryMiB,
      ephemeralStorageGiB,
      runtimePlatform: { cpuArchitecture: architecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
      executionRole: this.executionRole,
    });
    definition.addContainer('Coordinator', {
      containerName: this.containerName,
      image: image.bind(architecture),
      essential: true,
      portMappings: [{ containerPort: this.sshPort, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'job' }),
    });
    return definition;
  }
}

function jobTaskProblems(
  props: JobTaskOptions,
  cpu: number,
  memoryMiB: number,
  sshPort: number,
  containerName: string,
): string[] {
  const problems: string[] = [];
  if (!Token.isUnresolved(cpu) && !Token.isUnresolved(memoryMiB)) {
    const size = fargateSizeProblem('job task', cpu, memoryMiB);
    if (size) problems.push(size);
  }
  if (props.ephemeralStorageGiB !== undefined && !Token.isUnresolved(props.ephemeralStorageGiB)) {
    const storage = ephemeralStorageProblem(props.ephemeralStorageGiB);
    if (storage) problems.push(storage);
  }
  if (props.offerArm64 === true && props.architecture !== undefined && props.architecture !== ecs.CpuArchitecture.X86_64) {
    problems.push('job offerArm64 adds an ARM64 task definition beside an X86_64 one: leave architecture at X86_64.');
  }
  const port = portProblem('job sshPort', sshPort);
  if (port) problems.push(port);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/.test(containerName)) {
    problems.push(`job containerName "${containerName}" must be 1-255 letters, digits, hyphens or underscores.`);
  }
  return problems;
}
