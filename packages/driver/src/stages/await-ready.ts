import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient, Task } from '@aws-sdk/client-ecs';
import type { DriverConfig } from '@gitlab-fargate/config';
import { privateAddress, resolveAddress } from '../aws/address.js';
import { waitForRunning } from '../aws/watch.js';
import { SystemFailure, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { Sleep } from '../sleep.js';
import { waitUntilReachable } from '../ssh/readiness.js';
import type { Connection, Transport, TransportTarget } from '../ssh/transport.js';

/** What {@link awaitReady} needs. */
export interface AwaitReadyInput {
  readonly ecs: ECSClient;
  readonly ec2: () => Promise<EC2Client>;
  readonly transport: Transport;
  readonly config: DriverConfig;
  readonly cluster: string;
  readonly taskArn: string;
  readonly containerName: string;
  /** The SSH target without its host, which is what this function finds out. */
  readonly target: Omit<TransportTarget, 'host'>;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly sleep: Sleep;
  readonly now: () => number;
  /** Called once the address is known (prepare records it in the state file). */
  readonly onAddress: (address: string) => void;
  /** Every task description DescribeTasks returns (prepare keeps ECS's timestamps for the job's timeline). */
  readonly onTask?: (task: Task) => void;
}

/** A task whose sshd accepted the job key. */
export interface Ready {
  readonly address: string;
  /** Open: the caller reads the host key, then closes it. */
  readonly connection: Connection;
  /** When the poller saw RUNNING; absent when SSH answered first. */
  readonly runningAt?: number;
}

/** What to check when a task never answers SSH: mostly a security group without the inbound rule. */
export function reachabilityHint(address: string, port: number, securityGroups: readonly string[]): string {
  const groups =
    securityGroups.length > 0
      ? `the task's security group${securityGroups.length === 1 ? '' : 's'} ${securityGroups.join(', ')} ([Fargate] SecurityGroups)`
      : "the VPC's default security group (the task gets it because [Fargate] SecurityGroups is empty)";
  return (
    `Check that ${groups} allow${securityGroups.length > 1 ? '' : 's'} inbound TCP port ${port} from the runner manager ` +
    `to the task at ${address}, and that the subnets' network ACLs and routes let that traffic through`
  );
}

/**
 * Connects to the task's sshd until it accepts the job key. Giving up at the deadline (a cancel, an unusable key or a
 * changed host key end it earlier), the error says what usually blocks SSH.
 */
function probeSsh(input: AwaitReadyInput, host: string, deadlineMs: number, signal: AbortSignal): Promise<Connection> {
  const { config, log, now } = input;
  log.progress(`Task address ${host}; waiting for SSH on port ${input.target.port}`);
  const gaveUpAt = now() + deadlineMs;
  const probe = waitUntilReachable(input.transport, { ...input.target, host }, {
    deadlineMs,
    attemptTimeoutMs: config.ssh.connectTimeout * 1000,
    minDelayMs: config.timeouts.sshPollInterval * 1000,
    maxDelayMs: config.timeouts.sshPollInterval * 1000,
    signal,
    sleep: input.sleep,
    now,
    onRetry: (attempt, error) => log.debug('SSH not ready yet', { attempt, error: error.message }),
  }).catch((error: unknown) => {
    if (signal.aborted || now() < gaveUpAt || !(error instanceof SystemFailure)) throw error;
    throw new SystemFailure(`${error.message}. ${reachabilityHint(host, input.target.port, config.fargate.securityGroups)}`, { cause: error });
  });
  probe.catch(() => {}); // Observed by the caller; never an unhandled rejection when the poller fails first.
  return probe;
}

/**
 * Waits until the task's sshd accepts the job key. The SSH probe starts as soon as the task's private address
 * appears (the ENI is attached while the task is still PENDING), in parallel with the DescribeTasks poller, so
 * readiness is not held back by the poll interval; the poller still ends the wait the moment the task stops. With
 * UsePublicIP the address needs EC2 and a RUNNING task, so the probe starts after RUNNING.
 */
export async function awaitReady(input: AwaitReadyInput): Promise<Ready> {
  const { config, log, now } = input;
  const done = new AbortController();
  const signal = AbortSignal.any([input.signal, done.signal]);
  const started = now();
  let probe: Promise<Connection> | undefined;
  let address: string | undefined;
  let announceEarlyProbe: (p: Promise<Connection>) => void = () => {};
  const earlyConnection = new Promise<Connection>((resolve, reject) => {
    announceEarlyProbe = (p) => p.then(resolve, reject);
  });

  const startProbe = (found: string, deadlineMs: number): Promise<Connection> => {
    address = found;
    input.onAddress(found);
    return probeSsh(input, found, deadlineMs, signal);
  };

  const watching = waitForRunning(input.ecs, input.cluster, input.taskArn, {
    timeoutMs: config.timeouts.taskStart * 1000,
    pollIntervalMs: config.timeouts.taskPollInterval * 1000,
    containerName: input.containerName,
    signal,
    sleep: input.sleep,
    now,
    onTransition: (status, seconds) => log.progress(`Task is ${status} after ${seconds.toFixed(1)} s`),
    onPollError: (error) => log.debug('DescribeTasks failed; polling again', { error: messageOf(error) }),
    onTask: (task: Task) => {
      input.onTask?.(task);
      if (probe !== undefined || config.fargate.usePublicIp) return;
      const early = privateAddress(task);
      // Until RUNNING, the probe may wait as long as the task may take to start, plus the usual SSH allowance.
      if (early === undefined) return;
      probe = startProbe(early, (config.timeouts.taskStart + config.timeouts.sshReady) * 1000 - (now() - started));
      announceEarlyProbe(probe);
    },
  });
  watching.catch(() => {});

  try {
    const first = await Promise.race([
      watching.then((task) => ({ kind: 'running' as const, task })),
      earlyConnection.then((connection) => ({ kind: 'ssh' as const, connection })),
    ]);
    if (first.kind === 'ssh') {
      return { address: address as string, connection: first.connection };
    }
    const runningAt = now();
    if (probe === undefined) {
      const found = await resolveAddress(first.task, config.fargate.usePublicIp ? 'public' : 'private', input.ec2, {
        signal,
        sleep: input.sleep,
      });
      probe = startProbe(found, config.timeouts.sshReady * 1000);
    }
    return { address: address as string, connection: await probe, runningAt };
  } finally {
    // Whatever happened, stop the poller and any probe still running.
    done.abort(new Error('readiness settled'));
  }
}
