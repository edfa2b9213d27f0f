import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';

/** What the background load saw. */
export interface LoadReport {
  readonly calls: number;
  readonly throttled: number;
}

/**
 * Another tenant of the same account and Region: ListTasks at `callsPerSecond` (same bucket as the driver's
 * DescribeTasks: `clusterResourceRead`, 100 burst, 20/s refill at AWS's rates) with SDK retries off, so the bucket
 * runs dry and the driver's own calls meet ThrottlingException. Returns a stop function with the count.
 */
export function startApiLoad(stack: LocalStack, callsPerSecond: number): () => Promise<LoadReport> {
  const ecs = new ECSClient({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: { accessKeyId: 'load', secretAccessKey: 'load' },
    maxAttempts: 1,
  });
  let calls = 0;
  let throttled = 0;
  const inFlight = new Set<Promise<void>>();
  const fire = () => {
    calls++;
    const call = ecs.send(new ListTasksCommand({ cluster: stack.cluster })).then(
      () => undefined,
      (error: Error) => {
        if (error.name === 'ThrottlingException') throttled++;
      },
    );
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
  };
  const timer = setInterval(fire, 1000 / callsPerSecond);
  return async () => {
    clearInterval(timer);
    await Promise.all(inFlight);
    ecs.destroy();
    return { calls, throttled };
  };
}
