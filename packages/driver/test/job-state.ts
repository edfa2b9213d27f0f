import type { JobState } from '../src/job/state.js';

/** The task of {@link readyJobState}. */
const TEST_TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';

/** A job whose prepare finished: task, address and pinned host key recorded (job 42, runner abc123xyz). */
export const readyJobState = {
  version: 1,
  jobId: '42',
  runnerShortToken: 'abc123xyz',
  cluster: 'ci',
  taskArn: TEST_TASK_ARN,
  address: '10.0.0.1',
  hostKey: 'AAAA',
  port: 22,
  username: 'root',
  privateKey: 'k',
  publicKey: 'p',
  createdAt: '2026-12-03T04:00:00.000Z',
} as const satisfies JobState;
