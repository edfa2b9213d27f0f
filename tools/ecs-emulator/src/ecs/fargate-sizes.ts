import { clientException } from '../wire/aws-error.js';

const range = (from: number, to: number, step: number): number[] =>
  Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);

/** Valid Fargate task memory (MiB) per task cpu (units), Linux (ecs-api.md §5.1). */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

/** Reads task cpu as ECS accepts it: units (`"1024"`) or vCPU (`"1 vCPU"`, `"0.25 vcpu"`). */
export function parseCpu(value: string): number | undefined {
  const vcpu = /^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$/i.exec(value);
  if (vcpu) return Math.round(Number(vcpu[1]) * 1024);
  return /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

/** Reads task memory as ECS accepts it: MiB (`"2048"`) or GB (`"2 GB"`, `"0.5gb"`). */
export function parseMemory(value: string): number | undefined {
  const gb = /^\s*(\d+(?:\.\d+)?)\s*gb\s*$/i.exec(value);
  if (gb) return Math.round(Number(gb[1]) * 1024);
  return /^\s*\d+\s*$/.test(value) ? Number(value) : undefined;
}

export function isValidFargateSize(cpu: number, memory: number): boolean {
  return FARGATE_MEMORY_BY_CPU[cpu]?.includes(memory) ?? false;
}

/**
 * Checks a task size and returns it normalised to units/MiB strings, or throws AWS's
 * `ClientException: No Fargate configuration exists for given values: …`.
 */
export function normaliseFargateSize(cpu: string, memory: string): { cpu: string; memory: string } {
  const cpuUnits = parseCpu(cpu);
  const memoryMiB = parseMemory(memory);
  if (cpuUnits === undefined) throw clientException(`Invalid 'cpu' setting for task.`);
  if (memoryMiB === undefined) throw clientException(`Invalid 'memory' setting for task.`);
  if (!isValidFargateSize(cpuUnits, memoryMiB)) {
    throw clientException(`No Fargate configuration exists for given values: ${cpuUnits} CPU, ${memoryMiB} memory. See the Amazon ECS documentation for the valid values.`);
  }
  return { cpu: String(cpuUnits), memory: String(memoryMiB) };
}
