import { invalidParameter } from '../wire/aws-error.js';
import { optString, type Input } from '../wire/input.js';
import type { Tag } from './model.js';

/** ECS tag limits: at most 50 per resource, keys ≤ 128 and values ≤ 256 characters, `aws:` reserved. */
export const MAX_TAGS = 50;

export function readTags(list: Input[] | undefined, field = 'tags'): Tag[] {
  if (list === undefined) return [];
  if (list.length > MAX_TAGS) throw invalidParameter(`Too many tags: ${list.length}. A resource can have at most ${MAX_TAGS} tags.`);
  return list.map((item, index) => {
    const key = optString(item, 'key');
    const value = optString(item, 'value') ?? '';
    if (!key) throw invalidParameter(`${field}[${index}].key can not be blank.`);
    if (key.length > 128) throw invalidParameter(`Tag key '${key.slice(0, 20)}…' is longer than 128 characters.`);
    if (value.length > 256) throw invalidParameter(`The value of tag '${key}' is longer than 256 characters.`);
    if (/^aws:/i.test(key)) throw invalidParameter(`Tag keys starting with 'aws:' are reserved for AWS use: ${key}.`);
    return { key, value };
  });
}

/** Merges tags: later keys overwrite earlier ones, as TagResource does. */
export function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(existing.map((tag) => [tag.key, tag.value]));
  for (const tag of added) byKey.set(tag.key, tag.value);
  if (byKey.size > MAX_TAGS) throw invalidParameter(`Too many tags: a resource can have at most ${MAX_TAGS} tags.`);
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/** `startedBy`: up to 128 letters, digits, hyphens, underscores and slashes (RunTask model doc). */
export function checkStartedBy(startedBy: string): void {
  if (startedBy.length > 128 || !/^[A-Za-z0-9_/-]*$/.test(startedBy)) {
    throw invalidParameter('startedBy must be up to 128 letters (uppercase and lowercase), numbers, hyphens, underscores and forward slashes.');
  }
}

/** `clientToken`: up to 64 ASCII characters in 33–126 (idempotency doc). */
export function checkClientToken(token: string): void {
  if (token.length === 0 || token.length > 64 || !/^[\x21-\x7e]+$/.test(token)) {
    throw invalidParameter('clientToken must be 1 to 64 ASCII characters in the range 33-126.');
  }
}

/** Family names: up to 255 letters, numbers, hyphens and underscores. */
export function checkFamily(family: string): void {
  if (family.length > 255 || !/^[A-Za-z0-9_-]+$/.test(family)) {
    throw invalidParameter('Family contains invalid characters: up to 255 letters (uppercase and lowercase), numbers, hyphens and underscores are allowed.');
  }
}

/** Cluster names: up to 255 letters, numbers, hyphens and underscores. */
export function checkClusterName(name: string): void {
  if (name.length > 255 || !/^[A-Za-z0-9_-]+$/.test(name)) {
    throw invalidParameter('Cluster name contains invalid characters: up to 255 letters (uppercase and lowercase), numbers, hyphens and underscores are allowed.');
  }
}
