import { CPU_ARCHITECTURES, OVERRIDE_VARIABLES, type CpuArchitecture, type FargateSettings, type OverridePolicy } from '@gitlab-fargate/config';
import { OverrideRefused } from '../errors.js';

const VARIABLE = OVERRIDE_VARIABLES.cpuArchitecture;

/**
 * Reads `FARGATE_CPU_ARCHITECTURE` (already trimmed; undefined when unset) against `[Overrides] CpuArchitectures`.
 * The architecture comes with the task definition, so a job may not also name one with `FARGATE_TASK_DEFINITION`.
 *
 * @throws OverrideRefused naming the variable and the rule
 */
export function readCpuArchitecture(
  raw: string | undefined, policy: OverridePolicy, taskDefinitionChosen: boolean,
): CpuArchitecture | undefined {
  if (raw === undefined) return undefined;
  const wanted = CPU_ARCHITECTURES.find((architecture) => architecture === raw.toUpperCase());
  if (wanted === undefined) {
    throw new OverrideRefused(VARIABLE, `expected ${CPU_ARCHITECTURES.join(' or ')}, found ${JSON.stringify(raw)}`);
  }
  const allowed = policy.cpuArchitectures ?? [];
  if (!allowed.includes(wanted)) {
    const rule = allowed.length === 0 ? '[Overrides] CpuArchitectures is empty, so jobs may not choose this' : `[Overrides] CpuArchitectures allows ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
    throw new OverrideRefused(VARIABLE, `${JSON.stringify(wanted)} is not allowed: ${rule}`);
  }
  if (taskDefinitionChosen) {
    throw new OverrideRefused(
      VARIABLE,
      `set either ${VARIABLE} or ${OVERRIDE_VARIABLES.taskDefinition}, not both: the task definition decides the architecture`,
    );
  }
  return wanted;
}

/**
 * The task definition a job's architecture choice selects: `[Fargate] Arm64TaskDefinition` for ARM64; undefined for
 * X86_64 or no choice, which keep the usual one.
 *
 * @throws OverrideRefused when ARM64 is chosen but the environment has no ARM64 task definition
 */
export function taskDefinitionForArchitecture(fargate: FargateSettings, architecture: CpuArchitecture | undefined): string | undefined {
  if (architecture !== 'ARM64') return undefined;
  if (fargate.arm64TaskDefinition === undefined) {
    throw new OverrideRefused(VARIABLE, 'this runner has no ARM64 task definition: its administrator must set [Fargate] Arm64TaskDefinition');
  }
  return fargate.arm64TaskDefinition;
}
