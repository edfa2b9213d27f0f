import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MOTO_MISSING, startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../../test/moto.js';
import { runManagerTask, tagTask } from '../../test/moto-ecs.js';
import { PACKAGE_DIR } from '../../test/paths.js';
import { startTaskMetadataEndpoint, type TaskMetadataEndpoint } from '../../test/task-metadata.js';
import { DRAIN_STARTED_TAG, DrainTagReader } from './drain-tag.js';

describe('DRAIN_STARTED_TAG', () => {
  it("is the tag the driver's manager controller puts on a manager it drains (DRAIN_STARTED_TAG in managers/reconcile.ts)", () => {
    const source = readFileSync(join(PACKAGE_DIR, '../driver/src/managers/reconcile.ts'), 'utf8');
    expect(source).toContain(`export const DRAIN_STARTED_TAG = '${DRAIN_STARTED_TAG}';`);
  });
});

describe.skipIf(MOTO_MISSING !== undefined)('DrainTagReader (a local task metadata endpoint, moto as ECS)', () => {
  let moto: Moto;
  let metadata: TaskMetadataEndpoint | undefined;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  afterEach(async () => {
    await metadata?.close();
    metadata = undefined;
  });
  const env = () => ({
    AWS_ENDPOINT_URL_ECS: moto.endpoint,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  });

  it("reads the tag's value on this manager's own task, and nothing before the controller put it there", async () => {
    const task = await runManagerTask(moto.endpoint, 'gitlab-ci-reader');
    metadata = await startTaskMetadataEndpoint({ TaskARN: task.taskArn, Cluster: task.clusterArn });
    const reader = new DrainTagReader(metadata.uri, env());
    expect(await reader.read()).toBeUndefined();
    await tagTask(moto.endpoint, task.taskArn, { [DRAIN_STARTED_TAG]: '2026-12-03T06:01:00Z' });
    expect(await reader.read()).toBe('2026-12-03T06:01:00Z');
    expect(metadata.hits()).toBe(1);
  });

  it("finds the cluster in the task's ARN when the answer names none, and the Region there too", async () => {
    const task = await runManagerTask(moto.endpoint, 'gitlab-ci-arn-only');
    await tagTask(moto.endpoint, task.taskArn, { [DRAIN_STARTED_TAG]: '2026-12-03T06:02:00Z' });
    metadata = await startTaskMetadataEndpoint({ TaskARN: task.taskArn });
    expect(task.taskArn).toContain(`:ecs:${TEST_REGION}:`);
    expect(await new DrainTagReader(metadata.uri, env()).read()).toBe('2026-12-03T06:02:00Z');
  });

  it('says which part could not answer: the metadata endpoint, or ECS', async () => {
    metadata = await startTaskMetadataEndpoint({ TaskARN: 'not-an-arn' });
    await expect(new DrainTagReader(metadata.uri, env()).read()).rejects.toThrow(
      `cannot read this manager's task from ${metadata.uri}/task: the answer's TaskARN "not-an-arn" is not an ECS task ARN`,
    );
    const elsewhere = { ...env(), AWS_ENDPOINT_URL_ECS: 'http://127.0.0.1:9' };
    await metadata.close();
    metadata = await startTaskMetadataEndpoint({ TaskARN: 'arn:aws:ecs:eu-west-1:123456789012:task/c/0123456789abcdef' });
    await expect(new DrainTagReader(metadata.uri, elsewhere).read()).rejects.toThrow(/^cannot reach ECS at http:\/\/127\.0\.0\.1:9: /);
  });
});
