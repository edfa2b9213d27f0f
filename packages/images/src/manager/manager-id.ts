import { hostname } from 'node:os';
import { MisconfiguredError } from './exit-codes.js';
import { ECS_METADATA_VARIABLE, readOwnTask } from './own-task.js';
import { MANAGER_ID_VARIABLE } from './variables.js';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * What the driver accepts as a manager ID, and refuses every stage otherwise: an ECS task ID's characters, at most 64
 * (`MANAGER_ID` in packages/driver/src/job/environment.ts; `manager-id.test.ts` checks that the two agree).
 */
export const MANAGER_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;
const ATTEMPTS = 3;

/** The manager's identity and where it came from, for the log. */
export interface ManagerId {
  readonly id: string;
  readonly source: string;
}

/**
 * The manager's ID for the driver's job tasks: a `GITLAB_FARGATE_MANAGER_ID` given to the container; else the ECS task
 * ID, the last part of the `TaskARN` that `$ECS_CONTAINER_METADATA_URI_V4/task` answers
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html); else, outside
 * ECS (no such endpoint), the host name in the driver's {@link MANAGER_ID_PATTERN} (other characters become `-`).
 *
 * @param hostName the host's name @default os.hostname
 * @throws MisconfiguredError when a given ID is not of that form
 * @throws Error when the endpoint is set but gives no task ARN: tagging job tasks with a wrong ID would hide them
 *   from the manager's drain, so the start fails instead
 */
export async function resolveManagerId(
  env: Environment,
  sleep: (ms: number) => Promise<void>,
  hostName: () => string = hostname,
): Promise<ManagerId> {
  const given = env[MANAGER_ID_VARIABLE];
  if (given) {
    if (!MANAGER_ID_PATTERN.test(given)) {
      throw new MisconfiguredError(`${MANAGER_ID_VARIABLE} is ${JSON.stringify(given.slice(0, 80))}: give 1 to 64 letters, digits or -, or leave it unset for the ECS task ID`);
    }
    return { id: given, source: 'as given to the container' };
  }
  const endpoint = env[ECS_METADATA_VARIABLE];
  if (!endpoint) return { id: hostId(hostName()), source: `${ECS_METADATA_VARIABLE} is not set (not an ECS task): this host's name` };
  let last: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      return { id: (await readOwnTask(endpoint)).taskId, source: `the ECS task ID (${ECS_METADATA_VARIABLE}/task)` };
    } catch (error) {
      last = error;
      if (attempt < ATTEMPTS) await sleep(1_000 * attempt);
    }
  }
  throw new Error(`cannot find this manager's ECS task ID at ${endpoint}/task: ${(last as Error).message}`);
}

/** The host name as a manager ID: characters the driver refuses become `-`, at most 64 of them. */
function hostId(name: string): string {
  return name.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 64) || 'localhost';
}

