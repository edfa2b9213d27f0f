import { describe, expect, it } from 'vitest';
import { matchesAllowList } from './allow-list.js';

describe('matchesAllowList', () => {
  it.each([
    ['ci-small', ['ci-small'], true],
    ['ci-small:3', ['ci-small'], false],
    ['ci-large:3', ['ci-large:*'], true],
    ['ci-large', ['ci-*'], true],
    ['prod-deploy', ['ci-*'], false],
    ['anything', ['*'], true],
    ['ci.small', ['ci*small'], true],
    ['ci-small', [], false],
  ])('%s against %j is %s', (value, list, allowed) => {
    expect(matchesAllowList(value, list)).toBe(allowed);
  });

  it('treats regular-expression characters in entries literally', () => {
    expect(matchesAllowList('ciXsmall', ['ci.small'])).toBe(false);
    expect(matchesAllowList('arn:aws:ecs:eu-west-1:123456789012:task-definition/ci:3', ['arn:aws:ecs:*:task-definition/ci:*'])).toBe(true);
  });
});
