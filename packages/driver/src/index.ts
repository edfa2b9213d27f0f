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
