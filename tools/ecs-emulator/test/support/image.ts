import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The test task image: sshd on 22 with root's authorized_keys from SSH_PUBLIC_KEY, the container's environment in
 * sessions. One fixture for the driver's and the emulator's tests (tools/docker/fixtures/sshd).
 */
export const SSHD_IMAGE = 'gitlab-fargate/test-sshd:latest';

const CONTEXT = fileURLToPath(new URL('../../../docker/fixtures/sshd', import.meta.url));

/** Builds the fixture image from the local base image (a cached no-op after the first time). */
export function ensureSshdImage(): string {
  execFileSync('docker', ['build', '--quiet', '--tag', SSHD_IMAGE, CONTEXT], { stdio: ['ignore', 'ignore', 'pipe'] });
  return SSHD_IMAGE;
}
