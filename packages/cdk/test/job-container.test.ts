import { describe, expect, test } from 'vitest';
import { JobTask } from '../src';

// jsii cannot depend on the ESM config package, so this package keeps a copy of the job-container contract's
// container name (packages/config/src/contract/job-container.ts); this test checks the copy agrees.
describe('the job container contract', () => {
  test('the default container name is the config package’s', async () => {
    // A dynamic import: this CommonJS package cannot require the ESM one.
    const { JOB_CONTAINER_NAME } = await import('@gitlab-fargate/config');
    expect(JobTask.DEFAULT_CONTAINER_NAME).toBe(JOB_CONTAINER_NAME);
  });
});
