import { Writable } from 'node:stream';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { type DriverConfig, JOB_AGENT_DEFAULT_SSH_PORT, JOB_AGENT_LOGIN_NAME } from '@gitlab-fargate/config';
import { secondsToMs } from '../duration.js';
import { SystemFailure } from '../errors.js';
import type { BuildContainerSsh } from '../job/state.js';
import type { Logger } from '../log.js';
import type { Sleep } from '../sleep.js';
import { waitUntilReachable } from '../ssh/readiness.js';
import type { Connection, Transport } from '../ssh/transport.js';
import type { JobImageLaunch } from './prepare-job-image.js';
import { parseProbeOutput, portProbeCommand, waitForServices } from './services-wait.js';

/** What {@link awaitJobImage} needs: the task the helper's SSH already answered for. */
export interface AwaitJobImageInput {
  readonly launch: JobImageLaunch;
  readonly ecs: ECSClient;
  readonly cluster: string;
  readonly taskArn: string;
  readonly transport: Transport;
  readonly config: DriverConfig;
  /** The task's address (the helper answered there; the agent shares it). */
  readonly address: string;
  readonly privateKey: string;
  /** The helper's open connection: the services' ports are probed from inside the task through it. */
  readonly helper: Connection;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly sleep: Sleep;
  readonly now: () => number;
}

/** Collects a command's output in memory (probe results are a few lines). */
class Collected extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const discard = new Writable({ write: (_chunk, _encoding, done) => done() });

/** Runs `command` on `connection`; its stdout, or undefined when it did not exit 0. */
async function run(connection: Connection, command: string, signal: AbortSignal): Promise<string | undefined> {
  const stdout = new Collected();
  const result = await connection.exec(command, { stdin: '', stdout, stderr: discard, cancel: signal, graceMs: 1_000 });
  return result.exitCode === 0 ? stdout.text : undefined;
}

/**
 * Waits until the job agent in the build container accepts the job key on 2222 and returns its host key to pin. A
 * build container whose image has no `/tmp` gets one (the SSH connection records each command's process id there;
 * best effort: only a root job user can create it).
 */
async function awaitBuildAgent(input: AwaitJobImageInput): Promise<BuildContainerSsh> {
  const { config, log } = input;
  log.progress(`Waiting for the job agent's SSH in the build container on port ${JOB_AGENT_DEFAULT_SSH_PORT}`);
  const target = { host: input.address, port: JOB_AGENT_DEFAULT_SSH_PORT, username: JOB_AGENT_LOGIN_NAME, privateKey: input.privateKey };
  const connection = await waitUntilReachable(input.transport, target, {
    deadlineMs: secondsToMs(config.timeouts.sshReady),
    attemptTimeoutMs: secondsToMs(config.ssh.connectTimeout),
    minDelayMs: secondsToMs(config.timeouts.sshPollInterval),
    maxDelayMs: secondsToMs(config.timeouts.sshPollInterval),
    signal: input.signal,
    sleep: input.sleep,
    now: input.now,
    onRetry: (attempt, error) => log.debug('the job agent does not answer SSH yet', { attempt, error: error.message }),
  }).catch((error: unknown) => {
    if (input.signal.aborted || !(error instanceof SystemFailure)) throw error;
    throw new SystemFailure(
      `the build container's job agent did not answer SSH on ${input.address}:${JOB_AGENT_DEFAULT_SSH_PORT}: ${error.message}. ` +
        "Its log (the task's log configuration) says why: gf-entry prints 'error:' and 'how to fix:' lines",
      { cause: error },
    );
  });
  try {
    await run(connection, '[ -d /tmp ] || mkdir -m 1777 /tmp 2>/dev/null; true', input.signal);
    return { port: JOB_AGENT_DEFAULT_SSH_PORT, username: JOB_AGENT_LOGIN_NAME, hostKey: connection.hostKey };
  } finally {
    connection.close();
  }
}

/**
 * The steps of prepare a job image adds once the helper answers SSH: the build container's agent (its host key,
 * pinned), then the services (`[JobImages] ServiceWaitTimeout`), each one's state in the job log.
 * @returns the build container's SSH, or undefined when the job named services only
 */
export async function awaitJobImage(input: AwaitJobImageInput): Promise<BuildContainerSsh | undefined> {
  const { launch, log } = input;
  const build = launch.buildContainerName === undefined ? undefined : await awaitBuildAgent(input);
  if (launch.services.length > 0) {
    log.progress(`Waiting for ${launch.services.length} service${launch.services.length === 1 ? '' : 's'} (at most ${input.config.jobImages.serviceWaitTimeout} s)`);
    await waitForServices({
      ecs: input.ecs,
      cluster: input.cluster,
      taskArn: input.taskArn,
      services: launch.services,
      probe: async (ports) => parseProbeOutput((await run(input.helper, portProbeCommand(ports), input.signal)) ?? ''),
      timeoutMs: secondsToMs(input.config.jobImages.serviceWaitTimeout),
      pollMs: Math.max(250, secondsToMs(input.config.timeouts.taskPollInterval)),
      report: (line, ok) => (ok ? log.progress(line) : log.warn(line)),
      sleep: input.sleep,
      now: input.now,
      signal: input.signal,
    });
  }
  return build;
}
