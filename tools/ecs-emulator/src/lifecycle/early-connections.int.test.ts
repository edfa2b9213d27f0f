import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { CreateClusterCommand, RunTaskCommand, StopTaskCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsvpc, ecsClient, registerFargateTaskDefinition } from '../../test/support/clients.js';
import { ensureSshdImage } from '../../test/support/image.js';
import { newKeyPair } from '../../test/support/ssh.js';
import { isRunning, waitForTask } from '../../test/support/waiting.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';

const CLUSTER = 'early-connections';
/** The fixture's entrypoint, after printing the wall clock (ms) just before it sets up and starts sshd. */
const STAMPED_ENTRYPOINT = ['/bin/bash', '-c', 'echo "sshd-setup-at $(date +%s%3N)" >&2; exec /bin/bash /usr/local/bin/sshd-entrypoint'];

/** One connection of the prober: when it was opened and whether anything answered on it. */
interface Attempt {
  readonly openedAt: number;
  answered: boolean;
}

/**
 * Connects to address:22 as a client that learnt the address from PENDING does (the driver's SSH probe), opening the
 * next connection when one ends, until one is answered.
 */
function probeUntilAnswered(address: string): { readonly attempts: Attempt[]; readonly answered: Promise<void> } {
  const attempts: Attempt[] = [];
  const answered = new Promise<void>((resolve) => {
    const next = (): void => {
      const attempt: Attempt = { openedAt: Date.now(), answered: false };
      attempts.push(attempt);
      const socket = net.connect({ host: address, port: 22 });
      socket.once('data', () => {
        attempt.answered = true;
        socket.destroy();
        resolve();
      });
      socket.once('error', () => undefined);
      socket.once('close', () => {
        if (!attempt.answered) setTimeout(next, 10);
      });
    };
    next();
  });
  return { attempts, answered };
}

describe('a task address probed from PENDING', () => {
  let emu: RunningEmulator;
  let ecs: ECSClient;
  const probes = new Map<string, ReturnType<typeof probeUntilAnswered>>();

  beforeAll(async () => {
    const image = ensureSshdImage();
    emu = await startEmulator({
      onTaskStateChange: (change) => {
        if (change.lastStatus === 'PENDING' && change.privateIp && !probes.has(change.taskArn)) {
          probes.set(change.taskArn, probeUntilAnswered(change.privateIp));
        }
      },
    });
    ecs = ecsClient(emu.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await registerFargateTaskDefinition(ecs, 'stamped', image, { entryPoint: STAMPED_ENTRYPOINT });
  });

  afterAll(async () => {
    await emu?.stop();
  });

  // Docker's proxy listens on the address while it is still starting the container and used to hold a connection
  // made then for about a second before passing it on, so sshd's banner reached such a client long after sshd was up.
  it.each([1, 2, 3])('refuses every connection opened before sshd starts, holding none until sshd answers (task %i)', async () => {
    const keys = newKeyPair();
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: 'stamped',
        launchType: 'FARGATE',
        networkConfiguration: awsvpc(),
        overrides: { containerOverrides: [{ name: 'ci-coordinator', environment: [{ name: 'SSH_PUBLIC_KEY', value: keys.publicKey }] }] },
      }),
    );
    const taskArn = run.tasks![0]!.taskArn!;
    const running = await waitForTask(ecs, CLUSTER, taskArn, isRunning);
    const probe = probes.get(taskArn)!;
    await probe.answered;
    const logs = spawnSync('docker', ['logs', running.containers![0]!.runtimeId!], { encoding: 'utf8' });
    const setupAt = Number(/sshd-setup-at (\d+)/.exec(`${logs.stdout}${logs.stderr}`)?.[1]);
    expect(setupAt).toBeGreaterThan(0);
    const beforeSshd = probe.attempts.filter((attempt) => attempt.openedAt < setupAt);
    expect(beforeSshd.length, 'the prober started before the container did').toBeGreaterThan(0);
    expect(beforeSshd.filter((attempt) => attempt.answered)).toEqual([]);
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
  });
});
