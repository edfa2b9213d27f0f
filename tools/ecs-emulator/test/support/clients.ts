import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient, RegisterTaskDefinitionCommand, type ContainerDefinition } from '@aws-sdk/client-ecs';

export const STATIC_CREDENTIALS = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };

export interface ClientOptions {
  readonly maxAttempts?: number;
  readonly retryMode?: 'standard' | 'adaptive';
}

/** The real SDK client, pointed at the emulator as a user would (endpoint + any static credentials). */
export function ecsClient(endpoint: string, options: ClientOptions = {}): ECSClient {
  return new ECSClient({ endpoint, region: 'us-east-1', credentials: STATIC_CREDENTIALS, maxAttempts: options.maxAttempts ?? 1, ...(options.retryMode ? { retryMode: options.retryMode } : {}) });
}

export function ec2Client(endpoint: string): EC2Client {
  return new EC2Client({ endpoint, region: 'us-east-1', credentials: STATIC_CREDENTIALS, maxAttempts: 1 });
}

export const SUBNET = 'subnet-0a1b2c3d4e5f60718';
export const SECURITY_GROUP = 'sg-0a1b2c3d4e5f60718';

export const awsvpc = (assignPublicIp: 'ENABLED' | 'DISABLED' = 'DISABLED') => ({
  awsvpcConfiguration: { subnets: [SUBNET], securityGroups: [SECURITY_GROUP], assignPublicIp },
});

/** Registers a Fargate task definition whose one container runs `image` (sshd fixture by default). */
export async function registerFargateTaskDefinition(
  ecs: ECSClient,
  family: string,
  image: string,
  container: Partial<ContainerDefinition> = {},
): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'ci-coordinator', image, essential: true, portMappings: [{ containerPort: 22, protocol: 'tcp' }], stopTimeout: 2, ...container }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}
