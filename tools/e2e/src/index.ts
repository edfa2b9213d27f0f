import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DescribeTasksCommand, ListTasksCommand, type Task } from '@aws-sdk/client-ecs';
import { TASK_DEFINITION_CACHE_FILE } from '@gitlab-fargate/driver';
import { DOCKER_LABELS } from '@gitlab-fargate/ecs-emulator';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { stripAnsi, type JobLogSink, type JobSpec } from '@gitlab-fargate/runner-harness';

const run = promisify(execFile);

/** What a finished job may have left behind. Every list is empty when the driver cleaned up. */
export interface Leftovers {
  /** ListTasks with `desiredStatus: RUNNING` in the stack's cluster. */
  readonly runningTasks: readonly string[];
  /** Docker containers of this emulator instance (`docker ps -a --filter label=…instance=ID`). */
  readonly containers: readonly string[];
  /**
   * Files in the driver's `[TaskMetadata] Directory` (state files hold the job's private key), except the
   * `[JobImages]` task definition cache, which outlives jobs on purpose.
   */
  readonly metadataFiles: readonly string[];
  /**
   * Docker volumes of this emulator instance (a multi-container task's `gf-tools` and `builds`); present only when
   * there are some, so that `toEqual({ runningTasks: [], containers: [], metadataFiles: [] })` still means "nothing".
   */
  readonly volumes?: readonly string[];
}

/** The task volumes the stack's emulator still holds (`docker volume ls -q --filter label=…instance=ID`). */
export async function emulatorVolumes(stack: LocalStack): Promise<string[]> {
  const { stdout } = await run('docker', ['volume', 'ls', '-q', '--filter', `label=${DOCKER_LABELS.instance}=${stack.emulator.instanceId}`]);
  return stdout.split('\n').filter((line) => line.length > 0);
}

/** The metadata directory's files that a job may leave: all but the task definition cache. */
export async function jobMetadataFiles(stack: LocalStack): Promise<string[]> {
  return (await readdir(stack.metadataDirectory)).filter((name) => name !== TASK_DEFINITION_CACHE_FILE);
}

/** Looks once for tasks, containers and state files the stack still holds. */
export async function leftovers(stack: LocalStack): Promise<Leftovers> {
  const tasks = await stack.ecs.send(new ListTasksCommand({ cluster: stack.cluster, desiredStatus: 'RUNNING' }));
  const { stdout } = await run('docker', ['ps', '-a', '-q', '--filter', `label=${DOCKER_LABELS.instance}=${stack.emulator.instanceId}`]);
  const volumes = await emulatorVolumes(stack);
  return {
    runningTasks: tasks.taskArns ?? [],
    containers: stdout.split('\n').filter((line) => line.length > 0),
    metadataFiles: await jobMetadataFiles(stack),
    ...(volumes.length === 0 ? {} : { volumes }),
  };
}

/**
 * Waits until nothing is left (a stopped task's container goes away only after ECS's DEPROVISIONING), and returns
 * what is still there at the deadline otherwise.
 */
export async function waitForNothingLeft(stack: LocalStack, timeoutMs = 15_000): Promise<Leftovers> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await leftovers(stack);
    const empty =
      found.runningTasks.length === 0 && found.containers.length === 0 && found.metadataFiles.length === 0 && found.volumes === undefined;
    if (empty || Date.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Keeps the job log (ANSI colours removed) and lets a test wait for a line. */
export class CapturedLog implements JobLogSink {
  private buffer = '';
  private readonly waiters: { pattern: RegExp; resolve: () => void }[] = [];

  write(text: string): void {
    this.buffer += stripAnsi(text);
    for (const waiter of [...this.waiters]) {
      if (waiter.pattern.test(this.buffer)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  get text(): string {
    return this.buffer;
  }

  /** Resolves once the log matches `pattern`. */
  waitFor(pattern: RegExp): Promise<void> {
    if (pattern.test(this.buffer)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
}

/**
 * Checks a stream of numbered lines (`<n> <payload>`) as it goes by, without keeping it: every line complete, in
 * order, none missing or repeated. Lines that are not numbered (section headings, progress) are skipped.
 */
export class NumberedLineChecker implements JobLogSink {
  /** Numbered lines seen, in order. */
  count = 0;
  /** Bytes of numbered lines seen, newlines included. */
  bytes = 0;
  /** The first problem seen, if any. */
  problem: string | undefined;
  private partial = '';

  constructor(private readonly payload: string) {}

  write(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.check(line);
  }

  private check(line: string): void {
    const match = /^(\d+) (.*)$/.exec(line);
    if (match === null) return;
    const expected = this.count + 1;
    if (this.problem === undefined && (Number(match[1]) !== expected || match[2] !== this.payload)) {
      this.problem = `line ${expected}: got ${JSON.stringify(line.slice(0, 80))}`;
    }
    this.count++;
    this.bytes += Buffer.byteLength(line) + 1;
  }
}

/** A job with the harness's defaults filled in. */
export function job(partial: Partial<JobSpec> & Pick<JobSpec, 'script'>): JobSpec {
  return { name: 'e2e', afterScript: [], variables: {}, timeoutSeconds: 120, ...partial };
}

/** Discards what is written (the runner's own log in tests that do not read it). */
export const discard: JobLogSink = { write: () => {} };

/** Every task the emulator still knows in the stack's cluster (running and recently stopped), described. */
export async function describeAllTasks(stack: LocalStack): Promise<Task[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    const listed = await stack.ecs.send(new ListTasksCommand({ cluster: stack.cluster, desiredStatus }));
    arns.push(...(listed.taskArns ?? []));
  }
  if (arns.length === 0) return [];
  const described = await stack.ecs.send(new DescribeTasksCommand({ cluster: stack.cluster, tasks: arns }));
  return described.tasks ?? [];
}

/**
 * Changes keys of the driver TOML's `[Timeouts]` table in place (the local stack writes that table itself, so
 * `rewriteDriverConfig` cannot add a second one). Undone by the next `rewriteDriverConfig`.
 */
export async function setDriverTimeouts(stack: LocalStack, timeouts: Readonly<Record<string, number>>): Promise<void> {
  let text = await readFile(stack.driverConfigPath, 'utf8');
  for (const [key, value] of Object.entries(timeouts)) {
    const pattern = new RegExp(`^(\\s*${key}\\s*=\\s*)\\S+$`, 'm');
    if (!pattern.test(text)) throw new Error(`the driver TOML at ${stack.driverConfigPath} has no ${key} to change`);
    text = text.replace(pattern, `$1${value}`);
  }
  await writeFile(stack.driverConfigPath, text, { mode: 0o600 });
}
