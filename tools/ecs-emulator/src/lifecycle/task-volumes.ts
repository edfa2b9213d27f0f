import type { DockerClient } from '../docker/docker-client.js';
import { taskIdOf } from '../ecs/identifiers.js';
import type { Task, TaskDefinition } from '../ecs/model.js';
import { LABELS } from './container-spec.js';

/**
 * Task volumes: each `volumes[]` entry of the task definition is a Docker named volume that lives as long as
 * the task, labelled like the task's containers so reset, stop and orphan cleanup find it. An empty named volume
 * is filled from the image's content at the mount path when first mounted, which gives Fargate's VOLUME-directive
 * copy-in (Docker copies for any image path, Fargate documents it for VOLUME paths).
 */
function dockerVolumeName(task: Task, volume: string): string {
  return `ecs-emulator-${taskIdOf(task.taskArn)}-${volume}`;
}

/** Creates the task's volumes; returns their Docker names by task-definition volume name. */
export async function createTaskVolumes(
  docker: DockerClient,
  task: Task,
  taskDefinition: TaskDefinition,
  instanceLabels: Record<string, string>,
): Promise<Map<string, string>> {
  const names = new Map(taskDefinition.volumes.map((volume) => [volume.name, dockerVolumeName(task, volume.name)]));
  await Promise.all(
    [...names].map(([volume, name]) =>
      docker.createVolume(name, { ...instanceLabels, [LABELS.taskArn]: task.taskArn, [LABELS.volumeName]: volume }),
    ),
  );
  return names;
}

/** Removes volumes (after their containers are gone); a missing one is not an error. */
export async function removeVolumes(docker: DockerClient, names: Iterable<string>): Promise<void> {
  await Promise.all([...names].map((name) => docker.removeVolume(name).catch(() => undefined)));
}
