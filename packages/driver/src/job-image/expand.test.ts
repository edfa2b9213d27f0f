import { describe, expect, it } from 'vitest';
import { expandVariables } from './expand.js';

const SOURCE = [
  { key: 'A', value: 'x' },
  { key: 'B_1', value: 'y' },
  { key: 'A', value: 'last' },
];

describe('expandVariables (Go os.Expand, gitlab-runner lookup)', () => {
  it.each([
    ['$A', 'last'], // the last variable of a name wins
    ['${A}-$B_1', 'last-y'],
    ['$$A', '$A'], // "$$" is "$"
    ['cost $5', 'cost '], // positional parameters are empty
    ['a$', 'a$'], // a trailing "$" stays
    ['a$-b', 'ab'],
    ['a${}b', 'ab'], // bad syntax is dropped
    ['a${b', 'ab'], // an unclosed "${" loses "${" only
    ['$ x', '$ x'], // "$" before a non-name stays
    ['$UNKNOWN!', '!'],
  ])('%s → %s', (text, expected) => {
    expect(expandVariables(text, SOURCE).value).toBe(expected);
  });

  it('lists the names it could not find', () => {
    expect(expandVariables('$A $NOPE ${ALSO_NOPE}', SOURCE).missing).toEqual(['NOPE', 'ALSO_NOPE']);
  });
});
