import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_MISSING, putParameter, startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../../test/moto.js';
import { SsmParameterReader } from './aws/ssm.js';
import { parseSettings, SettingsError } from './settings.js';
import { readStartSettings, START_RETRY_DELAYS_MS, writeSettingsEnvironment } from './start-settings.js';

const PARAMETER = '/gitlab-fargate-test/start/settings';

describe.skipIf(MOTO_MISSING !== undefined)('readStartSettings (moto as SSM)', () => {
  let moto: Moto;
  let reader: SsmParameterReader;
  beforeAll(async () => {
    moto = await startMoto();
    reader = new SsmParameterReader({
      AWS_ENDPOINT_URL_SSM: moto.endpoint,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    });
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('waits while the parameter names another manager version, and starts once it names this one', async () => {
    await putParameter(moto.endpoint, PARAMETER, '{"GITLAB_FARGATE_MANAGER_VERSION":"v1","CONCURRENT":"2"}');
    const lines: string[] = [];
    const sleeps: number[] = [];
    const started = await readStartSettings(
      { parameterName: PARAMETER, pollSeconds: 5, ownVersion: 'v2' },
      {
        read: () => reader.get(PARAMETER),
        // The deploy updates the parameter while the new manager waits.
        sleep: async (ms) => {
          sleeps.push(ms);
          if (sleeps.length === 2) await putParameter(moto.endpoint, PARAMETER, '{"GITLAB_FARGATE_MANAGER_VERSION":"v2","CONCURRENT":"4"}');
        },
        log: (line) => lines.push(line),
      },
    );
    expect(started.settings.values.get('CONCURRENT')).toBe('4');
    expect(sleeps).toEqual([5000, 5000]);
    expect(lines).toEqual([
      `${PARAMETER} names manager version v1, this manager is v2: not starting gitlab-runner; checking again every 5 s until it names v2`,
      `${PARAMETER} now names this manager's version v2: starting`,
    ]);
  });

  it('retries a failed read, then gives up with its error', async () => {
    const sleeps: number[] = [];
    const error = await readStartSettings(
      { parameterName: '/gitlab-fargate-test/start/missing', pollSeconds: 5 },
      { read: () => reader.get('/gitlab-fargate-test/start/missing'), sleep: async (ms) => void sleeps.push(ms), log: () => {} },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/ParameterNotFound/);
    expect(sleeps).toEqual(START_RETRY_DELAYS_MS);
  });

  it('refuses a value that cannot be used, without retrying', async () => {
    await putParameter(moto.endpoint, PARAMETER, '{"RUNNER_TOKEN":"glrt-x"}');
    await expect(
      readStartSettings(
        { parameterName: PARAMETER, pollSeconds: 5 },
        { read: () => reader.get(PARAMETER), sleep: async () => {}, log: () => {} },
      ),
    ).rejects.toThrow(SettingsError);
  });
});

describe('writeSettingsEnvironment', () => {
  it('writes NUL-ended NAME=VALUE entries, mode 0600, that keep newlines and quotes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'manager-start-'));
    try {
      const file = join(dir, 'settings');
      await writeSettingsEnvironment(file, parseSettings('{"TASK_TAGS":"a=\\"1\\"\\nb=$x","CONCURRENT":"3"}', 'test'));
      expect(await readFile(file, 'utf8')).toBe('TASK_TAGS=a="1"\nb=$x\0CONCURRENT=3\0');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
