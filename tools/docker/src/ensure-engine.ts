import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The bash script this module runs; it lives beside `src/` and `dist/` so shell users can call it directly. */
export const ensureEngineScript = fileURLToPath(new URL('../ensure-engine', import.meta.url));

/** The linux/arm64 base image `ensure-engine --arm64` builds; its own tag, because dockerd 20.10 keeps one image per tag. */
export const arm64BaseImage = 'local/debian:bookworm-arm64';

/** Options for {@link ensureDockerEngine}. */
export interface EnsureDockerEngineOptions {
  /**
   * Image to build with debootstrap when it is missing.
   * @default 'local/debian:bookworm'
   */
  readonly baseImage?: string;
  /**
   * Print progress lines to this process's stderr.
   * @default false
   */
  readonly verbose?: boolean;
  /**
   * Also make linux/arm64 containers run under qemu and build {@link arm64BaseImage} (the script's `--arm64`).
   * @default false
   */
  readonly arm64?: boolean;
  /**
   * Extra environment for the script (for example `DEBIAN_MIRROR` or `DOCKER_HOST`).
   * @default - this process's environment
   */
  readonly env?: NodeJS.ProcessEnv;
}

/** The script's last words when it fails: what went wrong and how to fix it. */
export class DockerEngineError extends Error {
  constructor(
    message: string,
    /** The script's exit code. */
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'DockerEngineError';
  }
}

/**
 * Makes sure a Docker engine answers and the base image exists: installs docker.io and debootstrap on Debian
 * when missing (as root), starts dockerd when nothing answers, and builds the base image from the Debian mirror
 * when no registry can be reached. Cheap when everything is up.
 *
 * @returns the base image that now exists
 * @throws DockerEngineError with the script's explanation when the engine cannot be brought up
 */
export async function ensureDockerEngine(options: EnsureDockerEngineOptions = {}): Promise<string> {
  const baseImage = options.baseImage ?? 'local/debian:bookworm';
  const env = { ...process.env, ...options.env, BASE_IMAGE: baseImage, ARM64_BASE_IMAGE: arm64BaseImage, ENSURE_ENGINE_QUIET: options.verbose ? '0' : '1' };
  const args = options.arm64 ? [ensureEngineScript, '--arm64'] : [ensureEngineScript];
  const child = spawn('bash', args, { env, stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    if (options.verbose) process.stderr.write(chunk);
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (exitCode !== 0) {
    const explanation = stderr.trim().split('\n').filter((line) => line.startsWith('ensure-engine: ')).join('\n');
    throw new DockerEngineError(explanation || `ensure-engine exited with ${exitCode}: ${stderr.trim()}`, exitCode);
  }
  return baseImage;
}
