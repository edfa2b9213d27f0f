import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../validation/nag';

/** Properties of {@link RunnerVpcEndpoints}. */
export interface RunnerVpcEndpointsProps {
  /** The VPC whose private or isolated subnets run the manager and the job tasks. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets the interface endpoints are placed in (one network interface per Availability Zone).
   * @default - the VPC's private subnets (with egress, else isolated)
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Secrets Manager endpoint, for a runner token kept in Secrets Manager.
   * @default true
   */
  readonly secretsManager?: boolean;

  /**
   * SSM endpoint: every runner manager reads its settings parameter from SSM when it starts and while it runs (and a
   * runner token kept as an SSM SecureString comes from there too), so subnets without a NAT gateway need it.
   * @default true
   */
  readonly ssm?: boolean;

  /**
   * ECS endpoint, for the driver's RunTask, DescribeTasks and StopTask calls from subnets without a NAT gateway.
   * @default true
   */
  readonly ecs?: boolean;

  /**
   * STS endpoint, for jobs that exchange a GitLab ID token for deploy-role credentials from isolated subnets.
   * @default false
   */
  readonly sts?: boolean;
}

/**
 * The VPC endpoints that let runner managers and job tasks in private or isolated subnets work without a NAT
 * gateway (or with less NAT traffic): ECR API and Docker registry plus the S3 gateway for image layers, CloudWatch
 * Logs for the awslogs driver, and optionally Secrets Manager or SSM for the runner token, ECS for the driver and STS
 * for deploy jobs.
 *
 * This is the fix for the seed setup's troubleshooting note: "If you use isolated subnets, provide a VPC endpoint
 * for ECR". The interface endpoints share one security group that admits HTTPS from the VPC's CIDR.
 */
export class RunnerVpcEndpoints extends Construct {
  public readonly securityGroup: ec2.SecurityGroup;
  /** The interface endpoints (ECR API, ECR Docker, Logs, then the optional ones). */
  public readonly interfaceEndpoints: ec2.InterfaceVpcEndpoint[];
  public readonly s3Gateway: ec2.GatewayVpcEndpoint;

  constructor(scope: Construct, id: string, props: RunnerVpcEndpointsProps) {
    super(scope, id);
    const subnets = props.subnets ?? privateSubnets(props.vpc);

    this.securityGroup = new ec2.SecurityGroup(this, 'Security Group', {
      vpc: props.vpc,
      description: 'VPC interface endpoints for GitLab runners: HTTPS from the VPC',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(
      ec2.Peer.ipv4(props.vpc.vpcCidrBlock),
      ec2.Port.tcp(443),
      'HTTPS from the VPC',
    );
    acknowledgeNag(
      this.securityGroup,
      'AwsSolutions-EC23',
      "The only ingress is HTTPS from the VPC's own CIDR block, a CloudFormation reference cdk-nag cannot evaluate; " +
        'nothing is open to 0.0.0.0/0.',
    );

    const services: Array<[string, ec2.InterfaceVpcEndpointAwsService]> = [
      ['Ecr Api', ec2.InterfaceVpcEndpointAwsService.ECR],
      ['Ecr Docker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
    ];
    if (props.secretsManager ?? true) services.push(['Secrets Manager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER]);
    if (props.ssm ?? true) services.push(['Ssm', ec2.InterfaceVpcEndpointAwsService.SSM]);
    if (props.ecs ?? true) services.push(['Ecs', ec2.InterfaceVpcEndpointAwsService.ECS]);
    if (props.sts ?? false) services.push(['Sts', ec2.InterfaceVpcEndpointAwsService.STS]);

    this.interfaceEndpoints = services.map(
      ([name, service]) =>
        new ec2.InterfaceVpcEndpoint(this, name, {
          vpc: props.vpc,
          service,
          subnets,
          securityGroups: [this.securityGroup],
          privateDnsEnabled: true,
          // The shared group above already admits the VPC; `open` would add a second, identical rule per endpoint.
          open: false,
        }),
    );

    // ECR serves image layers from S3: without this gateway, pulls from private subnets go through NAT (or fail).
    this.s3Gateway = new ec2.GatewayVpcEndpoint(this, 'S3', {
      vpc: props.vpc,
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [subnets],
    });
  }
}

function privateSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return vpc.privateSubnets.length > 0
    ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
    : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
}
