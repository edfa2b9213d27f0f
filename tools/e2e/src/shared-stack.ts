import { startLocalStack, type LocalStack, type LocalStackOptions } from '@gitlab-fargate/local-stack';
import { loadRunnerSettings, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { afterAll, afterEach, beforeAll } from 'vitest';

/**
 * One local stack for the tests of a file (starting one costs seconds): started before the first test, its injected
 * faults and driver TOML put back after each test, stopped after the last. `onStarted` receives the stack and the
 * runner settings of its config.toml.
 */
export function useLocalStack(
  onStarted: (stack: LocalStack, runner: RunnerSettings) => void,
  options: LocalStackOptions = {},
): void {
  let stack: LocalStack | undefined;
  beforeAll(async () => {
    stack = await startLocalStack(options);
    onStarted(stack, await loadRunnerSettings(stack.runnerConfigPath));
  });
  afterEach(async () => {
    stack?.emulator.setFaults({});
    await stack?.rewriteDriverConfig({});
  });
  afterAll(async () => {
    await stack?.stop();
  });
}
