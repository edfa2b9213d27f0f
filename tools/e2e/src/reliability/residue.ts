import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DOCKER_LABELS } from '@gitlab-fargate/ecs-emulator';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { MUX_COMMAND } from '@gitlab-fargate/driver';
import { describeAllTasks, emulatorVolumes, jobMetadataFiles } from '../index.js';

const run = promisify(execFile);

/** What a job can leave behind when its cleanup is incomplete. Empty lists everywhere: nothing left. */
export interface Residue {
  /** Tasks of the stack's cluster not yet STOPPED (any lastStatus: PROVISIONING … DEPROVISIONING), as `id:STATUS`. */
  readonly tasks: readonly string[];
  /** Docker containers labelled with the stack's emulator instance. */
  readonly containers: readonly string[];
  /** Files in the driver's metadata directory (a state file holds the job's private key). */
  readonly stateFiles: readonly string[];
  /** Files anywhere under the metadata directory or the given job folders holding an OpenSSH private key. */
  readonly privateKeys: readonly string[];
  /** Driver helper processes (a job's SSH multiplexer) still running for a job of this stack, as pids. */
  readonly processes: readonly string[];
  /** Docker volumes of the stack's emulator instance (a multi-container task's `gf-tools` and `builds`). */
  readonly volumes: readonly string[];
}

export const noResidue: Residue = { tasks: [], containers: [], stateFiles: [], privateKeys: [], processes: [], volumes: [] };

/** Looks once: ECS (DescribeTasks over ListTasks), Docker (by instance label) and the disk. */
export async function findResidue(stack: LocalStack, jobFolders: readonly string[] = []): Promise<Residue> {
  const tasks = (await describeAllTasks(stack))
    .filter((task) => task.lastStatus !== 'STOPPED')
    .map((task) => `${task.taskArn?.split('/').pop()?.slice(0, 8)}:${task.lastStatus}`);
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=${DOCKER_LABELS.instance}=${stack.emulator.instanceId}`]);
  const stateFiles = await jobMetadataFiles(stack);
  const privateKeys: string[] = [];
  for (const folder of [stack.metadataDirectory, ...jobFolders]) {
    for (const file of await filesUnder(folder)) {
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.includes('PRIVATE KEY')) privateKeys.push(file);
    }
  }
  const processes = await helperProcesses(stack.metadataDirectory);
  return { tasks, containers: stdout.split('\n').filter((id) => id !== ''), stateFiles, privateKeys, processes, volumes: await emulatorVolumes(stack) };
}

/** Processes whose command line names the driver's hidden multiplexer command and a path in `directory`. */
async function helperProcesses(directory: string): Promise<string[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const found: string[] = [];
  for (const pid of pids) {
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(MUX_COMMAND) && commandLine.includes(directory)) found.push(pid);
  }
  return found;
}

/**
 * Polls until the residue equals `expected` (a stopped task needs DEPROVISIONING before its container goes) and
 * returns the last look, so a test can compare it with what it expected.
 */
export async function settleResidue(
  stack: LocalStack,
  jobFolders: readonly string[],
  expected: (residue: Residue) => boolean = isEmpty,
  timeoutMs = 15_000,
): Promise<Residue> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const residue = await findResidue(stack, jobFolders);
    if (expected(residue) || Date.now() >= deadline) return residue;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function isEmpty(residue: Residue): boolean {
  return Object.values(residue).every((list: readonly string[]) => list.length === 0);
}

/** `none`, or e.g. `1 task (RUNNING), 1 container`: a matrix cell. */
export function describeResidue(residue: Residue): string {
  const parts: string[] = [];
  if (residue.tasks.length > 0) parts.push(`${residue.tasks.length} task (${residue.tasks.map((t) => t.split(':')[1]).join(', ')})`);
  if (residue.containers.length > 0) parts.push(`${residue.containers.length} container`);
  if (residue.stateFiles.length > 0) parts.push(`${residue.stateFiles.length} state file`);
  if (residue.privateKeys.length > 0) parts.push(`${residue.privateKeys.length} private key`);
  if (residue.processes.length > 0) parts.push(`${residue.processes.length} driver process`);
  if (residue.volumes.length > 0) parts.push(`${residue.volumes.length} volume`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}
