/** The variable ECS sets in every container of a task: its task metadata endpoint, version 4. */
export const ECS_METADATA_VARIABLE = 'ECS_CONTAINER_METADATA_URI_V4';

const TIMEOUT_MS = 5_000;
const TASK_ARN = /^arn:[^:]+:ecs:([^:]*):[^:]*:task\/(?:([^/]+)\/)?([A-Za-z0-9-]+)$/;

/** This container's own ECS task, as its task metadata endpoint describes it. */
export interface OwnTask {
  readonly taskArn: string;
  /** The last part of the ARN: the task ID. */
  readonly taskId: string;
  /** The cluster's ARN (or name), for ECS calls about the task. */
  readonly cluster: string;
  /** The task's Region, from its ARN. */
  readonly region: string;
}

/**
 * Reads `<endpoint>/task`, the task metadata endpoint v4's description of the task this container runs in, which
 * includes its `TaskARN` and `Cluster` on Fargate
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html).
 *
 * @param endpoint the value of {@link ECS_METADATA_VARIABLE}
 * @throws Error when the endpoint answers with an error or without an ECS task ARN
 */
export async function readOwnTask(endpoint: string): Promise<OwnTask> {
  const response = await fetch(`${endpoint}/task`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const answer = (await response.json()) as { TaskARN?: unknown; Cluster?: unknown };
  const arn = answer.TaskARN;
  const match = typeof arn === 'string' ? TASK_ARN.exec(arn) : null;
  if (typeof arn !== 'string' || match === null) throw new Error(`the answer's TaskARN ${JSON.stringify(arn)} is not an ECS task ARN`);
  const [, region, clusterInArn, taskId] = match as unknown as [string, string, string | undefined, string];
  const cluster = typeof answer.Cluster === 'string' && answer.Cluster !== '' ? answer.Cluster : (clusterInArn ?? 'default');
  return { taskArn: arn, taskId, cluster, region };
}
