import { describe, expect, it } from 'vitest';
import { AwsError } from './aws-error.js';
import { handleEc2, Ec2Error, type NetworkInterfaceView } from './ec2-query.js';
import { epochSeconds, jsonError, jsonSuccess, operationFromTarget, parseJsonBody } from './json-protocol.js';
import { checkInputTypes } from './shapes.js';

describe('awsJson1_1 framing', () => {
  it('reads the operation from X-Amz-Target', () => {
    expect(operationFromTarget('AmazonEC2ContainerServiceV20141113.RunTask')).toBe('RunTask');
    expect(() => operationFromTarget(undefined)).toThrow(expect.objectContaining({ code: 'UnknownOperationException' }));
    expect(() => operationFromTarget('AmazonEC2ContainerServiceV20141113.')).toThrow(expect.objectContaining({ code: 'UnknownOperationException' }));
    expect(() => operationFromTarget('DynamoDB_20120810.GetItem')).toThrow(/Unknown operation/);
  });

  it('parses bodies, treating empty as {} and anything but an object as a SerializationException', () => {
    expect(parseJsonBody('')).toEqual({});
    expect(parseJsonBody('{"a":1}')).toEqual({ a: 1 });
    expect(() => parseJsonBody('{')).toThrow(expect.objectContaining({ code: 'SerializationException' }));
    expect(() => parseJsonBody('null')).toThrow(expect.objectContaining({ code: 'SerializationException' }));
  });

  it('serializes success and errors the way the SDK deserializes them', () => {
    const ok = jsonSuccess({ a: undefined, b: 1 }, 'req-1');
    expect(ok).toEqual({ statusCode: 200, headers: { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': 'req-1' }, body: '{"b":1}' });
    const conflict = jsonError(new AwsError('ConflictException', 'token reused', 400, { resourceIds: ['arn:x'] }), 'req-2');
    expect(conflict.statusCode).toBe(400);
    expect(conflict.headers['x-amzn-ErrorType']).toBe('ConflictException');
    expect(JSON.parse(conflict.body)).toEqual({ __type: 'ConflictException', message: 'token reused', resourceIds: ['arn:x'] });
    expect(jsonError(new AwsError('ServerException', 'boom', 500), 'r').statusCode).toBe(500);
  });

  it('writes timestamps as epoch seconds with milliseconds', () => {
    expect(epochSeconds(1_557_134_011_644)).toBe(1557134011.644);
  });

  it('checks top-level member types against the model', () => {
    checkInputTypes('RunTask', { taskDefinition: 'x', count: 2, tags: [], overrides: {}, enableExecuteCommand: true, unknownMember: 5 });
    expect(() => checkInputTypes('RunTask', { count: '2' })).toThrow("Member 'count' of RunTask must be a integer, got a string.");
    expect(() => checkInputTypes('RunTask', { count: 1.5 })).toThrow(/integer, got a number/);
    expect(() => checkInputTypes('DescribeTasks', { tasks: 'abc' })).toThrow(/list/);
  });
});

describe('EC2 query protocol', () => {
  const eni: NetworkInterfaceView = {
    networkInterfaceId: 'eni-0123456789abcdef0',
    subnetId: 'subnet-1',
    vpcId: 'vpc-1',
    availabilityZone: 'us-east-1a',
    description: 'arn:aws:ecs:us-east-1:123456789012:attachment/att',
    macAddress: '0a:00:00:00:00:01',
    privateIpAddress: '127.80.0.1',
    privateDnsName: 'ip-127-80-0-1.ec2.internal',
    publicIp: '127.80.0.2',
    securityGroups: ['sg-1'],
  };

  it('answers DescribeNetworkInterfaces with the association element only when a public IP exists', () => {
    const params = new URLSearchParams('Action=DescribeNetworkInterfaces&Version=2016-11-15&NetworkInterfaceId.1=eni-0123456789abcdef0');
    const out = handleEc2(params, [eni], '123456789012', 'req');
    expect(out.statusCode).toBe(200);
    expect(out.body).toContain('<association><publicIp>127.80.0.2</publicIp>');
    expect(out.body).toContain('<privateIpAddress>127.80.0.1</privateIpAddress>');
    const { publicIp: _p, ...privateOnly } = eni;
    expect(handleEc2(params, [privateOnly], '123456789012', 'req').body).not.toContain('<association>');
  });

  it('filters, and uses EC2 error codes for unknown ids, filters and actions', () => {
    const filtered = handleEc2(new URLSearchParams('Action=DescribeNetworkInterfaces&Filter.1.Name=addresses.private-ip-address&Filter.1.Value.1=10.0.0.1'), [eni], 'a', 'r');
    expect(filtered.body).toContain('<networkInterfaceSet></networkInterfaceSet>');
    expect(() => handleEc2(new URLSearchParams('Action=DescribeNetworkInterfaces&NetworkInterfaceId.1=eni-00000000000000000'), [eni], 'a', 'r')).toThrow(
      new Ec2Error('InvalidNetworkInterfaceID.NotFound', "The networkInterface ID 'eni-00000000000000000' does not exist"),
    );
    expect(() => handleEc2(new URLSearchParams('Action=DescribeNetworkInterfaces&Filter.1.Name=bogus&Filter.1.Value.1=x'), [eni], 'a', 'r')).toThrow(/filter 'bogus'/);
    expect(() => handleEc2(new URLSearchParams('Action=RunInstances'), [eni], 'a', 'r')).toThrow(expect.objectContaining({ code: 'InvalidAction' }));
  });
});
