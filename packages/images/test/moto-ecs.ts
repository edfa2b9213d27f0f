import { signatureV4Headers } from '../src/manager/aws/sigv4.js';
import { callJsonAction, TEST_CREDENTIALS, TEST_REGION } from './moto.js';

const ECS = 'AmazonEC2ContainerServiceV20141113';

/** One of the default VPC's subnets that moto makes in every Region (EC2's query protocol, XML answer). */
async function defaultSubnet(endpoint: string): Promise<string> {
  const url = new URL(`${endpoint}/`);
  const body = new URLSearchParams({ Action: 'DescribeSubnets', Version: '2016-11-15' }).toString();
  const headers = signatureV4Headers(
    { method: 'POST', url, body, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } },
    { region: TEST_REGION, service: 'ec2', credentials: TEST_CREDENTIALS, now: new Date() },
  );
  const text = await (await fetch(url, { method: 'POST', headers, body })).text();
  const subnet = /<subnetId>([^<]+)<\/subnetId>/.exec(text)?.[1];
  if (subnet === undefined) throw new Error(`moto's DescribeSubnets named no subnet: ${text.slice(0, 200)}`);
  return subnet;
}

/** A running Fargate task in moto's `cluster` (created if missing), as the manager controller starts a manager. */
export async function runManagerTask(endpoint: string, cluster: string): Promise<{ taskArn: string; clusterArn: string }> {
  const created = (await callJsonAction(endpoint, `${ECS}.CreateCluster`, { clusterName: cluster })) as { cluster: { clusterArn: string } };
  await callJsonAction(endpoint, `${ECS}.RegisterTaskDefinition`, {
    family: 'runner-manager',
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'runner-manager', image: 'runner-manager', memory: 512 }],
  });
  const subnet = await defaultSubnet(endpoint);
  const run = (await callJsonAction(endpoint, `${ECS}.RunTask`, {
    cluster,
    taskDefinition: 'runner-manager',
    launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { subnets: [subnet], securityGroups: ['sg-0123456789abcdef0'] } },
    tags: [{ key: 'gitlab-fargate:environment', value: 'test' }],
  })) as { tasks: Array<{ taskArn: string }> };
  const taskArn = run.tasks[0]?.taskArn;
  if (taskArn === undefined) throw new Error('moto started no task');
  return { taskArn, clusterArn: created.cluster.clusterArn };
}

/** Tags a task, as the manager controller tags a manager it drains. */
export async function tagTask(endpoint: string, taskArn: string, tags: Record<string, string>): Promise<void> {
  await callJsonAction(endpoint, `${ECS}.TagResource`, { resourceArn: taskArn, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
}
