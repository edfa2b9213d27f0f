import { isValidFargateSize } from '@gitlab-fargate/config';
import { clientException } from '../wire/aws-error.js';

// The table of valid task sizes (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size)
// is the config package's: one home for it.
export { isValidFargateSize };

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
