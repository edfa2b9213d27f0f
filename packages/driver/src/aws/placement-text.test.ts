import { describe, expect, it } from 'vitest';
import { describePlacement } from './placement-text.js';

describe('describePlacement', () => {
  it('names the launch type as on-demand FARGATE, and a strategy by its providers in order', () => {
    expect(describePlacement({ kind: 'launchType' })).toBe('on-demand FARGATE');
    expect(describePlacement({ kind: 'strategy', strategy: [{ capacityProvider: 'FARGATE_SPOT' }, { capacityProvider: 'FARGATE' }] })).toBe(
      'capacity providers FARGATE_SPOT, FARGATE',
    );
  });
});
