export {
  CI_COORDINATOR_DEFAULTS,
  HOST_KEY_TYPES,
  resolveCiCoordinatorSpec,
  type CiCoordinatorSpec,
  type HostKeyType,
  type ResolvedCiCoordinatorSpec,
} from './spec/ci-coordinator.js';
export { CI_TOOLS_COMMANDS, CI_TOOLS_DEFAULTS, CI_TOOLS_NODE_VERSION, resolveCiToolsSpec } from './spec/ci-tools.js';
export {
  RUNNER_MANAGER_DEFAULTS,
  resolveRunnerManagerSpec,
  type ResolvedRunnerManagerSpec,
  type RunnerManagerSpec,
} from './spec/runner-manager.js';
export {
  JOB_AGENT_DEFAULTS,
  resolveJobAgentSpec,
  type JobAgentSpec,
  type ResolvedJobAgentSpec,
} from './spec/job-agent.js';
export * from './spec/job-agent-contract.js';
export { resolveImagesSpec, type ImagesSpec, type ResolvedImagesSpec } from './spec/images-spec.js';
export { SpecValidationError, type SpecIssue } from './spec/issues.js';
export {
  findStaleFiles,
  generateImages,
  writeGeneratedFiles,
  type GeneratedFile,
  type StaleFile,
} from './generate.js';
export { ciCoordinatorDockerfile } from './render/ci-coordinator/dockerfile.js';
export { ciCoordinatorEntrypoint, SESSION_ENVIRONMENT_FILE } from './render/ci-coordinator/entrypoint.js';
export { runnerManagerDockerfile } from './render/runner-manager/dockerfile.js';
export { runnerManagerEntrypoint } from './render/runner-manager/entrypoint.js';
export { jobAgentDockerfile } from './render/job-agent/dockerfile.js';
export { jobAgentEntry } from './render/job-agent/entry.js';
export { jobAgentSession } from './render/job-agent/session.js';
export {
  assembleRunnerManagerContext,
  type RunnerManagerContext,
  type RunnerManagerContextOptions,
} from './context/runner-manager-context.js';
export { vendorPackage } from './context/vendor-package.js';
