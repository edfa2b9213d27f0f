export { buildCiCoordinatorImage, ciCoordinatorContext, type BuildImageOptions } from './ci-coordinator-image.js';
export { localDriverToml, localRunnerToml, type DriverInvocation, type LocalDriverSettings } from './configuration.js';
export { driverCli, startLocalStack, type LocalStack, type LocalStackOptions } from './local-stack.js';
