/**
 * Fargate task sizes for Linux tasks: CPU units → the memory sizes (MiB) Fargate accepts with them.
 * Source: the ECS developer guide's task CPU and memory table (8 and 16 vCPU need platform version 1.4.0).
 * A copy of the config package's FARGATE_TASK_SIZES (jsii packages cannot depend on an ESM package):
 * test/fargate-sizes.test.ts checks they agree.
 */
export const FARGATE_MEMORY_BY_CPU: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, [1024, 2048, 3072, 4096]],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

/**
 * Why `cpu`/`memoryMiB` is not a Fargate size, or undefined when it is one.
 * @param what names the task in the message, e.g. "job task"
 */
export function fargateSizeProblem(what: string, cpu: number, memoryMiB: number): string | undefined {
  const memories = FARGATE_MEMORY_BY_CPU.get(cpu);
  if (memories === undefined) {
    return (
      `${what}: cpu ${cpu} is not a Fargate size. Use one of ${[...FARGATE_MEMORY_BY_CPU.keys()].join(', ')} ` +
      '(CPU units: 1024 = 1 vCPU).'
    );
  }
  if (!memories.includes(memoryMiB)) {
    return (
      `${what}: memory ${memoryMiB} MiB does not fit cpu ${cpu}. With ${cpu} CPU units Fargate accepts ` +
      `${describe(memories)} MiB.`
    );
  }
  return undefined;
}

function describe(values: readonly number[]): string {
  if (values.length <= 4) return values.join(', ');
  const step = (values[1] ?? 0) - (values[0] ?? 0);
  return `${values[0]} to ${values[values.length - 1]} in steps of ${step}`;
}

/** Fargate ephemeral storage: 21 to 200 GiB when set (20 GiB when left out). */
export function ephemeralStorageProblem(sizeGiB: number): string | undefined {
  if (!Number.isInteger(sizeGiB) || sizeGiB < 21 || sizeGiB > 200) {
    return `job ephemeralStorageGiB must be an integer from 21 to 200 (got ${sizeGiB}); leave it out for Fargate's 20 GiB.`;
  }
  return undefined;
}
