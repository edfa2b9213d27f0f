/**
 * @gitlab-fargate/driver: a GitLab Runner custom-executor driver that runs each CI job in its own ECS Fargate task.
 * The CLI (`gitlab-fargate-driver`) is the product; these exports let tools and tests drive the same pieces.
 */
export { main, type MainIo } from './main.js';
export { parseArgs, type Command, type GlobalFlags, type ParsedArgs } from './args.js';
export { BuildFailure, Cancelled, OverrideRefused, SystemFailure, UsageError } from './errors.js';
export { RUNNER_IDENTITY_VARIABLE, readJobEnvironment, type JobEnvironment } from './job/environment.js';
export { readOverrides, type JobOverrides } from './job/overrides.js';
export { parseState, readState, removeState, stateStem, statePath, writeState, type JobState } from './job/state.js';
export { createLogger, type LogOutputFormat, type LogSeverity, type Logger, type LoggerOptions } from './log.js';
export type { Connection, ExecResult, ExecStreams, Transport, TransportTarget } from './ssh/transport.js';
export { sshTransport, HostKeyMismatch, SshConnectError } from './ssh/connect.js';
export { waitUntilReachable } from './ssh/readiness.js';
export { SCRIPT_COMMAND } from './ssh/exec.js';
export { MUX_COMMAND } from './ssh/mux/protocol.js';
export { generateJobKeyPair, type JobKeyPair } from './ssh/keys.js';
export { DRIVER_NAME, driverVersion } from './version.js';
export { readControllerSettings, type ControllerSettings } from './managers/settings.js';
export { DRAIN_STARTED_TAG, MANAGER_STARTED_BY, reconcileManagers, type ReconcileOptions, type ReconcileReport } from './managers/reconcile.js';
export { readJobImageRequest, parseJobImageRequest, type JobImage, type JobImageRequest, type JobService, type JobVariable } from './job-image/payload.js';
export { checkJobImagePolicy, ImageRefused } from './job-image/policy.js';
export { serviceHostnames } from './job-image/aliases.js';
export { serviceEnvironment, type ServiceEnvironment } from './job-image/service-env.js';
export { DERIVED_NAMES, TASK_DEFINITION_TAGS, deriveTaskDefinition, type DeriveInput, type DerivedTaskDefinition } from './job-image/derive.js';
export { planJobImage, type JobImagePlan, type JobImagePlanInput } from './job-image/plan.js';
export { ECS_TASK_LIMITS, LimitExceeded, checkServicePorts, type PortOwner } from './job-image/limits.js';
export { derivedTaskOverrides, type DerivedTaskOverrides, type DerivedTaskOverridesInput } from './job-image/overrides.js';
export { ensureTaskDefinition, type EnsureTaskDefinitionOptions, type EnsuredTaskDefinition } from './aws/task-definitions.js';
export { listUnusedFamilies, retireFamily, type ListUnusedFamiliesOptions, type RetiredFamily, type UnusedFamily } from './aws/task-definition-gc.js';
export { TASK_DEFINITION_CACHE_FILE } from './job/state.js';
export { DETECTED_SHELLS, detectShellCommand } from './job-image/shell-detect.js';
export { isUserStage } from './job-image/build-stage.js';
export { claimWarmTask, type WarmClaim, type WarmClaimInput } from './pool/claim-warm.js';
export { PoolKeeper, type CycleReport } from './pool/keeper.js';
export type { KeeperContext } from './pool/context.js';
export { poolStatus, type PoolStatus } from './pool/status.js';
export { NO_METRICS, PrometheusRegistry, type PoolMetrics } from './pool/metrics.js';
export { claim as claimPoolEntry, listEntries as listPoolEntries, type ClaimRequest } from './pool/directory.js';
export type { EntryState, PoolEntry, StoredEntry } from './pool/entry.js';
