import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDriverConfig, parseRunnerConfig } from '@gitlab-fargate/config';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configCliStatus } from '../../test/config-cli.js';
import { MANAGER_BASE_ENVIRONMENT, testTargets } from '../../test/manager-fixtures.js';
import { deleteParameter, MOTO_MISSING, putParameter, startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../../test/moto.js';
import { runManagerTask, tagTask } from '../../test/moto-ecs.js';
import { startTaskMetadataEndpoint, type TaskMetadataEndpoint } from '../../test/task-metadata.js';
import { SsmParameterReader } from './aws/ssm.js';
import { DRAIN_STARTED_TAG, DrainTagReader } from './drain-tag.js';
import { renderConfiguration, type RenderTargets } from './rerender.js';
import { overlaySettings } from './settings.js';
import { SettingsWatcher, type WatcherOptions } from './watch.js';

configCliStatus();

const PARAMETER = '/gitlab-fargate-test/watch/settings';

describe.skipIf(MOTO_MISSING !== undefined)('SettingsWatcher (moto as SSM, the config CLI, a process as gitlab-runner)', () => {
  let moto: Moto;
  let dir: string;
  let targets: RenderTargets;
  let base: Record<string, string>;
  let runner: ChildProcess;
  let lines: string[];

  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manager-watch-'));
    targets = testTargets(dir);
    base = { ...MANAGER_BASE_ENVIRONMENT, METADATA_DIR: dir };
    const first = await renderConfiguration(base, targets);
    expect(first.ok).toBe(true);
    // Stands in for gitlab-runner: a process that a drain's SIGQUIT ends.
    runner = spawn('sleep', ['600'], { stdio: 'ignore' });
    lines = [];
  });
  afterEach(async () => {
    runner.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const awsEnv = () => ({
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  });

  /** A watcher as the CLI wires it; with `metadata`, it also reads its own task's drain tag from moto's ECS. */
  function watcher(options: Partial<WatcherOptions> = {}, metadata?: TaskMetadataEndpoint): SettingsWatcher {
    const reader = new SsmParameterReader(awsEnv());
    const drainTags = metadata === undefined ? undefined : new DrainTagReader(metadata.uri, awsEnv());
    return new SettingsWatcher(
      { parameterName: PARAMETER, pollSeconds: 30, ownVersion: 'v1', ...options },
      {
        read: () => reader.get(PARAMETER),
        render: (settings) => renderConfiguration(overlaySettings(base, settings), targets),
        drain: () => runner.kill('SIGQUIT'),
        ...(drainTags === undefined ? {} : { drainTag: () => drainTags.read() }),
        runnerAlive: () => runner.exitCode === null && runner.signalCode === null,
        sleep: async () => {},
        log: (line) => lines.push(line),
      },
    );
  }
  const files = () => Promise.all([readFile(targets.driverConfigPath, 'utf8'), readFile(targets.runnerConfigPath, 'utf8')]);
  const inodes = async () => (await Promise.all([stat(targets.driverConfigPath), stat(targets.runnerConfigPath)])).map((s) => s.ino);

  it('re-renders the files a changed setting touches, and nothing for a value it has seen', async () => {
    const w = watcher();
    await putParameter(moto.endpoint, PARAMETER, '{"GITLAB_FARGATE_MANAGER_VERSION":"v1","CONCURRENT":"6"}');
    const [driverInode] = await inodes();
    expect(await w.poll()).toBe('watching');
    const [driver, runnerToml] = await files();
    expect(parseRunnerConfig(runnerToml).config.concurrent).toBe(6);
    expect((await inodes())[0]).toBe(driverInode);
    expect(lines).toEqual([expect.stringMatching(/^SSM parameter \/gitlab-fargate-test\/watch\/settings \(version \d+\) applied \(changed: CONCURRENT\); re-rendered .*config\.toml$/)]);

    await putParameter(moto.endpoint, PARAMETER, '{"GITLAB_FARGATE_MANAGER_VERSION":"v1","CONCURRENT":"6","MAX_CPU":"2048"}');
    expect(await w.poll()).toBe('watching');
    expect(parseDriverConfig((await files())[0]).config.overrides.maxCpu).toBe(2048);
    expect(lines[1]).toMatch(/applied \(changed: MAX_CPU\); re-rendered .*fargate\.toml$/);
    expect(driver).not.toContain('MaxCpu');

    const before = await inodes();
    expect(await w.poll()).toBe('watching');
    expect(await inodes()).toEqual(before);
    expect(lines).toHaveLength(2);
  });

  it('logs a malformed value once and changes nothing; a good value after it applies', async () => {
    const w = watcher();
    const before = await files();
    await putParameter(moto.endpoint, PARAMETER, '{"CONCURRENT": 6');
    expect(await w.poll()).toBe('watching');
    expect(await w.poll()).toBe('watching');
    expect(await files()).toEqual(before);
    expect(lines).toEqual([
      expect.stringMatching(/^SSM parameter \S+ \(version \d+\) is not valid JSON .*; nothing re-rendered, the current configuration stays$/),
    ]);
    await putParameter(moto.endpoint, PARAMETER, '{"CONCURRENT":"6"}');
    await w.poll();
    expect(parseRunnerConfig((await files())[1]).config.concurrent).toBe(6);
  });

  it('keeps the files when the config CLI refuses a value, and says why', async () => {
    const w = watcher();
    const before = await files();
    await putParameter(moto.endpoint, PARAMETER, '{"CONCURRENT":"lots"}');
    await w.poll();
    expect(await files()).toEqual(before);
    expect(lines[0]).toMatch(/render runner failed: .*CONCURRENT.*; nothing re-rendered, the current configuration stays$/);
  });

  it('drains gitlab-runner with SIGQUIT when the parameter names another manager version', async () => {
    const exited = new Promise<NodeJS.Signals | null>((resolve) => runner.once('exit', (_code, signal) => resolve(signal)));
    await putParameter(moto.endpoint, PARAMETER, '{"GITLAB_FARGATE_MANAGER_VERSION":"v2","CONCURRENT":"9"}');
    const before = await files();
    expect(await watcher().poll()).toBe('drained');
    expect(await exited).toBe('SIGQUIT');
    expect(await files()).toEqual(before);
    expect(lines[0]).toMatch(/names manager version v2, this manager is v1: draining \(SIGQUIT to gitlab-runner/);
  });

  describe('a manager whose own ECS task the controller tagged to drain (one beyond the count: its version matches)', () => {
    let metadata: TaskMetadataEndpoint;
    let taskArn: string;
    beforeEach(async () => {
      const task = await runManagerTask(moto.endpoint, 'gitlab-ci-watch');
      taskArn = task.taskArn;
      // What Fargate's endpoint answers at /task (trimmed): the task's ARN and its cluster's.
      metadata = await startTaskMetadataEndpoint({ TaskARN: task.taskArn, Cluster: task.clusterArn, LaunchType: 'FARGATE' });
      await putParameter(moto.endpoint, PARAMETER, '{"GITLAB_FARGATE_MANAGER_VERSION":"v1"}');
    });
    afterEach(async () => {
      await metadata.close();
    });

    it('drains gitlab-runner with SIGQUIT once the tag is there, and not before', async () => {
      const w = watcher({}, metadata);
      expect(await w.poll()).toBe('watching');
      expect(await w.poll()).toBe('watching');
      expect(runner.exitCode === null && runner.signalCode === null).toBe(true);

      const exited = new Promise<NodeJS.Signals | null>((resolve) => runner.once('exit', (_code, signal) => resolve(signal)));
      await tagTask(moto.endpoint, taskArn, { [DRAIN_STARTED_TAG]: '2026-12-03T06:00:00Z' });
      expect(await w.poll()).toBe('drained');
      expect(await exited).toBe('SIGQUIT');
      expect(lines.at(-1)).toBe(
        `the manager controller tagged this manager's task ${DRAIN_STARTED_TAG}=2026-12-03T06:00:00Z (an old manager, or one beyond ` +
          "the managers' count): draining (SIGQUIT to gitlab-runner: it takes no more jobs and exits when its running jobs end; " +
          'the container then exits 0)',
      );
      // The task's ARN and cluster are read from the metadata endpoint once.
      expect(metadata.hits()).toBe(1);
    });

    it('keeps taking jobs while the tag cannot be read, saying so once', async () => {
      const unknown = await startTaskMetadataEndpoint({ TaskARN: 'arn:aws:ecs:eu-west-1:123456789012:task/gitlab-ci-watch/0123456789abcdef' });
      const w = watcher({}, unknown);
      expect(await w.poll()).toBe('watching');
      expect(await w.poll()).toBe('watching');
      await unknown.close();
      expect(runner.exitCode === null && runner.signalCode === null).toBe(true);
      const complaints = lines.filter((line) => line.startsWith(`cannot read this manager's ${DRAIN_STARTED_TAG} tag`));
      expect(complaints).toEqual([expect.stringMatching(/ECS DescribeTasks does not describe this manager's task .*; it keeps taking jobs, and tries again each poll$/)]);
    });
  });

  it('never drains a manager without a version of its own, nor for a parameter without one', async () => {
    await putParameter(moto.endpoint, PARAMETER, '{"GITLAB_FARGATE_MANAGER_VERSION":"v2"}');
    expect(await watcher({ ownVersion: undefined }).poll()).toBe('watching');
    await putParameter(moto.endpoint, PARAMETER, '{"CONCURRENT":"3"}');
    expect(await watcher().poll()).toBe('watching');
    expect(runner.exitCode === null && runner.signalCode === null).toBe(true);
  });

  it('renders nothing for the version the manager started with', async () => {
    const version = await putParameter(moto.endpoint, PARAMETER, '{"CONCURRENT":"2"}');
    const before = await inodes();
    const w = watcher({ appliedVersion: version });
    await w.poll();
    expect(await inodes()).toEqual(before);
    expect(lines).toEqual([]);
  });

  it('keeps going through failed reads, waiting longer after each, and applies the value once it can read again', async () => {
    await deleteParameter(moto.endpoint, PARAMETER).catch(() => undefined);
    const w = watcher();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(await w.poll()).toBe('watching');
      delays.push(w.delaySeconds);
    }
    expect(delays).toEqual([30, 60, 120]);
    expect(lines[2]).toMatch(/^cannot read \S+ \(attempt 3\): SSM answered ParameterNotFound .*; the current configuration stays, next attempt in 120 s$/);
    await putParameter(moto.endpoint, PARAMETER, '{"CONCURRENT":"7"}');
    await w.poll();
    expect(w.delaySeconds).toBe(30);
    expect(lines[3]).toMatch(/read \S+ again after 3 failed attempt\(s\)/);
    expect(parseRunnerConfig((await files())[1]).config.concurrent).toBe(7);
  });

  it('stops when gitlab-runner is gone', async () => {
    runner.kill('SIGKILL');
    await new Promise((resolve) => runner.once('exit', resolve));
    await watcher().run();
    expect(lines).toEqual([]);
  });
});
