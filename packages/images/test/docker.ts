import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { GenericContainer } from 'testcontainers';

/** Label on every container these tests start, so that cleanup touches only ours. */
export const TEST_LABELS = { 'org.gitlab-fargate.test': 'images' } as const;
/** The debootstrap image tools/docker/ensure-engine provides; no registry is reachable. */
export const LOCAL_BASE_IMAGE = 'local/debian:bookworm';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the docker CLI and returns what it printed; never throws on a non-zero exit, throws naming the command on a timeout. */
export function docker(args: readonly string[], options: { timeoutMs?: number } = {}): CommandResult {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs });
  if (result.error) {
    const timedOut = (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    const what = timedOut ? `no answer within ${timeoutMs} ms` : result.error.message;
    throw new Error(`docker ${args.join(' ')}: ${what}${result.stderr ? `\n${result.stderr}` : ''}`);
  }
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** `docker run --rm` with our labels; returns the exit code and output. */
export function dockerRun(image: string, runArgs: readonly string[], command: readonly string[] = []): CommandResult {
  const labels = Object.entries(TEST_LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
  return docker(['run', '--rm', ...labels, ...runArgs, image, ...command]);
}

/**
 * Builds `contextDir` with testcontainers (the legacy builder on this engine) and tags the image; `platform`
 * (e.g. `linux/arm64`, run under qemu) builds for another architecture.
 */
export async function buildImage(contextDir: string, tag: string, buildArgs: Record<string, string>, platform?: string): Promise<string> {
  const builder = GenericContainer.fromDockerfile(contextDir).withBuildArgs(buildArgs);
  await (platform ? builder.withPlatform(platform) : builder).build(tag, { deleteOnExit: false });
  return tag;
}

/** Whether a local image with this reference exists. */
export function imageExists(reference: string): boolean {
  return docker(['image', 'inspect', reference]).code === 0;
}

/** Removes containers these tests left behind (for example after an interrupted run). */
export function removeOurContainers(): void {
  const filters = Object.entries(TEST_LABELS).flatMap(([key, value]) => ['--filter', `label=${key}=${value}`]);
  const ids = docker(['ps', '-aq', ...filters]).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) {
    docker(['rm', '-f', ...ids]);
  }
}

/** The Docker engine's API socket: DOCKER_HOST when it names a unix socket, else the default. */
function engineSocket(): string {
  const host = process.env['DOCKER_HOST'] ?? '';
  return host.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/**
 * Sends `signal` to a container through the engine's API, as `docker kill --signal` does but without starting the
 * CLI, and resolves with the epoch milliseconds at which the request left: a latency measured from there to the
 * container's `State.FinishedAt` counts the engine's work, not a CLI's start-up on a loaded machine.
 */
export function signalContainer(id: string, signal: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sentAt = Date.now();
    const post = request(
      { socketPath: engineSocket(), method: 'POST', path: `/containers/${encodeURIComponent(id)}/kill?signal=${encodeURIComponent(signal)}` },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          response.statusCode === 204 ? resolve(sentAt) : reject(new Error(`kill ${signal} ${id}: HTTP ${response.statusCode} ${body}`)),
        );
      },
    );
    post.on('error', reject);
    post.end();
  });
}
