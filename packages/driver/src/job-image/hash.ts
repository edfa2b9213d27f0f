import { createHash } from 'node:crypto';
import { SystemFailure } from '../errors.js';

/**
 * JSON with object keys sorted at every level and `undefined` members left out (as `JSON.stringify` and the SDK
 * leave them out): the same definition gives the same text whatever order its keys were built in. Arrays keep their
 * order, which matters to ECS (containers, mount points, commands).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256 of the canonical JSON, in hex (64 digits). */
export function definitionHash(definition: unknown): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

/** Hex digits of the hash in a family name: 64 bits, so two different definitions never share a family in practice. */
export const FAMILY_HASH_DIGITS = 16;
/** ECS family names: letters, digits, `_` and `-`, 1 to 255 characters. */
export const FAMILY_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** `<prefix>-<first 16 hex digits of the hash>`, checked against ECS's family rules. */
export function familyName(prefix: string, hash: string): string {
  const family = `${prefix}-${hash.slice(0, FAMILY_HASH_DIGITS)}`;
  if (!FAMILY_NAME.test(family)) {
    throw new SystemFailure(`task definition family ${JSON.stringify(family)} breaks ECS's rules (letters, digits, _ and -, at most 255): check [JobImages] FamilyPrefix`);
  }
  return family;
}

/** True for a family this driver derived with `prefix` (`<prefix>-<16 hex digits>`): what gc may retire. */
export function isDerivedFamily(family: string, prefix: string): boolean {
  return family.length === prefix.length + 1 + FAMILY_HASH_DIGITS && family.startsWith(`${prefix}-`) && /^[0-9a-f]+$/.test(family.slice(prefix.length + 1));
}
