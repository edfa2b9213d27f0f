import { AwsError, invalidParameter } from './aws-error.js';

/**
 * Typed readers for request members. A member of the wrong JSON type is a `SerializationException` (what
 * AWS's JSON front end answers); a semantically bad value is the operation's own exception, raised by callers.
 */
export type Input = Record<string, unknown>;

function typeError(field: string, expected: string): AwsError {
  return new AwsError('SerializationException', `Member '${field}' must be ${expected}.`);
}

export function optString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw typeError(field, 'a string');
  return value;
}

export function reqString(input: Input, field: string): string {
  const value = optString(input, field);
  if (value === undefined || value === '') throw invalidParameter(`${field} can not be blank.`);
  return value;
}

export function optInt(input: Input, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(field, 'an integer');
  return value;
}

export function optBool(input: Input, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw typeError(field, 'a boolean');
  return value;
}

export function optObject(input: Input, field: string): Input | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw typeError(field, 'an object');
  return value as Input;
}

export function optArray(input: Input, field: string): unknown[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw typeError(field, 'a list');
  return value;
}

export function optStringList(input: Input, field: string): string[] | undefined {
  const list = optArray(input, field);
  if (list === undefined) return undefined;
  return list.map((item, index) => {
    if (typeof item !== 'string') throw typeError(`${field}[${index}]`, 'a string');
    return item;
  });
}

export function optObjectList(input: Input, field: string): Input[] | undefined {
  const list = optArray(input, field);
  if (list === undefined) return undefined;
  return list.map((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw typeError(`${field}[${index}]`, 'an object');
    return item as Input;
  });
}

/** `{name, value}` pairs (environment variables, attributes). */
export function optKeyValueList(input: Input, field: string): { name: string; value: string }[] | undefined {
  return optObjectList(input, field)?.map((item) => ({ name: optString(item, 'name') ?? '', value: optString(item, 'value') ?? '' }));
}
