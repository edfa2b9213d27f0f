import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import type { LocalStack } from '@gitlab-fargate/local-stack';

/** What the background load saw. */
export interface LoadReport {
  readonly calls: number;
  readonly throttled: number;
}

/** A running background load. */
export interface ApiLoad {
  /** Settles once a call of the load met ThrottlingException: from then on the bucket is dry. */
  readonly dry: Promise<void>;
  /** Stops the load and reports what it saw. */
  stop(): Promise<LoadReport>;
}

/**
 * Another tenant of the same account and Region: ListTasks at `callsPerSecond` (same bucket as the driver's
 * DescribeTasks: `clusterResourceRead`, 100 burst, 20/s refill at AWS's rates) with SDK retries off, so the bucket
 * runs dry and the driver's own calls meet ThrottlingException.
 */
export function startApiLoad(stack: LocalStack, callsPerSecond: number): ApiLoad {
  const ecs = new ECSClient({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: { accessKeyId: 'load', secretAccessKey: 'load' },
    maxAttempts: 1,
  });
  let calls = 0;
  let throttled = 0;
  let markDry: () => void = () => undefined;
  const dry = new Promise<void>((resolve) => {
    markDry = resolve;
  });
  const inFlight = new Set<Promise<void>>();
  const fire = () => {
    calls++;
    const call = ecs.send(new ListTasksCommand({ cluster: stack.cluster })).then(
      () => undefined,
      (error: Error) => {
        if (error.name !== 'ThrottlingException') return;
        throttled++;
        markDry();
      },
    );
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
  };
  const timer = setInterval(fire, 1000 / callsPerSecond);
  return {
    dry,
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
      ecs.destroy();
      return { calls, throttled };
    },
  };
}
