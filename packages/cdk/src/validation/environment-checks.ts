import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { countProblem } from './values';

/** The environment-level settings {@link environmentProblems} checks. */
export interface EnvironmentSettings {
  readonly environmentName: string;
  readonly gitlabUrl: string;
  readonly concurrent: number;
  readonly assignPublicIpToJobs: boolean;
  readonly connectViaPublicIp: boolean;
}

const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Problems with the environment's name, GitLab URL, concurrency and public-IP switches. */
export function environmentProblems(settings: EnvironmentSettings): string[] {
  const { gitlabUrl, concurrent, assignPublicIpToJobs, connectViaPublicIp } = settings;
  const problems: string[] = [];
  if (!ENVIRONMENT_NAME.test(settings.environmentName)) {
    problems.push(
      `environmentName "${settings.environmentName}" must be 1-32 lower-case letters, digits or hyphens, starting ` +
        'with a letter (e.g. dev, staging, production).',
    );
  }
  if (!Token.isUnresolved(gitlabUrl) && !isHttpUrl(gitlabUrl)) {
    problems.push(`gitlabUrl "${gitlabUrl}" must be an http(s) URL such as https://gitlab.example.com.`);
  } else if (!Token.isUnresolved(gitlabUrl) && hasCredentials(gitlabUrl)) {
    // Reported without the URL: it holds a credential.
    problems.push(
      'gitlabUrl must not carry credentials (user:token@host): it is written into the task definition. ' +
        'The runner authenticates with runnerToken.',
    );
  }
  const concurrency = countProblem('concurrent', concurrent, 1000);
  if (concurrency) problems.push(concurrency);
  if (connectViaPublicIp && !assignPublicIpToJobs) {
    problems.push(
      'connectViaPublicIp needs assignPublicIpToJobs: a job task only has a public IP when ECS assigns one.',
    );
  }
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function hasCredentials(value: string): boolean {
  const url = new URL(value);
  return url.username !== '' || url.password !== '';
}

/**
 * The subnets a task group runs in. A task with a public IP must be in public subnets (a public IP in a private
 * subnet reaches nothing); a selection the VPC cannot satisfy becomes an error instead of an exception, so every
 * problem is reported at once.
 */
export function selectSubnets(
  vpc: ec2.IVpc,
  what: string,
  requested: ec2.SubnetSelection | undefined,
  publicIp: boolean,
  problems: string[],
): ec2.SubnetSelection {
  const selection = requested ?? (publicIp ? { subnetType: ec2.SubnetType.PUBLIC } : defaultPrivateSelection(vpc));
  let subnets: ec2.ISubnet[];
  try {
    subnets = vpc.selectSubnets(selection).subnets;
  } catch (error) {
    problems.push(`${what}: ${(error as Error).message}`);
    return {};
  }
  if (subnets.length === 0) {
    problems.push(`${what}: the selection matches no subnet of the VPC.`);
  } else if (publicIp && !allPublic(vpc, selection)) {
    problems.push(
      `${what}: public IPs are requested, but the selected subnets are not all public. A task with a public IP ` +
        'needs a public subnet (a route to an internet gateway); select { subnetType: SubnetType.PUBLIC }.',
    );
  }
  return selection;
}

function defaultPrivateSelection(vpc: ec2.IVpc): ec2.SubnetSelection {
  if (vpc.privateSubnets.length > 0) return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  if (vpc.isolatedSubnets.length > 0) return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  return { subnetType: ec2.SubnetType.PUBLIC };
}

/** True when every subnet `selection` picks is one of the VPC's public subnets. */
export function allPublic(vpc: ec2.IVpc, selection: ec2.SubnetSelection): boolean {
  let selected: ec2.ISubnet[];
  try {
    selected = vpc.selectSubnets(selection).subnets;
  } catch {
    return false;
  }
  const publicIds = new Set(vpc.publicSubnets.map((subnet) => subnet.subnetId));
  return selected.length > 0 && selected.every((subnet) => publicIds.has(subnet.subnetId));
}
