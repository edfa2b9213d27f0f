import * as config from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import * as images from './pool-contract.js';

// The driver's keeper and claim path use the config package's contract; the ci-coordinator's entrypoint is rendered
// from this package's copy. Two homes of one fact: this test proves they agree.
describe('the warm-pool contract of the ci-coordinator', () => {
  it.each([
    ['IDLE_DEADLINE_VARIABLE', 'POOL_IDLE_DEADLINE_VARIABLE'],
    ['RUN_DIR', 'POOL_RUN_DIR'],
    ['CLAIM_LOCK_DIR', 'POOL_CLAIM_LOCK_DIR'],
    ['CLAIM_COMMAND', 'POOL_CLAIM_COMMAND'],
  ] as const)('%s is the config package’s %s', (own, theirs) => {
    expect(images[own]).toBe(config[theirs]);
  });
});
