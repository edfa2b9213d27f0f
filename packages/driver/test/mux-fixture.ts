import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { JobState } from '../src/job/state.js';
import { statePath } from '../src/job/state.js';
import { sshTransport } from '../src/ssh/connect.js';
import type { JobKeyPair } from '../src/ssh/keys.js';
import { launchMultiplexer, stopMultiplexer } from '../src/ssh/mux/launcher.js';
import type { MuxSpec } from '../src/ssh/mux/protocol.js';
import type { MuxRecord } from '../src/ssh/mux/record.js';
import { muxSocketPath } from '../src/ssh/mux/socket.js';
import { CLI } from './cli-process.js';
import type { Sshd } from './sshd-fixture.js';

/** How long a test waits for a launched multiplexer to report its socket. */
const LAUNCH_TIMEOUT_MS = 15_000;

/** The multiplexer timing of the int tests: a generous connect, a keepalive that never fires, an idle minute. */
const MUX_TIMING = { connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 4, idleTimeoutMs: 60_000 } as const;

/** The task of a {@link MuxTestJob} created `withTask`. */
const TEST_TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0123456789abcdef0123456789abcdef';

/** A multiplexer's spec for the job state at `statePath`, its socket beside it unless `overrides` says otherwise. */
export function muxSpec(statePath: string, overrides: Partial<MuxSpec> = {}): MuxSpec {
  return { statePath, socketPath: muxSocketPath(statePath), ...MUX_TIMING, ...overrides };
}

/** Starts multiplexers from the compiled CLI, as prepare does; each test's are stopped after it (a vitest `afterEach`). */
export function useMultiplexers(): { start(spec: MuxSpec): Promise<MuxRecord> } {
  const running: MuxRecord[] = [];
  afterEach(() => {
    for (const record of running.splice(0)) stopMultiplexer(record);
  });
  return {
    start: async (spec) => {
      const record = await launchMultiplexer(CLI, spec).connect(LAUNCH_TIMEOUT_MS);
      running.push(record);
      return record;
    },
  };
}

/** Writes an executable script `name` into `dir` (a stage's SCRIPT argument) and returns its path. */
export function writeScript(dir: string, name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode: 0o700 });
  return file;
}

/** The host key `sshd` presents, as prepare pins it at first contact. */
export async function hostKeyOf(sshd: Sshd, privateKey: string): Promise<string> {
  const first = await sshTransport.connect({ host: sshd.host, port: sshd.port, username: 'root', privateKey });
  first.close();
  return first.hostKey;
}

/** A job as the stages see it: a temp folder with the driver TOML, the job state's path and contents, the stage environment. */
export interface MuxTestJob {
  readonly dir: string;
  /** The driver TOML, whose `[TaskMetadata] Directory` holds {@link path}. */
  readonly config: string;
  /** The job state file the stages read (not written yet). */
  readonly path: string;
  /** A job whose prepare finished on `sshd`; it names a task only when created `withTask` (cleanup then stops it). */
  readonly state: JobState;
  /** gitlab-runner's variables for a stage of this job (exit codes, job id, runner token, TMPDIR). */
  readonly env: Record<string, string>;
}

/** Sets up a {@link MuxTestJob} on `sshd` in a new temp folder (`prefix`-…), exiting with `exitCodes` on failures. */
export async function createMuxTestJob(options: {
  readonly prefix: string;
  readonly token: string;
  readonly jobId: string;
  readonly sshd: Sshd;
  readonly keys: JobKeyPair;
  readonly exitCodes: { readonly build: number; readonly system: number };
  readonly withTask: boolean;
}): Promise<MuxTestJob> {
  const { token, jobId, sshd, keys } = options;
  const dir = mkdtempSync(join(tmpdir(), options.prefix));
  const stateDir = join(dir, 'state');
  const config = join(dir, 'driver.toml');
  const fargate = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job"\n';
  writeFileSync(config, `${fargate}[TaskMetadata]\nDirectory = "${stateDir}"\n`);
  const state: JobState = {
    version: 1, jobId, runnerShortToken: token, cluster: 'ci', region: 'us-east-1',
    address: sshd.host, port: sshd.port, username: 'root', privateKey: keys.privateKey, publicKey: keys.publicKey,
    hostKey: await hostKeyOf(sshd, keys.privateKey), createdAt: new Date().toISOString(),
    ...(options.withTask ? { taskArn: TEST_TASK_ARN } : {}),
  };
  const env = {
    BUILD_FAILURE_EXIT_CODE: String(options.exitCodes.build),
    SYSTEM_FAILURE_EXIT_CODE: String(options.exitCodes.system),
    BUILD_EXIT_CODE_FILE: join(dir, 'build_exit_code'),
    CUSTOM_ENV_CI_JOB_ID: jobId,
    CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: token,
    TMPDIR: dir,
  };
  return { dir, config, path: statePath(stateDir, token, jobId), state, env };
}

/** Whether process `pid` still exists (a zombie counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
