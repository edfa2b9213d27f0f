import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsvpc, registerFargateTaskDefinition } from '../test/support/clients.js';
import { ensureSshdImage } from '../test/support/image.js';
import { isRunning, isStopped, waitForTask } from '../test/support/waiting.js';
import { DockerClient } from './docker/docker-client.js';
import { LABELS } from './lifecycle/container-spec.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** The CLI process, its stdout lines and stderr so far, and its exit code once its output has been read. */
interface StartedCli {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  stderr(): string;
  /** Resolves on 'close' (the process exited and its stdout and stderr ended), not on 'exit'. */
  readonly closed: Promise<number | null>;
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Runs the built CLI and collects its stdout lines and stderr. */
function startCli(args: string[]): StartedCli {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env } });
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    lines.push(text);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(text)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(text);
      }
    }
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    closed,
    line: (pattern, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((text) => pattern.test(text));
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern}; got:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ pattern, resolve: (text) => (clearTimeout(timer), resolve(text)) });
      }),
  };
}

describe('gitlab-fargate-ecs-emulator CLI', () => {
  const saved = { ...process.env };

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the package first (npx projen compile).`);
  });

  afterAll(() => {
    process.env = saved;
  });

  it('prints help and refuses bad flags with exit code 2, before any side effect', async () => {
    const help = startCli(['start', '--help']);
    expect(await help.closed).toBe(0);
    expect(help.lines.join('\n')).toMatch(/--late-sshd MS\[SEL\]/);
    const bad = startCli(['start', '--port', 'x']);
    expect(await bad.closed).toBe(2);
    expect(bad.stderr()).toContain("--port: expected a whole number, got 'x'");
  });

  it('serves any SDK pointed at it through AWS_ENDPOINT_URL_ECS/EC2, prints state changes, and cleans up on SIGTERM', async () => {
    const image = ensureSshdImage();
    const cli = startCli(['start', '--port', '0', '--phase', 'provisioning=20']);
    const endpoint = (await cli.line(/listening on/)).match(/listening on (http:\/\/\S+)/)![1]!;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECS: endpoint,
      AWS_ENDPOINT_URL_EC2: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'anything',
      AWS_SECRET_ACCESS_KEY: 'anything',
    });
    const ecs = new ECSClient({});
    const ec2 = new EC2Client({});
    await ecs.send(new CreateClusterCommand({ clusterName: 'cli', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }));
    await registerFargateTaskDefinition(ecs, 'sshd', image, { environment: [{ name: 'SSH_PUBLIC_KEY', value: 'ssh-ed25519 AAAA unused' }] });
    const task = (await ecs.send(new RunTaskCommand({ cluster: 'cli', taskDefinition: 'sshd', networkConfiguration: awsvpc() }))).tasks![0]!;
    const running = await waitForTask(ecs, 'cli', task.taskArn!, isRunning);
    const eniId = running.attachments![0]!.details!.find((d) => d.name === 'networkInterfaceId')!.value!;
    const enis = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
    expect(enis.NetworkInterfaces![0]!.Association).toBeUndefined();
    const id = task.taskArn!.split('/').pop()!;
    expect(await cli.line(new RegExp(`task/cli/${id} RUNNING desired=RUNNING capacity=FARGATE ip=127\\.`))).toBeTruthy();

    // A second task is left running: SIGTERM must take its container away.
    await ecs.send(new StopTaskCommand({ cluster: 'cli', task: task.taskArn!, reason: 'done' }));
    await waitForTask(ecs, 'cli', task.taskArn!, isStopped);
    expect(await cli.line(new RegExp(`task/cli/${id} STOPPED .*stopCode=UserInitiated reason="done"`))).toBeTruthy();
    const left = (await ecs.send(new RunTaskCommand({ cluster: 'cli', taskDefinition: 'sshd', networkConfiguration: awsvpc() }))).tasks![0]!;
    await waitForTask(ecs, 'cli', left.taskArn!, isRunning);
    const docker = new DockerClient();
    // The task's container and its network holder.
    expect(await docker.listContainers([`${LABELS.taskArn}=${left.taskArn}`])).toHaveLength(2);
    cli.child.kill('SIGTERM');
    expect(await cli.closed).toBe(0);
    expect(await docker.listContainers([`${LABELS.taskArn}=${left.taskArn}`])).toEqual([]);
  });
});
