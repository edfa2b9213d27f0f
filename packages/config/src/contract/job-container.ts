/**
 * The contract between the driver and the job container it reaches over SSH (the `ci-coordinator` image, or any
 * image built to the same contract). One home for these names and paths: the config package's defaults, the
 * driver (RunTask's container override), the images package (the ci-coordinator spec and entrypoint) and the local
 * stack import them from here; the jsii CDK package keeps a checked copy (`packages/cdk/test/job-container.test.ts`).
 */

/** The job container's name in the task definition: `[Fargate] ContainerName`'s default, and the CDK's. */
export const JOB_CONTAINER_NAME = 'ci-coordinator';

/**
 * The environment variable that carries the job's OpenSSH public key (one `authorized_keys` line) into the job
 * container; the driver sets it per job as a RunTask container override, the image's entrypoint installs it.
 */
export const SSH_PUBLIC_KEY_VARIABLE = 'SSH_PUBLIC_KEY';

/**
 * Default `[[runners]] builds_dir`: where jobs check out inside the job container. gitlab-runner takes it from
 * config.toml (the driver's config stage does not override it), and the ci-coordinator image creates this folder
 * by default, so the two agree unless one of them is changed.
 */
export const DEFAULT_BUILDS_DIR = '/opt/gitlab-runner/builds';

/** Default `[[runners]] cache_dir` inside the job container, created by the ci-coordinator image like {@link DEFAULT_BUILDS_DIR}. */
export const DEFAULT_CACHE_DIR = '/opt/gitlab-runner/cache';
