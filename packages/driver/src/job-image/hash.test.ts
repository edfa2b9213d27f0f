import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, definitionHash, familyName, isDerivedFamily } from './hash.js';

/** The same object with its keys inserted in reverse order, at every level. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).reverse().map(([key, member]) => [key, reversedKeys(member)]));
  }
  return value;
}

describe('definitionHash', () => {
  it('does not depend on key order, at any depth', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(definitionHash(reversedKeys(value))).toBe(definitionHash(value));
      }),
    );
    const a = { family: 'x', containerDefinitions: [{ name: 'build', image: 'ruby', essential: true }] };
    const b = { containerDefinitions: [{ essential: true, image: 'ruby', name: 'build' }], family: 'x' };
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
    expect(definitionHash(a)).toBe(definitionHash(b));
  });

  it('depends on array order and on every value', () => {
    expect(definitionHash({ command: ['a', 'b'] })).not.toBe(definitionHash({ command: ['b', 'a'] }));
    expect(definitionHash({ image: 'ruby:3' })).not.toBe(definitionHash({ image: 'ruby:3 ' }));
  });

  it('leaves out undefined members, as the SDK does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(definitionHash({ a: 1, b: undefined })).toBe(definitionHash({ a: 1 }));
  });
});

describe('familyName', () => {
  const hash = 'ab'.repeat(32);

  it('is <prefix>-<16 hex digits>, at most 255 characters', () => {
    expect(familyName('gf-prod', hash)).toBe('gf-prod-abababababababab');
    expect(familyName('p'.repeat(238), hash)).toHaveLength(255);
    expect(() => familyName('p'.repeat(239), hash)).toThrow(/breaks ECS's rules/);
    expect(() => familyName('gf prod', hash)).toThrow(/breaks ECS's rules/);
  });

  it('tells derived families from the template and from other prefixes', () => {
    expect(isDerivedFamily('gf-prod-abababababababab', 'gf-prod')).toBe(true);
    expect(isDerivedFamily('gf-prod', 'gf-prod')).toBe(false);
    expect(isDerivedFamily('gf-prod-x-abababababababab', 'gf-prod')).toBe(false);
    expect(isDerivedFamily('gf-prod-ABABABABABABABAB', 'gf-prod')).toBe(false);
    expect(isDerivedFamily('gf-prod-abababababababab0', 'gf-prod')).toBe(false);
  });
});
