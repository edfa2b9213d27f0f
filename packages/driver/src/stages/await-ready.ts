import type { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import type { DriverConfig } from '@gitlab-fargate/config';
import { privateAddress, resolveAddress } from '../aws/address.js';
import { type StartWatch, startPollDelayMs } from '../aws/poll-schedule.js';
import { waitForRunning } from '../aws/watch.js';
import { type Deferred, deferred } from '../deferred.js';
import { secondsToMs } from '../duration.js';
import { SystemFailure, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import type { Sleep } from '../sleep.js';
import { notAcceptingSsh, waitUntilReachable } from '../ssh/readiness.js';
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

/** What a probe has done so far: the error when the task runs and SSHReady passes needs it. */
interface ProbeTally {
  attempts: number;
  lastError: Error | undefined;
}

/**
 * The error when SSH did not answer within `deadlineMs` of RUNNING while an early probe's own deadline was still ahead:
 * worded as the probe's own (`waitUntilReachable`) failure with {@link reachabilityHint}, as when a probe started at
 * RUNNING gives up.
 */
function notReachable(input: AwaitReadyInput, host: string, deadlineMs: number, tally: ProbeTally): SystemFailure {
  const hint = reachabilityHint(host, input.target.port, input.config.fargate.securityGroups);
  return new SystemFailure(`${notAcceptingSsh(deadlineMs, tally.attempts, tally.lastError)}. ${hint}`, { cause: tally.lastError });
}

/**
 * Connects to the task's sshd until it accepts the job key, counting the attempts in `tally`. Giving up at the
 * deadline (a cancel, an unusable key or a changed host key end it earlier), the error says what usually blocks SSH.
 */
function probeSsh(input: AwaitReadyInput, host: string, deadlineMs: number, signal: AbortSignal, tally: ProbeTally): Promise<Connection> {
  const { config, log, now } = input;
  log.progress(`Task address ${host}; waiting for SSH on port ${input.target.port}`);
  const gaveUpAt = now() + deadlineMs;
  const counted: Transport = {
    connect: (target, options) => {
      tally.attempts += 1;
      return input.transport.connect(target, options);
    },
  };
  const probe = waitUntilReachable(counted, { ...input.target, host }, {
    deadlineMs,
    attemptTimeoutMs: secondsToMs(config.ssh.connectTimeout),
    minDelayMs: secondsToMs(config.timeouts.sshPollInterval),
    maxDelayMs: secondsToMs(config.timeouts.sshPollInterval),
    signal,
    sleep: input.sleep,
    now,
    onRetry: (attempt, error) => {
      tally.lastError = error;
      log.debug('SSH not ready yet', { attempt, error: error.message });
    },
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
 * readiness is not held back by the poll interval; the poller still ends the wait when it sees the task stop (at most
 * 10 s late with the default TaskPollInterval: `startPollDelayMs`). With UsePublicIP the address needs EC2 and a
 * RUNNING task, so the probe starts after RUNNING. Either way sshd gets `[Timeouts] SSHReady` from RUNNING.
 */
export async function awaitReady(input: AwaitReadyInput): Promise<Ready> {
  const done = new AbortController();
  const signal = AbortSignal.any([input.signal, done.signal]);
  const ssh = new SshProbe(input, signal);
  const watching = watchTask(input, signal, ssh);
  watching.catch(() => {});
  try {
    const first = await Promise.race([
      watching.then((task) => ({ kind: 'running' as const, task })),
      ssh.early.promise.then((connection) => ({ kind: 'ssh' as const, connection })),
    ]);
    if (first.kind === 'ssh') {
      await lastLook(input);
      return { address: ssh.address as string, connection: first.connection };
    }
    const runningAt = input.now();
    const connection = await ssh.startOnceRunning(first.task);
    return { address: ssh.address as string, connection, runningAt };
  } finally {
    // Whatever happened, stop the poller and any probe still running.
    done.abort(new Error('readiness settled'));
  }
}

/**
 * SSH answered before the poller saw RUNNING: one more description, so that `onTask` gets what ECS set since the last
 * poll (the image pull's end, the start) for the job's timeline. Best effort: a failure only leaves those times out.
 */
async function lastLook(input: AwaitReadyInput): Promise<void> {
  const { ecs, cluster, taskArn, onTask } = input;
  if (onTask === undefined) return;
  try {
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }), { abortSignal: input.signal });
    const task = out.tasks?.find((t) => t.taskArn === taskArn);
    if (task !== undefined) onTask(task);
  } catch (error) {
    const note = 'DescribeTasks after SSH answered failed; the timeline lacks what ECS set since the last poll';
    input.log.debug(note, { error: messageOf(error) });
  }
}

/**
 * Polls DescribeTasks until the task runs (or stops), showing each status change; `onTask` sees every answer. The first
 * poll waits one TaskPollInterval (RunTask's answer already described the task), then the pauses grow with the time
 * waited (`startPollDelayMs`): once the SSH probe has the address the poller only watches for a stop.
 */
function watchTask(input: AwaitReadyInput, signal: AbortSignal, ssh: SshProbe): Promise<Task> {
  const { config, log } = input;
  const onTask = (task: Task): void => ssh.startEarly(task);
  const taskPollMs = secondsToMs(config.timeouts.taskPollInterval);
  const watching = (): StartWatch => (ssh.probing ? 'stop' : config.fargate.usePublicIp ? 'running' : 'address');
  return waitForRunning(input.ecs, input.cluster, input.taskArn, {
    timeoutMs: secondsToMs(config.timeouts.taskStart),
    pauseFirst: true,
    pollIntervalMs: (elapsedMs) => startPollDelayMs({ elapsedMs, taskPollMs, watch: watching() }),
    containerName: input.containerName,
    signal,
    sleep: input.sleep,
    now: input.now,
    onTransition: (status, seconds) => log.progress(`Task is ${status} after ${seconds.toFixed(1)} s`),
    onPollError: (error) => log.debug('DescribeTasks failed; polling again', { error: messageOf(error) }),
    onTask: (task: Task) => {
      input.onTask?.(task);
      onTask(task);
    },
  });
}

/** The one SSH probe of a readiness wait: started early from a PENDING task's private address, or once it runs. */
class SshProbe {
  /** Settled by a probe started before RUNNING; never settles otherwise. */
  readonly early: Deferred<Connection> = deferred();
  /** The task's address, once known. */
  address: string | undefined;
  private probe: Promise<Connection> | undefined;
  private readonly tally: ProbeTally = { attempts: 0, lastError: undefined };

  /** Whether a probe is running: readiness is then the probe's to see. */
  get probing(): boolean {
    return this.probe !== undefined;
  }
  private readonly started: number;

  constructor(
    private readonly input: AwaitReadyInput,
    private readonly signal: AbortSignal,
  ) {
    this.started = input.now();
  }

  /** Starts the probe from a task description that already has the private address (not with UsePublicIP). */
  startEarly(task: Task): void {
    const { config, now } = this.input;
    if (this.probe !== undefined || config.fargate.usePublicIp) return;
    const early = privateAddress(task);
    // Until RUNNING, the probe may wait as long as the task may take to start, plus the usual SSH allowance.
    if (early === undefined) return;
    this.probe = this.start(early, secondsToMs(config.timeouts.taskStart + config.timeouts.sshReady) - (now() - this.started));
    this.probe.then(this.early.resolve, this.early.reject);
  }

  /**
   * The probe started early, given `[Timeouts] SSHReady` from now (the task runs) as a probe started now would be; or
   * one started now from the running task's address (public or private).
   */
  async startOnceRunning(task: Task): Promise<Connection> {
    const { config, ec2, sleep } = this.input;
    const sshReadyMs = secondsToMs(config.timeouts.sshReady);
    if (this.probe !== undefined) return this.boundedFromNow(this.probe, sshReadyMs);
    const found = await resolveAddress(task, config.fargate.usePublicIp ? 'public' : 'private', ec2, { signal: this.signal, sleep });
    this.probe = this.start(found, sshReadyMs);
    return this.probe;
  }

  /**
   * Races the early probe against `deadlineMs` from now. Its own deadline (TaskStart + SSHReady from the start) would
   * keep a task whose SSH port never answers (a missing security group rule) waiting up to TaskStart longer.
   */
  private boundedFromNow(probe: Promise<Connection>, deadlineMs: number): Promise<Connection> {
    const address = this.address as string;
    const expired = this.input.sleep(deadlineMs, this.signal).then(() => {
      throw notReachable(this.input, address, deadlineMs, this.tally);
    });
    expired.catch(() => {}); // Aborted once the probe wins (awaitReady stops everything when it settles).
    return Promise.race([probe, expired]);
  }

  private start(address: string, deadlineMs: number): Promise<Connection> {
    this.address = address;
    this.input.onAddress(address);
    return probeSsh(this.input, address, deadlineMs, this.signal, this.tally);
  }
}
