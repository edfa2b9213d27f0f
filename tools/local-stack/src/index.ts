export { buildCiCoordinatorImage, ciCoordinatorContext, runDockerBuild, type BuildImageOptions } from './ci-coordinator-image.js';
export { buildJobAgentImage, jobAgentContext, LOCAL_JOB_AGENT_IMAGE } from './job-agent-image.js';
export { localDriverToml, localRunnerToml, type DriverInvocation, type LocalDriverSettings } from './configuration.js';
export { driverCli, startLocalStack, type LocalStack, type LocalStackOptions } from './local-stack.js';
/** The labels the stack's emulator puts on the containers it starts, for tools that look for them. */
export { DOCKER_LABELS } from '@gitlab-fargate/ecs-emulator';
