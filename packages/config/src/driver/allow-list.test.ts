import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesAllowList } from './allow-list.js';

/**
 * An independent glob matcher (dynamic programming over characters, no regular expressions) that the property
 * below compares `matchesAllowList` against: `*` matches any run of characters, everything else itself, and the
 * whole value must be consumed.
 */
function referenceGlobMatch(value: string, pattern: string): boolean {
  let reachable = [true, ...Array.from(value, () => false)];
  for (const token of pattern) {
    const next = reachable.map(() => false);
    for (let at = 0; at <= value.length; at += 1) {
      if (token === '*') next[at] = reachable[at] === true || (at > 0 && next[at - 1] === true);
      else next[at] = at > 0 && reachable[at - 1] === true && value[at - 1] === token;
    }
    reachable = next;
  }
  return reachable[value.length] === true;
}

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

  // A pattern decides which task definition, and so which IAM role, a job may choose: a name that merely
  // contains an allowed name must not pass.
  it.each([
    ['prod-ci-large', ['ci-*'], 'allowed pattern as a suffix'],
    ['prod-deploy:ci-small', ['ci-*'], 'allowed pattern after a colon'],
    ['ci-large:30', ['ci-*:3'], 'a longer revision than the pinned one'],
    ['ci-small-admin', ['*-small'], 'allowed pattern as a prefix'],
    ['prod-ci-large:3-admin', ['ci-*:3'], 'allowed pattern as an infix'],
    ['arn:aws:ecs:eu-west-1:1:task-definition/prod:3', ['task-definition/*'], 'an ARN ending in an allowed pattern'],
    ['ci-small', ['ci-*-small'], 'a pattern whose literal parts overlap in the value'],
  ])('refuses %s against %j (%s)', (value, list) => {
    expect(matchesAllowList(value, list)).toBe(false);
  });

  it('agrees with a reference glob matcher on values that contain an instance of the pattern', () => {
    const alphabet = fc.constantFrom('c', 'i', '-', ':', '3', '.');
    const text = (maxLength: number) => fc.string({ unit: alphabet, maxLength });
    const pattern = fc.array(fc.oneof(text(3), fc.constant('*')), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
    const valueAround = (glob: string) =>
      fc
        .tuple(text(3), fc.array(text(3), { minLength: glob.split('*').length - 1, maxLength: glob.split('*').length - 1 }), text(3))
        .map(([before, fillers, after]) => before + glob.split('*').reduce((joined, part, index) => joined + (fillers[index - 1] ?? '') + part) + after);
    const cases = pattern.chain((glob) => fc.tuple(fc.constant(glob), fc.oneof(valueAround(glob), text(8))));
    fc.assert(
      fc.property(cases, ([glob, value]) => {
        expect(matchesAllowList(value, [glob])).toBe(referenceGlobMatch(value, glob));
      }),
      { numRuns: 2000 },
    );
  });
});
