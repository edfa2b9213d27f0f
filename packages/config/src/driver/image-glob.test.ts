import { describe, expect, it } from 'vitest';
import { imagePatternProblem, isImageAllowed, matchesImagePattern } from './image-glob.js';

describe('matchesImagePattern (doublestar, as gitlab-runner uses it)', () => {
  it.each([
    // [pattern, name, matches]
    ['ruby:*', 'ruby:3.3', true],
    ['ruby:*', 'evil/ruby:3.3', false], // the allowed text inside a longer name: anchored at the start
    ['ruby:3', 'ruby:3-evil', false], // … and at the end
    ['ruby:3', 'myruby:3', false],
    ['*', 'ruby', true],
    ['*', 'library/ruby', false], // `*` stops at `/`
    ['*/*', 'library/ruby', true],
    ['registry.example.com/**', 'registry.example.com/group/sub/app:1', true],
    ['registry.example.com/**', 'registry.example.com', true], // doublestar: "/**" also matches nothing
    ['registry.example.com/**', 'registry.example.com.evil.io/app', false],
    ['**/ruby:*', 'ruby:3', true], // "**/" is zero or more segments
    ['**/ruby:*', 'a/b/ruby:3', true],
    ['a**b', 'a/b', false], // "**" inside a segment is "*"
    ['a**b', 'axxb', true],
    ['ruby:?', 'ruby:3', true],
    ['ruby:?', 'ruby:33', false],
    ['ruby:[23]', 'ruby:2', true],
    ['ruby:[!23]', 'ruby:2', false],
    ['ruby:[^23]', 'ruby:4', true],
    ['ruby:[0-9]', 'ruby:7', true],
    ['ruby:[0-9]', 'ruby:a', false],
    ['{ruby,node}:*', 'node:20', true],
    ['{ruby,node}:*', 'python:3', false],
    ['{ruby,{node,deno}}:*', 'deno:1', true],
    ['postgres\\*', 'postgres*', true],
    ['postgres\\*', 'postgres1', false],
    ['a.b', 'aXb', false], // "." is a literal, not a RegExp wildcard
    ['Ruby:*', 'ruby:3', false], // case-sensitive
  ])('%s vs %s → %s', (pattern, name, expected) => {
    expect(matchesImagePattern(pattern, name)).toBe(expected);
  });

  it('never matches a malformed pattern, and says why it is malformed', () => {
    for (const pattern of ['ruby:[', 'ruby:[]', '{ruby', 'ruby\\']) {
      expect(matchesImagePattern(pattern, pattern)).toBe(false);
      expect(imagePatternProblem(pattern)).toMatch(/malformed pattern/);
    }
    expect(imagePatternProblem('ruby:*')).toBeUndefined();
  });
});

describe('isImageAllowed', () => {
  it('allows everything with an empty list, as gitlab-runner does', () => {
    expect(isImageAllowed('anything/at:all', [])).toBe(true);
  });

  it('needs one matching pattern otherwise', () => {
    expect(isImageAllowed('node:20', ['ruby:*', 'node:*'])).toBe(true);
    expect(isImageAllowed('evilnode:20', ['ruby:*', 'node:*'])).toBe(false);
  });
});
