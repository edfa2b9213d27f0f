function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let value = from; value <= to; value += step) out.push(value);
  return out;
}

/**
 * Valid Fargate task sizes: CPU units → the memory sizes (MiB) allowed with them (Linux, platform 1.4.0).
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
export const FARGATE_TASK_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, [1024, 2048, 3072, 4096]],
  [1024, steps(2048, 8192, 1024)],
  [2048, steps(4096, 16384, 1024)],
  [4096, steps(8192, 30720, 1024)],
  [8192, steps(16384, 61440, 4096)],
  [16384, steps(32768, 122880, 8192)],
]);

/** The CPU values Fargate accepts, in units (1024 = 1 vCPU). */
export const FARGATE_CPU_VALUES: readonly number[] = [...FARGATE_TASK_SIZES.keys()];

/** Every memory size (MiB) that some Fargate CPU value accepts, ascending. */
export const FARGATE_MEMORY_VALUES: readonly number[] = [...new Set([...FARGATE_TASK_SIZES.values()].flat())].sort((a, b) => a - b);

/** Task ephemeral storage bounds in GiB (20 GiB is the free default and cannot be requested explicitly). */
export const EPHEMERAL_STORAGE_GIB = { min: 21, max: 200 } as const;

/** True when Fargate runs a task with `cpu` units and `memory` MiB. */
export function isValidFargateSize(cpu: number, memory: number): boolean {
  return FARGATE_TASK_SIZES.get(cpu)?.includes(memory) ?? false;
}

/** The memory sizes (MiB) Fargate accepts with `cpu` units; empty for an invalid CPU value. */
export function fargateMemoryFor(cpu: number): readonly number[] {
  return FARGATE_TASK_SIZES.get(cpu) ?? [];
}

/** True when `gib` can be requested as task ephemeral storage. */
export function isValidEphemeralStorage(gib: number): boolean {
  return Number.isInteger(gib) && gib >= EPHEMERAL_STORAGE_GIB.min && gib <= EPHEMERAL_STORAGE_GIB.max;
}
