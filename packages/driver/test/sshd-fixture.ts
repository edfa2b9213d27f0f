import { fileURLToPath } from 'node:url';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';

/** The sshd test image the driver's and the ECS emulator's tests share (tools/docker/fixtures/sshd). */
const CONTEXT = fileURLToPath(new URL('../../../tools/docker/fixtures/sshd/', import.meta.url));
const IMAGE = 'gitlab-fargate/test-sshd:latest';
/** Every container these tests start carries this label, so leftovers can be removed without touching others'. */
export const TEST_LABEL = { 'gitlab-fargate.test': 'driver' };

let built: Promise<unknown> | undefined;

/** A running sshd container reachable on 127.0.0.1. */
export interface Sshd {
  readonly host: string;
  readonly port: number;
  readonly container: StartedTestContainer;
  stop(): Promise<void>;
}

/**
 * Starts the fixture sshd (built FROM local/debian:bookworm, never pulled) with `publicKey` authorized for root.
 * With `sshdDelaySeconds`, sshd starts that long after the container (the port is published but refuses SSH); with
 * `forceCommand`, every session goes through a ForceCommand wrapper, as in the ci-coordinator image.
 */
export async function startSshd(
  publicKey: string,
  options: { sshdDelaySeconds?: number; hostPort?: number; forceCommand?: boolean } = {},
): Promise<Sshd> {
  built ??= GenericContainer.fromDockerfile(CONTEXT).build(IMAGE, { deleteOnExit: false });
  await built;
  const delay = options.sshdDelaySeconds ?? 0;
  const container = await new GenericContainer(IMAGE)
    .withLabels(TEST_LABEL)
    .withEnvironment({ SSH_PUBLIC_KEY: publicKey, SSHD_DELAY: String(delay), SSHD_LOGLEVEL: process.env.SSHD_LOGLEVEL ?? 'INFO', SSHD_FORCE_COMMAND: options.forceCommand ? '1' : '0' })
    .withExposedPorts(options.hostPort === undefined ? 22 : { container: 22, host: options.hostPort })
    .withWaitStrategy(delay > 0 ? Wait.forLogMessage(/entrypoint: keys written/) : Wait.forLogMessage(/Server listening on/))
    .start();
  return {
    host: '127.0.0.1',
    port: container.getMappedPort(22),
    container,
    stop: async () => {
      await container.stop({ remove: true });
    },
  };
}

/** A loopback TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
