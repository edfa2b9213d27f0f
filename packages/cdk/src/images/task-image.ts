import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';

/** Options for {@link TaskImage.fromAsset}. */
export interface TaskImageAssetOptions {
  /**
   * Dockerfile name inside the build context.
   * @default 'Dockerfile'
   */
  readonly file?: string;

  /**
   * Build arguments passed to `docker build`.
   * @default - none
   */
  readonly buildArgs?: { [key: string]: string };
}

/**
 * Where a task's container image comes from: the job container (`ci-coordinator`) or the runner manager.
 *
 * There is no default image: the Dockerfiles live in this repository's top-level `images/` folder, which is not
 * part of the npm package, so a default pointing at it would break for every consumer installing from a registry.
 * Build them from a checkout with {@link TaskImage.fromAsset}, or push them and use
 * {@link TaskImage.fromEcrRepository}.
 */
export abstract class TaskImage {
  /**
   * Build the image from a local directory at deploy time (a CDK Docker image asset).
   *
   * The image is built for the task's CPU architecture (`linux/amd64` or `linux/arm64`). Synthesis only stages the
   * directory; nothing is built until `cdk deploy` (or `cdk-assets publish`).
   *
   * @param directory the build context, e.g. `images/ci-coordinator` in a checkout of this repository
   */
  public static fromAsset(directory: string, options: TaskImageAssetOptions = {}): TaskImage {
    return new AssetTaskImage(directory, options);
  }

  /**
   * An image already pushed to an ECR repository. The task's execution role is granted pull access to it.
   *
   * @param tag image tag or digest (`sha256:...`)
   * @default tag 'latest'
   */
  public static fromEcrRepository(repository: ecr.IRepository, tag?: string): TaskImage {
    return new EcrTaskImage(repository, tag);
  }

  /**
   * An image from a public registry, e.g. `registry.gitlab.com/group/project/ci-coordinator:1.2.3`.
   * Private-registry credentials are not supported here: push private images to ECR instead.
   */
  public static fromRegistry(name: string): TaskImage {
    return new RegistryTaskImage(name);
  }

  /**
   * Turns this choice into an ECS container image for a task running on `architecture`.
   * Called once per container definition.
   */
  public abstract bind(architecture: ecs.CpuArchitecture): ecs.ContainerImage;
}

class AssetTaskImage extends TaskImage {
  constructor(
    private readonly directory: string,
    private readonly options: TaskImageAssetOptions,
  ) {
    super();
    const dockerfile = path.join(directory, options.file ?? 'Dockerfile');
    // CDK would fail later with a bare "Cannot find file"; say which image and how to fix it.
    if (!fs.existsSync(dockerfile)) {
      throw new Error(
        `TaskImage.fromAsset: no Dockerfile at ${dockerfile}. Pass the directory that holds the image's Dockerfile ` +
          '(e.g. images/ci-coordinator or images/runner-manager in a checkout of gitlab-fargate), ' +
          'or use TaskImage.fromEcrRepository for an image you have already pushed.',
      );
    }
  }

  public bind(architecture: ecs.CpuArchitecture): ecs.ContainerImage {
    return ecs.ContainerImage.fromAsset(this.directory, {
      file: this.options.file,
      buildArgs: this.options.buildArgs,
      platform: architecture === ecs.CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
    });
  }
}

class EcrTaskImage extends TaskImage {
  constructor(
    private readonly repository: ecr.IRepository,
    private readonly tag?: string,
  ) {
    super();
  }

  public bind(_architecture: ecs.CpuArchitecture): ecs.ContainerImage {
    return ecs.ContainerImage.fromEcrRepository(this.repository, this.tag);
  }
}

class RegistryTaskImage extends TaskImage {
  constructor(private readonly name: string) {
    super();
  }

  public bind(_architecture: ecs.CpuArchitecture): ecs.ContainerImage {
    return ecs.ContainerImage.fromRegistry(this.name);
  }
}
