import os from 'node:os';
import { LABELS } from '../lifecycle/container-spec.js';
import type { DockerClient } from './docker-client.js';

/** Which lone loopback block (127.<block>.0.0/16) no container on this engine publishes on yet. */
export async function freeLoopbackBlock(docker: DockerClient): Promise<number> {
  const used = new Set<number>();
  const containers = await docker.listContainers([]);
  for (const container of containers) {
    for (const port of container.Ports ?? []) {
      const match = /^127\.(\d+)\./.exec(port.IP ?? '');
      if (match) used.add(Number(match[1]));
    }
  }
  const candidates = Array.from({ length: 191 }, (_, i) => 64 + i).filter((block) => !used.has(block));
  if (candidates.length === 0) throw new Error('Every loopback block 127.64–254.x.x is in use by containers; set loopbackBlock explicitly.');
  return candidates[Math.floor(Math.random() * candidates.length)]!;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a resource's labels name an emulator process that is gone. */
function orphaned(labels: Record<string, string> | null): boolean {
  const pid = Number(labels?.[LABELS.pid]);
  return !Number.isInteger(pid) || !processAlive(pid);
}

/**
 * Removes containers (task containers and network holders), then task volumes, of emulators on this host whose
 * process is gone. Returns how many containers were removed.
 */
export async function removeOrphanContainers(docker: DockerClient): Promise<number> {
  const hostname = os.hostname();
  const mine = [LABELS.managed, `${LABELS.host}=${hostname}`];
  const orphans = (await docker.listContainers(mine)).filter((container) => orphaned(container.Labels));
  await Promise.all(orphans.map((container) => docker.removeContainer(container.Id)));
  const volumes = (await docker.listVolumes(mine)).filter((volume) => orphaned(volume.Labels));
  await Promise.all(volumes.map((volume) => docker.removeVolume(volume.Name).catch(() => undefined)));
  return orphans.length;
}

/** Removes every container, holder and task volume of one emulator instance (stop and reset). */
export async function removeInstanceResources(docker: DockerClient, instanceId: string): Promise<void> {
  const label = [`${LABELS.instance}=${instanceId}`];
  const containers = await docker.listContainers(label);
  await Promise.all(containers.map((container) => docker.removeContainer(container.Id)));
  const volumes = await docker.listVolumes(label);
  await Promise.all(volumes.map((volume) => docker.removeVolume(volume.Name).catch(() => undefined)));
}
