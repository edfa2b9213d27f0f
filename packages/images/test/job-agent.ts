import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateImages, writeGeneratedFiles } from '../src/generate.js';
import {
  JOB_AGENT_CONTAINER_USER,
  JOB_AGENT_DEFAULT_SSH_PORT,
  JOB_AGENT_DIR,
  JOB_AGENT_ENTRY_POINT,
  JOB_AGENT_LOGIN_NAME,
} from '../src/spec/job-agent-contract.js';
import { buildImage, docker, LOCAL_BASE_IMAGE, type CommandResult } from './docker.js';
import { exec, type ExecResult } from './ssh.js';

/** The job-agent image the tests build from the generated files. */
export const JOB_AGENT_TEST_IMAGE = 'gitlab-fargate-test/job-agent:latest';

/**
 * The label on every container and volume of the job-agent tests: a value of their own, so that the other image
 * tests' clean-up (which removes `org.gitlab-fargate.test=images`) never removes theirs, and the reverse.
 */
export const JOB_AGENT_TEST_LABELS = { 'org.gitlab-fargate.test': 'images-job-agent' } as const;

/** `--label` arguments for {@link JOB_AGENT_TEST_LABELS}. */
export const labelArgs = Object.entries(JOB_AGENT_TEST_LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);

/** Generates the job-agent build context in a temporary folder, runs `build` on it, and removes the folder. */
export async function withJobAgentContext<T>(build: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'job-agent-'));
  try {
    const files = generateImages()
      .filter((file) => file.path.startsWith('job-agent/'))
      .map((file) => ({ ...file, path: file.path.slice('job-agent/'.length) }));
    await writeGeneratedFiles(dir, files);
    return await build(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Generates the job-agent build context and builds it offline on the local Debian base. */
export async function buildJobAgentImage(tag = JOB_AGENT_TEST_IMAGE, platform?: string, baseImage = LOCAL_BASE_IMAGE): Promise<string> {
  return withJobAgentContext((dir) => buildImage(dir, tag, { BASE_IMAGE: baseImage }, platform));
}

function checked(result: CommandResult, what: string): string {
  if (result.code !== 0) {
    throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout.trim();
}

/** A name for a test container or volume, unique per call. */
export function uniqueName(prefix: string): string {
  return `gf-test-${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * Runs the agent image as ECS runs the init container: with a new, empty named volume at /opt/gf, which Docker
 * fills from the image's VOLUME (ECS's copy-in). Returns the volume and what the container printed.
 */
export function populateAgentVolume(agentImage = JOB_AGENT_TEST_IMAGE): { volume: string; output: CommandResult } {
  const volume = uniqueName('agent');
  checked(docker(['volume', 'create', ...labelArgs, volume]), 'docker volume create');
  const output = docker(['run', '--rm', ...labelArgs, '-v', `${volume}:${JOB_AGENT_DIR}`, agentImage]);
  return { volume, output };
}

/** How a job's build container is started, as the driver will: the agent's entry, user 0, the volume read-only. */
export interface BuildContainerOptions {
  readonly image: string;
  readonly agentVolume: string;
  readonly env?: Record<string, string>;
  /** More `docker run` arguments (volumes, `--network container:X`, `--read-only`). */
  readonly runArgs?: readonly string[];
  /** Publish the SSH port on 127.0.0.1 (off when joining another container's network). @default true */
  readonly publish?: boolean;
}

/** The `docker run` arguments of a build container, before the image. */
export function buildContainerArgs(options: BuildContainerOptions): string[] {
  const [entry, ...entryArgs] = JOB_AGENT_ENTRY_POINT;
  return [
    ...labelArgs,
    '--user',
    JOB_AGENT_CONTAINER_USER,
    '--entrypoint',
    entry ?? '',
    '-v',
    `${options.agentVolume}:${JOB_AGENT_DIR}:ro`,
    ...(options.publish === false ? [] : ['-p', `127.0.0.1::${JOB_AGENT_DEFAULT_SSH_PORT}`]),
    ...Object.entries(options.env ?? {}).flatMap(([name, value]) => ['-e', `${name}=${value}`]),
    ...(options.runArgs ?? []),
    options.image,
    ...entryArgs,
  ];
}

/** Starts a build container in the background; returns its name. */
export function startBuildContainer(options: BuildContainerOptions): string {
  const name = uniqueName('build');
  checked(docker(['run', '-d', '--name', name, ...buildContainerArgs(options)]), `docker run ${options.image}`);
  return name;
}

/** Runs a build container in the foreground to its end (for start-up failures). */
export function runBuildContainer(options: BuildContainerOptions): CommandResult {
  return docker(['run', '--rm', ...buildContainerArgs(options)]);
}

/**
 * How long a login may keep being refused while dropbear starts: natively well under a second, but a machine loaded
 * far past its cores can hold a container's start for many seconds.
 */
const LOGIN_DEADLINE_MS = 90_000;

/**
 * Logs in as the agent's login with the job key, retrying while dropbear is not yet listening (refused or reset
 * connections) until `deadlineMs`: the connection itself is the event waited for. A container that stopped fails
 * at once with its log.
 */
export async function loginWhenReady(container: string, privateKey: string, deadlineMs = LOGIN_DEADLINE_MS): Promise<ssh2.Client> {
  const mapping = docker(['port', container, String(JOB_AGENT_DEFAULT_SSH_PORT)]);
  if (mapping.code !== 0) {
    throw new Error(`${container} publishes no SSH port (${mapping.stderr.trim()}): ${describeContainer(container)}`);
  }
  const port = Number(mapping.stdout.trim().split('\n')[0]?.split(':').pop());
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await connectOnce({ host: '127.0.0.1', port, username: JOB_AGENT_LOGIN_NAME, privateKey, readyTimeout: 30_000 });
    } catch (error) {
      const running = docker(['inspect', '--format', '{{.State.Running}}', container]).stdout.trim() === 'true';
      if (!running || Date.now() > until) {
        throw new Error(`cannot log in to ${container}: ${(error as Error).message}: ${describeContainer(container)}`);
      }
      // A poll interval, not a wait for an assumed duration: the next attempt decides.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A container's state and log, for failure messages. */
function describeContainer(container: string): string {
  const state = docker(['inspect', '--format', 'running={{.State.Running}} exit={{.State.ExitCode}} {{.State.Error}}', container]);
  const logs = docker(['logs', container]);
  return `${state.stdout.trim()}${state.stderr.trim()}\n${logs.stdout}${logs.stderr}`;
}

/**
 * One connection attempt. Unlike a `once('error')` handler, this keeps listening: a connection that Docker's port
 * proxy accepts and the container resets emits more than one error, and an unheard one would crash the test run.
 */
function connectOnce(config: ssh2.ConnectConfig): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', (error) => {
      client.end();
      reject(error);
    });
    client.once('ready', () => resolve(client));
    client.connect(config);
  });
}

/** Runs one command in a session and returns its output and exit code. */
export function run(client: ssh2.Client, command: string): Promise<ExecResult> {
  return exec(client, command);
}

/** Removes the containers and volumes that job-agent tests left behind (for example after an interrupted run). */
export function removeJobAgentTestLeftovers(): void {
  const filter = Object.entries(JOB_AGENT_TEST_LABELS).map(([key, value]) => `label=${key}=${value}`)[0] ?? '';
  const containers = docker(['ps', '-aq', '--filter', filter]).stdout.split('\n').filter(Boolean);
  const volumes = docker(['volume', 'ls', '-q', '--filter', filter]).stdout.split('\n').filter(Boolean);
  removeAll(containers, volumes);
}

/** Removes containers and volumes by name, ignoring those already gone. */
export function removeAll(containers: readonly string[], volumes: readonly string[] = []): void {
  if (containers.length > 0) {
    docker(['rm', '-f', '-v', ...containers]);
  }
  if (volumes.length > 0) {
    docker(['volume', 'rm', '-f', ...volumes]);
  }
}
