import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { Task } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { privateAddress, resolveAddress } from './address.js';

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });
const getEc2 = async () => ec2;

const RUNNING: Task = {
  taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/abc',
  lastStatus: 'RUNNING',
  attachments: [
    {
      type: 'ElasticNetworkInterface',
      status: 'ATTACHED',
      details: [
        { name: 'subnetId', value: 'subnet-12344321' },
        { name: 'networkInterfaceId', value: 'eni-12344321' },
        { name: 'privateIPv4Address', value: '10.0.0.4' },
      ],
    },
  ],
  containers: [{ name: 'ci-coordinator', networkInterfaces: [{ privateIpv4Address: '10.0.0.4' }] }],
};

beforeEach(() => ec2Mock.reset());

describe('resolveAddress', () => {
  it('reads the private IP from the ENI attachment, without calling EC2', async () => {
    await expect(resolveAddress(RUNNING, 'private', getEc2)).resolves.toBe('10.0.0.4');
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 0);
  });

  it("falls back to the container's interface when the attachment has no address", () => {
    expect(privateAddress({ ...RUNNING, attachments: [] })).toBe('10.0.0.4');
    expect(privateAddress({ taskArn: 'x' })).toBeUndefined();
  });

  it('fails clearly when a RUNNING task has no private address', async () => {
    await expect(resolveAddress({ taskArn: 'arn:x', attachments: [], containers: [] }, 'private', getEc2)).rejects.toThrow(/reports no private IPv4 address/);
  });

  it('finds the public IP through the ENI, retrying while it is not associated yet', async () => {
    ec2Mock
      .on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-12344321' }] })
      .resolves({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-12344321', Association: { PublicIp: '203.0.113.7' } }] });
    const delays: number[] = [];
    await expect(resolveAddress(RUNNING, 'public', getEc2, { sleep: async (ms) => void delays.push(ms) })).resolves.toBe('203.0.113.7');
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, { NetworkInterfaceIds: ['eni-12344321'] });
    expect(delays).toEqual([1_000]);
  });

  it('says what to change when the interface never gets a public IP', async () => {
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [{}] });
    await expect(resolveAddress(RUNNING, 'public', getEc2, { attempts: 2, sleep: async () => {} })).rejects.toThrow(
      /has no public IP .*UsePublicIP = false/,
    );
  });
});
