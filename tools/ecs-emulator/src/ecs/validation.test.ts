import { describe, expect, it } from 'vitest';
import { placeByStrategy, readStrategy } from './capacity.js';
import { isValidFargateSize, normaliseFargateSize, parseCpu, parseMemory } from './fargate-sizes.js';
import { clusterNameOf, parseTaskDefinitionReference, taskIdOf } from './identifiers.js';
import { checkClientToken, checkStartedBy, mergeTags, readTags } from './validation.js';
import { paginate } from '../wire/pagination.js';
import { qualifiedImage } from '../lifecycle/task-runtime.js';

describe('Fargate sizes', () => {
  it('accepts the documented pairs only', () => {
    expect(isValidFargateSize(256, 512)).toBe(true);
    expect(isValidFargateSize(256, 4096)).toBe(false);
    expect(isValidFargateSize(4096, 30720)).toBe(true);
    expect(isValidFargateSize(8192, 20480)).toBe(true);
    expect(isValidFargateSize(8192, 18432)).toBe(false);
    expect(isValidFargateSize(16384, 122880)).toBe(true);
    expect(isValidFargateSize(300, 1024)).toBe(false);
  });

  it('reads vCPU/GB spellings and normalises to units/MiB', () => {
    expect(parseCpu('1 vCPU')).toBe(1024);
    expect(parseCpu('0.25 vcpu')).toBe(256);
    expect(parseMemory('2 GB')).toBe(2048);
    expect(parseMemory('lots')).toBeUndefined();
    expect(normaliseFargateSize('0.5 vCPU', '1GB')).toEqual({ cpu: '512', memory: '1024' });
    expect(() => normaliseFargateSize('256', '4096')).toThrow('No Fargate configuration exists for given values: 256 CPU, 4096 memory');
    expect(() => normaliseFargateSize('fast', '512')).toThrow(expect.objectContaining({ code: 'ClientException', message: "Invalid 'cpu' setting for task." }));
  });
});

describe('identifiers', () => {
  it('parses task-definition references, cluster and task ARNs', () => {
    expect(parseTaskDefinitionReference('web')).toEqual({ family: 'web' });
    expect(parseTaskDefinitionReference('web:3')).toEqual({ family: 'web', revision: 3 });
    expect(parseTaskDefinitionReference('arn:aws:ecs:eu-west-1:123456789012:task-definition/web:12')).toEqual({ family: 'web', revision: 12 });
    expect(clusterNameOf(undefined)).toBe('default');
    expect(clusterNameOf('arn:aws:ecs:us-east-1:123456789012:cluster/ci')).toBe('ci');
    expect(taskIdOf('arn:aws:ecs:us-east-1:123456789012:task/ci/abc')).toBe('abc');
    expect(taskIdOf('arn:aws:ecs:us-east-1:123456789012:task/abc')).toBe('abc');
    expect(taskIdOf('abc')).toBe('abc');
  });

  it('spells image references as the Fargate agent does in pull errors', () => {
    expect(qualifiedImage('foo')).toBe('docker.io/library/foo:latest');
    expect(qualifiedImage('org/foo:1')).toBe('docker.io/org/foo:1');
    expect(qualifiedImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag')).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag');
    expect(qualifiedImage('localhost:5000/x')).toBe('localhost:5000/x:latest');
  });
});

describe('request validation', () => {
  it('checks tags against ECS limits and merges by key', () => {
    expect(readTags([{ key: 'a', value: '1' }])).toEqual([{ key: 'a', value: '1' }]);
    expect(() => readTags([{ key: 'aws:x', value: '1' }])).toThrow(/reserved/);
    expect(() => readTags([{ key: 'k'.repeat(129), value: '' }])).toThrow(/128/);
    expect(() => readTags(Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: '' })))).toThrow(/at most 50/);
    expect(mergeTags([{ key: 'a', value: '1' }, { key: 'b', value: '2' }], [{ key: 'a', value: '3' }])).toEqual([{ key: 'a', value: '3' }, { key: 'b', value: '2' }]);
  });

  it('checks startedBy and clientToken character sets', () => {
    checkStartedBy('gitlab/runner-1_job');
    expect(() => checkStartedBy('a b')).toThrow(expect.objectContaining({ code: 'InvalidParameterException' }));
    expect(() => checkStartedBy('x'.repeat(129))).toThrow();
    checkClientToken('2580624a-87bc-494d-998b-12231ea5658e');
    expect(() => checkClientToken('x'.repeat(65))).toThrow();
    expect(() => checkClientToken('has space')).toThrow();
  });

  it('reads capacity provider strategies and spreads tasks by base and weight', () => {
    expect(() => readStrategy([{ capacityProvider: 'FARGATE', weight: 1001 }])).toThrow(/weight/);
    expect(() => readStrategy([{ capacityProvider: 'FARGATE', weight: 1, base: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 1, base: 1 }])).toThrow(/base/);
    expect(() => readStrategy([{ capacityProvider: 'FARGATE', weight: 0 }])).toThrow(/weight greater than 0/);
    const strategy = readStrategy([{ capacityProvider: 'FARGATE', base: 2, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 3 }])!;
    expect(placeByStrategy(strategy, 6)).toEqual(['FARGATE', 'FARGATE', 'FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT']);
    expect(placeByStrategy(readStrategy([{ capacityProvider: 'FARGATE_SPOT', weight: 1 }])!, 2)).toEqual(['FARGATE_SPOT', 'FARGATE_SPOT']);
  });

  it('paginates with opaque tokens and refuses forged ones', () => {
    const first = paginate([1, 2, 3], 2, undefined);
    expect(first.page).toEqual([1, 2]);
    expect(paginate([1, 2, 3], 2, first.nextToken)).toEqual({ page: [3] });
    expect(() => paginate([1], 2, 'garbage')).toThrow(/nextToken/);
    expect(() => paginate([1], 101, undefined)).toThrow(/maxResults/);
  });
});
