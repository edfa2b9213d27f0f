import type { TaskStateChange } from '@gitlab-fargate/ecs-emulator';
import { startLocalStack, type LocalStack } from '@gitlab-fargate/local-stack';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';

/** A task's state changes as the emulator saw them (epoch ms per `lastStatus`, first occurrence). */
export interface TaskTimeline {
  readonly taskArn: string;
  readonly at: Partial<Record<string, number>>;
}

/** A local stack whose driver calls pass through a counting proxy, with every task's timeline recorded. */
export interface BenchStack {
  readonly stack: LocalStack;
  readonly proxy: CountingProxy;
  /** Environment for driver and harness processes: the stack's, with the proxy as the ECS/EC2 endpoint. */
  readonly env: NodeJS.ProcessEnv;
  /** Timelines of tasks launched at or after `since` (epoch ms), in launch order. */
  timelines(since?: number): TaskTimeline[];
  stop(): Promise<void>;
}

/**
 * Starts the stack the benchmarks share: local stack (Docker, job image, emulator, cluster, configuration) plus
 * the counting proxy. The emulator keeps AWS's throttling buckets on. `driverEntry` is the driver script the
 * stack's gitlab-runner configuration runs (default: the compiled CLI); `options.jobImages` builds the job-agent image
 * and turns `[JobImages]` on (the job-image suite).
 */
export async function startBenchStack(
  onProgress?: (message: string) => void,
  driverEntry?: string,
  options: { readonly jobImages?: boolean } = {},
): Promise<BenchStack> {
  const timelines = new Map<string, { taskArn: string; at: Record<string, number> }>();
  const record = (change: TaskStateChange) => {
    let entry = timelines.get(change.taskArn);
    if (!entry) {
      entry = { taskArn: change.taskArn, at: {} };
      timelines.set(change.taskArn, entry);
    }
    entry.at[change.lastStatus] ??= change.at.getTime();
    if (change.desiredStatus === 'STOPPED') entry.at.STOP_REQUESTED ??= change.at.getTime();
  };
  const stack = await startLocalStack({
    // RUNNING only once every task port answers (sshd's banner, through Docker's proxy): the container's own start,
    // its network included, then ends at RUNNING, so the readiness lag and the job overhead measure the driver, not
    // sshd's start-up. (On AWS, and by the emulator's default, RUNNING means the containers started; the driver's SSH
    // probe covers the gap.)
    emulator: { onTaskStateChange: record, portReadinessTimeoutMs: 10_000 },
    ...(driverEntry !== undefined ? { driverEntry } : {}),
    ...(onProgress ? { onProgress } : {}),
    // The job-image suite's image: jobs: the job-agent image, and [JobImages] on in the driver TOML.
    ...(options.jobImages === true ? { jobImages: true } : {}),
  });
  let proxy: CountingProxy;
  try {
    proxy = await startCountingProxy(stack.endpoint);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const env: NodeJS.ProcessEnv = { ...stack.env, AWS_ENDPOINT_URL_ECS: proxy.endpoint, AWS_ENDPOINT_URL_EC2: proxy.endpoint };
  return {
    stack,
    proxy,
    env,
    timelines: (since = 0) =>
      [...timelines.values()]
        .filter((t) => (t.at.PROVISIONING ?? 0) >= since)
        .sort((a, b) => (a.at.PROVISIONING ?? 0) - (b.at.PROVISIONING ?? 0)),
    stop: async () => {
      await proxy.close();
      await stack.stop();
    },
  };
}
