import {
  CreateClusterCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
  type ContainerOverride,
  type ECSClient,
  type Volume,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsvpc, ecsClient } from '../../test/support/clients.js';
import { BASE_IMAGE, containerNamed, ensureToolsImage, readWhenServing, serveScript, taskAddress } from '../../test/support/tasks.js';
import { isRunning, isStopped, waitForTask } from '../../test/support/waiting.js';
import { DockerClient } from '../docker/docker-client.js';
import { removeOrphanContainers } from '../docker/housekeeping.js';
import { startEmulator, type RunningEmulator } from '../emulator.js';
import { LABELS } from './container-spec.js';

const CLUSTER = 'multi';

/** A container of the base image running `script` under bash. */
function bashContainer(name: string, script: string, extra: Partial<ContainerDefinition> = {}): ContainerDefinition {
  return { name, image: BASE_IMAGE, essential: true, entryPoint: ['bash', '-c'], command: [script], stopTimeout: 1, ...extra };
}

describe('multi-container tasks (one network namespace, task volumes, dependsOn, essential)', () => {
  let emu: RunningEmulator;
  let ecs: ECSClient;
  let toolsImage: string;
  const docker = new DockerClient();

  beforeAll(async () => {
    toolsImage = ensureToolsImage();
    emu = await startEmulator({ throttling: { enabled: false }, phases: { registrationMs: 0 } });
    ecs = ecsClient(emu.endpoint);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER, capacityProviders: ['FARGATE'] }));
  });

  afterAll(async () => {
    await emu?.stop();
  });

  async function run(
    family: string,
    containerDefinitions: ContainerDefinition[],
    options: { volumes?: Volume[]; overrides?: ContainerOverride[] } = {},
  ): Promise<string> {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions,
        ...(options.volumes ? { volumes: options.volumes } : {}),
      }),
    );
    const out = await ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: family,
        launchType: 'FARGATE',
        networkConfiguration: awsvpc(),
        ...(options.overrides ? { overrides: { containerOverrides: options.overrides } } : {}),
      }),
    );
    return out.tasks![0]!.taskArn!;
  }

  it('shares one network namespace: containers talk over localhost, every declared port answers on the task address', async () => {
    const taskArn = await run('talk', [
      // First and gone at once, as an init container is: the task's network must not go with it.
      bashContainer('init', 'exit 0', { essential: false }),
      bashContainer('backend', serveScript(7000, 'echo from-backend', '127.0.0.1')),
      bashContainer('relay', serveScript(8080, 'exec 3<>/dev/tcp/127.0.0.1/7000 && echo "relay:$(cat <&3)"'), { portMappings: [{ containerPort: 8080 }] }),
      bashContainer('second', serveScript(8081, 'echo second'), { portMappings: [{ containerPort: 8081 }] }),
    ]);
    const running = await waitForTask(ecs, CLUSTER, taskArn, isRunning);
    const ip = taskAddress(running);
    expect(ip).toMatch(/^127\./);
    expect((await readWhenServing(ip, 8080)).trim()).toBe('relay:from-backend');
    expect((await readWhenServing(ip, 8081)).trim()).toBe('second');
    const holderId = emu.state().tasks.find((task) => task.taskArn === taskArn)!.holderId!;
    expect((await docker.inspectContainer(holderId)).State.Running).toBe(true);

    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    await waitForTask(ecs, CLUSTER, taskArn, isStopped);
    expect(await docker.listContainers([`${LABELS.taskArn}=${taskArn}`])).toEqual([]);
  });

  it('fills a task volume from the VOLUME path of the init image, starts the dependent after SUCCESS, with its entryPoint, user, overrides', async () => {
    const volumes = [{ name: 'gf-tools' }, { name: 'builds' }];
    const report = 'echo "uid=$(id -u) greeting=$GREETING init=$(cat /opt/gf/init-done) marker=$(cat /opt/gf/marker) ro=$(touch /opt/gf/x 2>/dev/null && echo no || echo yes) builds=$(cat /builds/hello)"';
    const taskArn = await run(
      'inject',
      [
        // The init container finishes after a moment, so a dependent started early would not see init-done.
        { name: 'gf-init', image: toolsImage, essential: false, entryPoint: ['bash', '-c'], command: ['sleep 1; echo yes > /opt/gf/init-done'],
          mountPoints: [{ sourceVolume: 'gf-tools', containerPath: '/opt/gf' }] },
        bashContainer('helper', 'echo shared > /builds/hello; exec sleep infinity', { mountPoints: [{ sourceVolume: 'builds', containerPath: '/builds' }] }),
        bashContainer('build', 'echo definition command', {
          user: '1000',
          environment: [{ name: 'GREETING', value: 'from-definition' }],
          portMappings: [{ containerPort: 2222 }],
          dependsOn: [{ containerName: 'gf-init', condition: 'SUCCESS' }, { containerName: 'helper', condition: 'START' }],
          mountPoints: [
            { sourceVolume: 'gf-tools', containerPath: '/opt/gf', readOnly: true },
            { sourceVolume: 'builds', containerPath: '/builds' },
          ],
        }),
      ],
      { volumes, overrides: [{ name: 'build', command: [serveScript(2222, report)], environment: [{ name: 'GREETING', value: 'from-override' }] }] },
    );
    const running = await waitForTask(ecs, CLUSTER, taskArn, isRunning);
    expect(containerNamed(running, 'gf-init')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 0 });
    expect(containerNamed(running, 'build').lastStatus).toBe('RUNNING');
    const line = (await readWhenServing(taskAddress(running), 2222)).trim();
    expect(line).toBe('uid=1000 greeting=from-override init=yes marker=copied-in ro=yes builds=shared');

    const volumeLabel = [`${LABELS.taskArn}=${taskArn}`];
    expect(Object.keys(emu.state().tasks.find((task) => task.taskArn === taskArn)!.volumes).sort()).toEqual(['builds', 'gf-tools']);
    expect((await docker.listVolumes(volumeLabel)).map((volume) => volume.Labels?.[LABELS.volumeName]).sort()).toEqual(['builds', 'gf-tools']);
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    await waitForTask(ecs, CLUSTER, taskArn, isStopped);
    expect(await docker.listVolumes(volumeLabel)).toEqual([]);
    expect(await docker.listContainers(volumeLabel)).toEqual([]);
  });

  it('never starts a container whose SUCCESS dependency failed, and stops the task as ECS reports it', async () => {
    const taskArn = await run('failing-init', [
      bashContainer('gf-init', 'exit 3', { essential: false }),
      bashContainer('build', 'exec sleep infinity', { dependsOn: [{ containerName: 'gf-init', condition: 'SUCCESS' }] }),
    ]);
    const stopped = await waitForTask(ecs, CLUSTER, taskArn, isStopped);
    expect(stopped).toMatchObject({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    expect(containerNamed(stopped, 'gf-init')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 3 });
    const build = containerNamed(stopped, 'build');
    expect(build.exitCode).toBe(143);
    expect(build.reason).toBe(
      `CannotStartContainerError: dependency graph: failed to resolve container ordering dependency [gf-init(${BASE_IMAGE}) (STOPPED->RUNNING) - Exit: 3] ` +
        `for target [build(${BASE_IMAGE}) (NONE->RUNNING)] as dependency did not exit successfully.`,
    );
    expect(stopped.startedAt).toBeUndefined();
  });

  it('keeps the task running when a non-essential container exits, and stops it when an essential one does', async () => {
    const taskArn = await run('essentials', [
      bashContainer('svc', 'exit 7', { essential: false }),
      // Answers one connection, then exits 5: the test decides when the essential container ends.
      bashContainer('main', 'perl -MIO::Socket::INET -e \'$s = IO::Socket::INET->new(LocalPort => 9000, Listen => 1, ReuseAddr => 1) or die; $c = $s->accept; print $c "bye\\n"; close $c; exit 5\'', {
        portMappings: [{ containerPort: 9000 }],
      }),
    ]);
    const svcExited = await waitForTask(ecs, CLUSTER, taskArn, (task) => isRunning(task) && containerNamed(task, 'svc').lastStatus === 'STOPPED');
    expect(svcExited.desiredStatus).toBe('RUNNING');
    expect(containerNamed(svcExited, 'svc').exitCode).toBe(7);
    expect(containerNamed(svcExited, 'main').lastStatus).toBe('RUNNING');

    expect((await readWhenServing(taskAddress(svcExited), 9000)).trim()).toBe('bye');
    const stopped = await waitForTask(ecs, CLUSTER, taskArn, isStopped);
    expect(stopped).toMatchObject({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
    expect(containerNamed(stopped, 'main').exitCode).toBe(5);
    expect(containerNamed(stopped, 'svc').exitCode).toBe(7);
  });

  it('keeps the task running when Docker cannot start a non-essential container, which shows why', async () => {
    const taskArn = await run('unstartable', [
      bashContainer('svc', '', { essential: false, entryPoint: ['/no/such/binary'] }),
      bashContainer('main', 'exec sleep infinity'),
    ]);
    const running = await waitForTask(ecs, CLUSTER, taskArn, (task) => isRunning(task) && containerNamed(task, 'svc').lastStatus === 'STOPPED');
    expect(containerNamed(running, 'svc').reason).toMatch(/^CannotStartContainerError: .*\/no\/such\/binary/);
    expect(containerNamed(running, 'main').lastStatus).toBe('RUNNING');
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
  });

  it('waits for HEALTHY before starting the dependent, and gives up when a dependency passes its startTimeout', async () => {
    const healthy = run('healthy', [
      bashContainer('db', 'touch /tmp/ready; exec sleep infinity', {
        essential: false,
        healthCheck: { command: ['CMD-SHELL', 'test -e /tmp/ready'], interval: 5, timeout: 2, retries: 1 },
      }),
      bashContainer('app', 'exec sleep infinity', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
    ]);
    const timedOut = run('timed-out', [
      bashContainer('slow', 'exec sleep infinity', { essential: false, startTimeout: 1 }),
      bashContainer('app', 'exec sleep infinity', { dependsOn: [{ containerName: 'slow', condition: 'COMPLETE' }] }),
    ]);
    const [healthyArn, timedOutArn] = await Promise.all([healthy, timedOut]);

    const running = await waitForTask(ecs, CLUSTER, healthyArn, isRunning);
    expect(containerNamed(running, 'db').healthStatus).toBe('HEALTHY');
    expect(containerNamed(running, 'app').lastStatus).toBe('RUNNING');

    const stopped = await waitForTask(ecs, CLUSTER, timedOutArn, isStopped);
    expect(stopped.stopCode).toBe('EssentialContainerExited');
    expect(containerNamed(stopped, 'app').reason).toMatch(/^CannotStartContainerError: dependency graph: container ordering dependency \[slow\(.+\) \(RUNNING->RUNNING\)\] for target \[app\(.+\) \(NONE->RUNNING\)\] has timed out\.$/);
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: healthyArn }));
  });

  it('sets pullStoppedAt before any container starts, while the task is still PENDING (as on AWS)', async () => {
    // The gate never becomes healthy, so the task stays PENDING with 'app' waiting: its description shows the pull done.
    const taskArn = await run('pulled', [
      bashContainer('gate', 'exec sleep infinity', { essential: false, healthCheck: { command: ['CMD-SHELL', 'false'], interval: 5, timeout: 2, retries: 1 } }),
      bashContainer('app', 'exec sleep infinity', { dependsOn: [{ containerName: 'gate', condition: 'HEALTHY' }] }),
    ]);
    const pulled = await waitForTask(ecs, CLUSTER, taskArn, (task) => task.lastStatus !== 'PROVISIONING' && (task.lastStatus !== 'PENDING' || task.pullStoppedAt !== undefined), 10_000);
    expect(pulled.lastStatus).toBe('PENDING');
    expect(pulled.pullStoppedAt!.getTime()).toBeGreaterThanOrEqual(pulled.pullStartedAt!.getTime());
    expect(containerNamed(pulled, 'app').lastStatus).toBe('PENDING');
    await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    await waitForTask(ecs, CLUSTER, taskArn, isStopped);
  });

  it('removes task volumes of an emulator whose process is gone', async () => {
    const labels = { [LABELS.managed]: 'true', [LABELS.host]: (await import('node:os')).hostname(), [LABELS.instance]: 'dead', [LABELS.pid]: '999999999' };
    await docker.createVolume('ecs-emulator-orphan-test-volume', labels);
    await removeOrphanContainers(docker);
    expect(await docker.listVolumes([`${LABELS.instance}=dead`])).toEqual([]);
  });
});
