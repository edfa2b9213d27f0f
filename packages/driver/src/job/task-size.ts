import { type FargateSettings, OVERRIDE_VARIABLES, fargateMemoryFor, isValidFargateSize } from '@gitlab-fargate/config';
import { OverrideRefused } from '../errors.js';
import type { JobOverrides } from './overrides.js';

/** The task-level size RunTask overrides (strings for cpu and memory, as ECS wants them); absent = the task definition's. */
export interface TaskSize {
  readonly cpu?: string;
  readonly memory?: string;
  readonly ephemeralStorageGiB?: number;
}

/**
 * The size of a job's task: the job's (already policy-checked) override where it set one, else the administrator's
 * `[Fargate] Cpu`, `Memory` and `EphemeralStorage`, else nothing (the task definition decides). A job that changes
 * only one half of the configured cpu/memory pair must still end up with a size Fargate offers.
 *
 * @throws OverrideRefused naming the job's variable and the configured key, before anything is started
 */
export function taskSize(fargate: FargateSettings, overrides: JobOverrides): TaskSize {
  const cpu = overrides.cpu ?? fargate.cpu;
  const memory = overrides.memory ?? fargate.memory;
  const ephemeralStorageGiB = overrides.ephemeralStorageGiB ?? fargate.ephemeralStorage;
  if (cpu !== undefined && memory !== undefined && !isValidFargateSize(cpu, memory)) {
    // The job's own pair was checked by readOverrides: here exactly one half is the job's, the other configured.
    const [variable, configured] = overrides.cpu !== undefined ? [OVERRIDE_VARIABLES.cpu, `[Fargate] Memory = ${memory}`] : [OVERRIDE_VARIABLES.memory, `[Fargate] Cpu = ${cpu}`];
    const other = overrides.cpu !== undefined ? OVERRIDE_VARIABLES.memory : OVERRIDE_VARIABLES.cpu;
    throw new OverrideRefused(
      variable,
      `${cpu} CPU units and ${memory} MiB (${configured}) is not a Fargate size (with ${cpu} CPU units: ` +
        `${fargateMemoryFor(cpu).join(', ')} MiB); set ${other} as well`,
    );
  }
  return {
    ...(cpu !== undefined ? { cpu: String(cpu) } : {}),
    ...(memory !== undefined ? { memory: String(memory) } : {}),
    ...(ephemeralStorageGiB !== undefined ? { ephemeralStorageGiB } : {}),
  };
}
