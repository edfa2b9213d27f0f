import { CredentialSource } from './aws/credentials.js';
import { AwsRequestError, callJsonService, type JsonService } from './aws/json-protocol.js';
import { readOwnTask, type OwnTask } from './own-task.js';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The tag the manager controller puts on a manager it drains: an old version's, or one beyond the managers' count. A
 * copy of the driver's `DRAIN_STARTED_TAG` (packages/driver/src/managers/reconcile.ts; this package does not depend
 * on the driver): `drain-tag.test.ts` proves the two agree.
 */
export const DRAIN_STARTED_TAG = 'gitlab-fargate:drain-started';

const ECS: JsonService = { title: 'ECS', name: 'ecs', targetPrefix: 'AmazonEC2ContainerServiceV20141113' };

interface DescribedTask {
  readonly taskArn?: unknown;
  readonly tags?: ReadonlyArray<{ readonly key?: unknown; readonly value?: unknown }>;
}

/**
 * Reads the drain tag on the manager's own ECS task. The task comes from the task metadata endpoint
 * (`$ECS_CONTAINER_METADATA_URI_V4/task`, read once); its tags from ECS `DescribeTasks` with `include: ["TAGS"]`,
 * signed with the task role's credentials, which `ecs:DescribeTasks` on the cluster's tasks covers (no
 * `ecs:ListTagsForResource`). The metadata endpoint's `/taskWithTags` is not used: AWS documents it for tasks on EC2
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4.html, the task and container
 * instance tags the container agent reads), but the Fargate endpoint's paths are only the container, `/task`, `/stats`
 * and `/task/stats` (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html).
 */
export class DrainTagReader {
  private task: OwnTask | undefined;
  private readonly credentials: CredentialSource;

  /** @param metadataEndpoint the value of `ECS_CONTAINER_METADATA_URI_V4` */
  constructor(
    private readonly metadataEndpoint: string,
    private readonly env: Environment,
    credentials?: CredentialSource,
  ) {
    this.credentials = credentials ?? new CredentialSource(env);
  }

  /**
   * The drain tag's value (when the controller began draining this manager), or undefined while it has none.
   *
   * @throws Error when the metadata endpoint or ECS cannot say
   */
  async read(): Promise<string | undefined> {
    this.task ??= await readOwnTask(this.metadataEndpoint).catch((error: unknown) => {
      throw new Error(`cannot read this manager's task from ${this.metadataEndpoint}/task: ${(error as Error).message}`);
    });
    const { taskArn, cluster, region } = this.task;
    const answer = await callJsonService(ECS, {
      action: 'DescribeTasks',
      input: { cluster, tasks: [taskArn], include: ['TAGS'] },
      region,
      env: this.env,
      credentials: this.credentials,
    });
    const tasks = Array.isArray(answer['tasks']) ? (answer['tasks'] as DescribedTask[]) : [];
    const own = tasks.find((task) => task.taskArn === taskArn);
    if (own === undefined) {
      throw new AwsRequestError('MissingTask', `ECS DescribeTasks does not describe this manager's task ${taskArn}: ${JSON.stringify(answer['failures'] ?? [])}`);
    }
    const value = own.tags?.find((tag) => tag.key === DRAIN_STARTED_TAG)?.value;
    return typeof value === 'string' ? value : undefined;
  }
}
