import type { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';

/**
 * The AWS clients of one stage. Only prepare, cleanup and gc import this module (run never does), and the EC2
 * client, needed only to find a public IP, is loaded on first use. Credentials and endpoints come from the SDK's
 * default chain: `AWS_ENDPOINT_URL_ECS` points the driver at the local emulator.
 */
export interface AwsClients {
  readonly ecs: ECSClient;
  ec2(): Promise<EC2Client>;
}

/**
 * Bounds every HTTP call: without them a connection that hangs would hold a stage until the runner's own timeout
 * (an hour by default). The SDK's retries (3 attempts, throttling and 5xx) apply within each call.
 */
const HTTP_TIMEOUTS = { connectionTimeout: 10_000, requestTimeout: 30_000, throwOnRequestTimeout: true };

/** Creates the clients for `region` (absent = the SDK's default: `AWS_REGION`, profile, instance metadata). */
export function createAwsClients(region?: string): AwsClients {
  const config = { ...(region === undefined ? {} : { region }), requestHandler: HTTP_TIMEOUTS };
  const ecs = new ECSClient(config);
  let ec2: Promise<EC2Client> | undefined;
  return {
    ecs,
    ec2: () => {
      ec2 ??= import('./ec2.js').then(({ EC2Client }) => new EC2Client(config));
      return ec2;
    },
  };
}
