export { startEmulator, removeOrphanContainers, type RunningEmulator, type EmulatorState } from './emulator.js';
export type { EmulatorOptions, EmulatorConfigFile, TaskStateChange } from './config/options.js';
export { validateConfigFile, ConfigError } from './config/validate.js';
export type { FaultOptions, FaultSelector, StartFailureError } from './faults/faults.js';
export { AWS_BUCKETS, FARGATE_RUN_TASK_BUCKET, type ApiCategory, type ThrottlingOptions } from './faults/throttling.js';
export type { BucketFigures } from './faults/token-bucket.js';
export { DEFAULT_PHASES, type PhaseDurations } from './lifecycle/phases.js';
export { LABELS as DOCKER_LABELS } from './lifecycle/container-spec.js';
export { FAILURE_REASONS } from './ecs/run-task.js';
