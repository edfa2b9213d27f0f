import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Task } from '@aws-sdk/client-ecs';
import { SystemFailure } from '../errors.js';
import { type Sleep, sleep as defaultSleep } from '../sleep.js';
import { describeAwsError } from './errors.js';

/** Which of the task's addresses the driver connects to. */
export type AddressKind = 'private' | 'public';

function eniDetail(task: Task, name: string): string | undefined {
  for (const attachment of task.attachments ?? []) {
    if (attachment.type !== undefined && attachment.type !== 'ElasticNetworkInterface') continue;
    const value = attachment.details?.find((d) => d.name === name)?.value;
    if (value) return value;
  }
  return undefined;
}

/** The task's private IPv4 address: from the ENI attachment details, else from a container's interface. */
export function privateAddress(task: Task): string | undefined {
  const fromEni = eniDetail(task, 'privateIPv4Address');
  if (fromEni !== undefined) return fromEni;
  for (const container of task.containers ?? []) {
    const ip = container.networkInterfaces?.find((n) => n.privateIpv4Address)?.privateIpv4Address;
    if (ip) return ip;
  }
  return undefined;
}

/** Options of {@link resolveAddress}. */
export interface AddressOptions {
  /** Tries while the public IP is not associated yet. @default 5 */
  readonly attempts?: number;
  /** @default 1_000 */
  readonly delayMs?: number;
  readonly sleep?: Sleep;
  readonly signal?: AbortSignal;
}

/**
 * The address to connect to. Private: read from the task. Public: the ENI id from the task, then
 * `ec2:DescribeNetworkInterfaces` for its association (retried briefly: the association can lag RUNNING).
 */
export async function resolveAddress(
  task: Task,
  kind: AddressKind,
  ec2: () => Promise<EC2Client>,
  options: AddressOptions = {},
): Promise<string> {
  if (kind === 'private') {
    const ip = privateAddress(task);
    if (ip === undefined) throw new SystemFailure(`task ${task.taskArn} is RUNNING but reports no private IPv4 address`);
    return ip;
  }
  const eni = eniDetail(task, 'networkInterfaceId');
  if (eni === undefined) {
    throw new SystemFailure(`task ${task.taskArn} reports no network interface, so its public IP cannot be found`);
  }
  const client = await ec2();
  // Loaded here, not at the top: the EC2 client package costs prepare ~0.3-0.6 s of module loading, and only
  // public-IP jobs need it (through ./ec2.js: see there why).
  const { DescribeNetworkInterfacesCommand } = await import('./ec2.js');
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    let out;
    try {
      out = await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }), { abortSignal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      throw new SystemFailure(
        `ec2:DescribeNetworkInterfaces ${eni} failed: ${describeAwsError(error)} (the runner needs ec2:DescribeNetworkInterfaces to use public IPs)`,
        { cause: error },
      );
    }
    const ip = out.NetworkInterfaces?.[0]?.Association?.PublicIp;
    if (ip) return ip;
    if (attempt >= attempts) {
      throw new SystemFailure(
        `network interface ${eni} of task ${task.taskArn} has no public IP (is EnablePublicIP set, and the subnet public?); ` +
          'set UsePublicIP = false to connect to the private address',
      );
    }
    await (options.sleep ?? defaultSleep)(options.delayMs ?? 1_000, options.signal);
  }
}
