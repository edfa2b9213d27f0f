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

/** Removes containers of emulators on this host whose process is gone. Returns how many were removed. */
export async function removeOrphanContainers(docker: DockerClient): Promise<number> {
  const hostname = os.hostname();
  const mine = await docker.listContainers([LABELS.managed, `${LABELS.host}=${hostname}`]);
  const orphans = mine.filter((container) => {
    const pid = Number(container.Labels[LABELS.pid]);
    return !Number.isInteger(pid) || !processAlive(pid);
  });
  await Promise.all(orphans.map((container) => docker.removeContainer(container.Id)));
  return orphans.length;
}
