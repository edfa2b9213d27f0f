import { EPHEMERAL_STORAGE_GIB, FARGATE_CPU_VALUES, FARGATE_MEMORY_VALUES } from '../../aws/fargate-sizing.js';
import {
  ECS_LIMITS,
  SECURITY_GROUP_PATTERN,
  SECURITY_GROUP_STRICT_PATTERN,
  SUBNET_PATTERN,
  SUBNET_STRICT_PATTERN,
  TAG_PATTERN,
} from '../../aws/shapes.js';
import { integer, refine, string, type Schema } from '../../schema/schema.js';
import { LOG_LEVELS, type DriverConfig } from '../model.js';
import { DRIVER_TASK_TAG_KEYS, isDriverTaskTagKey } from '../reserved-tags.js';

/** Readers for the AWS values of the driver TOML, shared by its sections. */

/** Upstream wrote `""` for "not set"; such values are read as absent. */
export function orEmpty(schema: Schema<string>): Schema<string> {
  return {
    expected: `${schema.expected} (or "" for none)`,
    read: (value, at, checker) => (value === '' ? '' : schema.read(value, at, checker)),
  };
}

export const subnetId = string({
  pattern: SUBNET_PATTERN,
  expected: 'a subnet id like "subnet-0123456789abcdef0"',
  warnUnless: { pattern: SUBNET_STRICT_PATTERN, expected: 'subnet- followed by 8 or 17 lowercase hex digits', hint: 'AWS will reject an id it never issued' },
});
export const securityGroupId = string({
  pattern: SECURITY_GROUP_PATTERN,
  expected: 'a security group id like "sg-0123456789abcdef0"',
  warnUnless: { pattern: SECURITY_GROUP_STRICT_PATTERN, expected: 'sg- followed by 8 or 17 lowercase hex digits', hint: 'AWS will reject an id it never issued' },
});

const logLevelName = string({ oneOf: LOG_LEVELS }) as Schema<DriverConfig['logLevel']>;
/** logrus reads `warn` as `warning`. */
export const logLevel: Schema<DriverConfig['logLevel']> = {
  expected: logLevelName.expected,
  read: (value, at, checker) => logLevelName.read(typeof value === 'string' && value.toLowerCase() === 'warn' ? 'warning' : value, at, checker),
};

export const fargateCpu: Schema<number> = refine(integer({ min: 0, max: Number.MAX_SAFE_INTEGER, expected: `Fargate CPU units: one of ${FARGATE_CPU_VALUES.join(', ')}` }), (cpu, at, checker) =>
  FARGATE_CPU_VALUES.includes(cpu) ? cpu : void checker.error(at, `Fargate CPU units: one of ${FARGATE_CPU_VALUES.join(', ')}`, `${cpu} (an integer)`),
);
export const fargateMemory = integer({ min: FARGATE_MEMORY_VALUES[0] as number, max: FARGATE_MEMORY_VALUES.at(-1) as number, expected: 'MiB from 512 to 122880' });
export const ephemeralStorage = integer({ min: EPHEMERAL_STORAGE_GIB.min, max: EPHEMERAL_STORAGE_GIB.max, expected: `GiB from ${EPHEMERAL_STORAGE_GIB.min} to ${EPHEMERAL_STORAGE_GIB.max}` });


const tagKeyShape = string({ maxLength: ECS_LIMITS.maxTagKeyLength, pattern: /^(?![aA][wW][sS]:)[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, expected: 'a tag key of letters, digits, spaces and _.:/=+-@, not starting with "aws:"' });
/** A `[Fargate] Tags` key: ECS's shape, and none of the keys the driver sets itself. */
export const tagKey: Schema<string> = refine(tagKeyShape, (key, at, checker) =>
  isDriverTaskTagKey(key)
    ? void checker.error(
        at,
        `a tag key other than the driver's own (${DRIVER_TASK_TAG_KEYS.join(', ')})`,
        JSON.stringify(key),
        'the driver sets that tag on every task itself, and gc and the orphan reaper trust it: rename or remove this tag',
      )
    : key,
);
export const tagValue = string({ minLength: 0, maxLength: ECS_LIMITS.maxTagValueLength, pattern: TAG_PATTERN, expected: 'a tag value of letters, digits, spaces and _.:/=+-@' });
