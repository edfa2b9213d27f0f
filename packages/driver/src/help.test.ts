import { describe, expect, it } from 'vitest';
import { helpText } from './help.js';
import { STATE_GRACE_SECONDS } from './job/deadline.js';
import { RUNNER_IDENTITY_VARIABLE } from './job/environment.js';
import { TAG_KEYS } from './job/plan.js';

describe('help texts', () => {
  // The help is plain text (loaded by every stage, so it imports nothing heavy); these names live elsewhere.
  it('gc names the trusted identity variable, the deadline tag and its grace as the code defines them', () => {
    const gc = helpText('gc');
    expect(gc).toContain(RUNNER_IDENTITY_VARIABLE);
    expect(gc).toContain(TAG_KEYS.deadline);
    expect(STATE_GRACE_SECONDS).toBe(3600);
    expect(gc).toContain('job timeout + 1 h');
  });
});
