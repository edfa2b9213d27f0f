import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, test } from 'vitest';
import { RunnerVpcEndpoints } from '../src';
import { newStack } from './helpers';

/** The service names of the interface endpoints without the `com.amazonaws.<region>.` prefix, e.g. `ecr.api`. */
function interfaceServices(template: Template): string[] {
  return Object.values(template.findResources('AWS::EC2::VPCEndpoint'))
    .filter((endpoint) => endpoint.Properties.VpcEndpointType === 'Interface')
    // ServiceName is { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.ecr.api']] }.
    .map((endpoint) => String(endpoint.Properties.ServiceName['Fn::Join'][1].at(-1)).replace(/^\./, ''))
    .sort();
}

describe('RunnerVpcEndpoints', () => {
  test('by default: ECR API and Docker, Logs, Secrets Manager, ECS, SSM (the managers\' settings parameter) and the S3 gateway', () => {
    const { stack, vpc } = newStack();
    new RunnerVpcEndpoints(stack, 'Endpoints', { vpc });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    const template = Template.fromStack(stack);
    expect(interfaceServices(template)).toEqual(['ecr.api', 'ecr.dkr', 'ecs', 'logs', 'secretsmanager', 'ssm']);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      RouteTableIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcprivateSubnet1RouteTable') }]),
    });
    // Interface endpoints sit in the private subnets, with private DNS, behind one shared security group.
    for (const endpoint of Object.values(template.findResources('AWS::EC2::VPCEndpoint'))) {
      if (endpoint.Properties.VpcEndpointType !== 'Interface') continue;
      expect(endpoint.Properties.PrivateDnsEnabled).toBe(true);
      expect(JSON.stringify(endpoint.Properties.SubnetIds)).toMatch(/VpcprivateSubnet1.*VpcprivateSubnet2/);
      expect(endpoint.Properties.SecurityGroupIds).toHaveLength(1);
    }
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        {
          CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('Vpc'), 'CidrBlock'] },
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          Description: 'HTTPS from the VPC',
        },
      ],
    });
  });

  test('STS on request, Secrets Manager and ECS off on request, isolated subnets when there are no private ones', () => {
    const { stack } = newStack();
    const vpc = new ec2.Vpc(stack, 'Isolated', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    new RunnerVpcEndpoints(stack, 'Endpoints', { vpc, ssm: true, sts: true, secretsManager: false, ecs: false });
    const template = Template.fromStack(stack);
    expect(interfaceServices(template)).toEqual(['ecr.api', 'ecr.dkr', 'logs', 'ssm', 'sts']);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      SubnetIds: [{ Ref: Match.stringLikeRegexp('IsolatedisolatedSubnet1') }, { Ref: Match.stringLikeRegexp('IsolatedisolatedSubnet2') }],
    });
  });
});
