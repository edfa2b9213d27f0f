import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The generated job image's build context: the repository's `images/ci-coordinator`. */
export const ciCoordinatorContext = fileURLToPath(new URL('../../../images/ci-coordinator', import.meta.url));

/** Options for {@link buildCiCoordinatorImage}. */
export interface BuildImageOptions {
  /**
   * Tag of the built image.
   * @default 'gitlab-fargate/ci-coordinator:local'
   */
  readonly tag?: string;
  /**
   * Image to build on; it must exist locally (no registry is reachable here).
   * @default 'local/debian:bookworm'
   */
  readonly baseImage?: string;
  /**
   * Platform to build for, e.g. `linux/arm64` (runs under qemu: `tools/docker/ensure-engine --arm64`) with
   * `baseImage` `local/debian:bookworm-arm64`.
   * @default - the engine's own platform
   */
  readonly platform?: string;
  /** Receives the build's output lines (for progress); silent when absent. */
  readonly onOutput?: (line: string) => void;
}

/**
 * Builds the ci-coordinator image from the generated Dockerfile, offline: gitlab-runner (which needs GitLab's
 * package site) is left out through the Dockerfile's own build argument; everything else comes from the Debian
 * mirror. Docker's layer cache makes a rebuild of an unchanged Dockerfile take about a second.
 *
 * @returns the image tag
 */
export async function buildCiCoordinatorImage(options: BuildImageOptions = {}): Promise<string> {
  const tag = options.tag ?? 'gitlab-fargate/ci-coordinator:local';
  const args = [
    'build', '--quiet=false', '--tag', tag,
    '--build-arg', `BASE_IMAGE=${options.baseImage ?? 'local/debian:bookworm'}`,
    '--build-arg', 'INSTALL_GITLAB_RUNNER=false',
    ...(options.platform ? ['--platform', options.platform] : []),
    '--label', 'org.gitlab-fargate.image=ci-coordinator',
    ciCoordinatorContext,
  ];
  await runDockerBuild(args, ciCoordinatorContext, options.onOutput);
  return tag;
}

/** Runs `docker build ARGS` (the classic builder: offline, the layer cache shared with the tests); throws with its last lines. */
export async function runDockerBuild(args: readonly string[], context: string, onOutput?: (line: string) => void): Promise<void> {
  const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      output.push(line);
      onOutput?.(line);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`docker build of ${context} failed (exit ${code}):\n${output.slice(-20).join('\n')}`);
  }
}
