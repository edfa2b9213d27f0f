import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { DescribeClustersCommand, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { loadDriverConfig, loadRunnerConfig } from '@gitlab-fargate/config';
import { RUNNER_IDENTITY_VARIABLE } from '@gitlab-fargate/driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from './local-stack.js';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('startLocalStack', () => {
  it('creates the dev cluster with both Fargate capacity providers, on-demand by default', async () => {
    const { clusters } = await stack.ecs.send(new DescribeClustersCommand({ clusters: [stack.cluster] }));
    expect(clusters?.[0]).toMatchObject({
      clusterName: 'gitlab-runner-dev',
      status: 'ACTIVE',
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    });
  });

  it('registers the job task definition on the locally built ci-coordinator image', async () => {
    const { taskDefinition } = await stack.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: stack.taskDefinition }));
    expect(taskDefinition).toMatchObject({
      family: 'gitlab-runner-dev-task',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      containerDefinitions: [{ name: 'ci-coordinator', image: stack.image, portMappings: [{ containerPort: 22 }] }],
    });
    const labels = execFileSync('docker', ['image', 'inspect', '--format', '{{json .Config.Labels}}', stack.image], { encoding: 'utf8' });
    expect(JSON.parse(labels)).toMatchObject({ 'org.gitlab-fargate.image': 'ci-coordinator' });
  });

  it('writes driver and runner configuration that validate, private to the user', async () => {
    const driver = (await loadDriverConfig(stack.driverConfigPath)).config;
    expect(driver.fargate).toMatchObject({ cluster: stack.cluster, taskDefinition: stack.taskDefinition, region: 'eu-west-1' });
    expect(driver.taskMetadata.directory).toBe(stack.metadataDirectory);
    const runner = (await loadRunnerConfig(stack.runnerConfigPath)).config.runners[0]!;
    expect(runner.custom.runExec).toBe(process.execPath);
    expect(runner.custom.runArgs).toEqual([stack.driver.leadingArgs[0], '--config', stack.driverConfigPath, 'custom', 'run']);
    for (const file of [stack.driverConfigPath, stack.runnerConfigPath]) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
  });

  it('points the driver at the emulator: its validate verb accepts the configuration', () => {
    const result = spawnSync(stack.driver.executable, [...stack.driver.leadingArgs, '--config', stack.driverConfigPath, 'validate'], {
      env: stack.env,
      encoding: 'utf8',
    });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    expect(stack.env.AWS_ENDPOINT_URL_ECS).toBe(stack.endpoint);
  });

  it("gives the driver the runner's identity, so it does not fall back to the job's variable", async () => {
    expect(stack.runnerShortToken).toBe('localstac');
    expect(stack.env[RUNNER_IDENTITY_VARIABLE]).toBe(stack.runnerShortToken);
    // gc logs the identity warnings; a job's CI_RUNNER_SHORT_TOKEN is what gitlab-runner derives from config.toml.
    // Not spawnSync: the emulator answers from this process.
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(stack.driver.executable, [...stack.driver.leadingArgs, '--config', stack.driverConfigPath, 'gc'], {
        env: { ...stack.env, CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: stack.runnerShortToken },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.stderr).not.toContain(RUNNER_IDENTITY_VARIABLE);
    expect(result.stderr).not.toMatch(/warn/i);
    expect(result.code, result.stderr).toBe(0);
  });

  it('rewrites the driver configuration with extra settings, still validated', async () => {
    await stack.rewriteDriverConfig({ fargateExtra: '  OnDemandFallback = false\n' });
    expect(readFileSync(stack.driverConfigPath, 'utf8')).toContain('OnDemandFallback = false');
    await expect(stack.rewriteDriverConfig({ fargateExtra: '  NoSuchKey = 1\n' })).rejects.toThrow(/NoSuchKey/);
    await stack.rewriteDriverConfig({});
  });

  it('removes its work folder and the emulator on stop, and stop is safe twice', async () => {
    const second = await startLocalStack({ cluster: 'second', region: 'us-east-1' });
    await second.stop();
    await second.stop();
    expect(existsSync(second.workDir)).toBe(false);
    // Refused: nothing listens any more (a slow or hung emulator would time out instead, and fail this).
    await expect(fetch(`${second.endpoint}/_emulator/state`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});
