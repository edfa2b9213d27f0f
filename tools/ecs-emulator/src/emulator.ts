import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { EmulatorOptions, TaskStateChange } from './config/options.js';
import { DockerClient } from './docker/docker-client.js';
import type { ServiceContext } from './ecs/context.js';
import { taskIdOf } from './ecs/identifiers.js';
import type { Task } from './ecs/model.js';
import { OPERATIONS } from './ecs/operations.js';
import { EcsStore } from './ecs/store.js';
import { FaultState, type FaultOptions } from './faults/faults.js';
import { Throttler, type ThrottlingOptions } from './faults/throttling.js';
import { LABELS } from './lifecycle/container-spec.js';
import { LoopbackPool } from './lifecycle/loopback-pool.js';
import { DEFAULT_PHASES, type PhaseDurations } from './lifecycle/phases.js';
import { privateDnsName } from './lifecycle/state-machine.js';
import { TaskRuntime, type RuntimeEnvironment } from './lifecycle/task-runtime.js';
import { handleControl, type ControlTarget } from './server/control.js';
import { BodyTooLargeError, readBody, send } from './server/http-io.js';
import { AwsError } from './wire/aws-error.js';
import { Ec2Error, ec2ErrorResponse, handleEc2, type NetworkInterfaceView } from './wire/ec2-query.js';
import { checkInputTypes } from './wire/shapes.js';
import { jsonError, jsonSuccess, operationFromTarget, parseJsonBody } from './wire/json-protocol.js';

/** A running emulator. */
export interface RunningEmulator {
  /** Base URL for `AWS_ENDPOINT_URL_ECS` / `AWS_ENDPOINT_URL_EC2`, e.g. `http://127.0.0.1:4599`. */
  readonly endpoint: string;
  readonly port: number;
  /** Identifies this instance's containers (Docker label `gitlab-fargate.ecs-emulator.instance`). */
  readonly instanceId: string;
  /** Replaces the injected faults (same shape as the config file's `faults`). */
  setFaults(faults: FaultOptions): void;
  /** Replaces the throttling settings; buckets start full. */
  setThrottling(throttling: ThrottlingOptions): void;
  /** Changes phase durations for tasks launched from now on. */
  setPhases(phases: Partial<PhaseDurations>): void;
  /** Interrupts a RUNNING task as Fargate Spot does (TerminationNotice, SIGTERM, then SpotInterruption). */
  interruptSpot(task: string, noticeMs?: number): boolean;
  /** Stops every task (removing its containers) and forgets all state; faults return to the start options. */
  reset(): Promise<void>;
  /** Snapshot of settings and tasks, as `GET /_emulator/state` returns it. */
  state(): EmulatorState;
  /** Closes the API and removes every container of this instance. */
  stop(): Promise<void>;
}

export interface EmulatorState {
  readonly instanceId: string;
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly phases: PhaseDurations;
  readonly faults: FaultOptions;
  readonly throttling: unknown;
  readonly clusters: string[];
  readonly tasks: {
    taskArn: string;
    lastStatus: string;
    desiredStatus: string;
    stopCode?: string;
    privateIp?: string;
    publicIp?: string;
    dockerIds: Record<string, string>;
  }[];
}

/** Which lone loopback block (127.<block>.0.0/16) no container on this engine publishes on yet. */
async function freeLoopbackBlock(docker: DockerClient): Promise<number> {
  const used = new Set<number>();
  const containers = (await docker.listContainers([])) as unknown as { Ports?: { IP?: string }[] }[];
  for (const container of containers) {
    for (const port of container.Ports ?? []) {
      const match = /^127\.(\d+)\./.exec(port.IP ?? '');
      if (match) used.add(Number(match[1]));
    }
  }
  const candidates = Array.from({ length: 191 }, (_, i) => 64 + i).filter((block) => !used.has(block));
  if (candidates.length === 0) throw new Error('Every loopback block 127.64–254.x.x is in use by containers; set loopbackBlock explicitly.');
  return candidates[Math.floor(Math.random() * candidates.length)]!;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes containers of emulators on this host whose process is gone. Returns how many were removed. */
export async function removeOrphanContainers(docker: DockerClient): Promise<number> {
  const hostname = os.hostname();
  const mine = await docker.listContainers([LABELS.managed, `${LABELS.managed}.host=${hostname}`]);
  const orphans = mine.filter((container) => {
    const pid = Number(container.Labels[LABELS.pid]);
    return !Number.isInteger(pid) || !processAlive(pid);
  });
  await Promise.all(orphans.map((container) => docker.removeContainer(container.Id)));
  return orphans.length;
}

function vpcIdFor(subnetId: string): string {
  return `vpc-${createHash('sha256').update(subnetId).digest('hex').slice(0, 17)}`;
}

/**
 * Starts an emulator: checks Docker, removes orphans of dead emulators, and listens.
 *
 * @example
 * const emu = await startEmulator({ port: 0 });
 * const ecs = new ECSClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 * await emu.stop();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const docker = new DockerClient(options.dockerSocket);
  await docker.ping();
  if (options.removeOrphans ?? true) await removeOrphanContainers(docker);
  const addresses = new LoopbackPool(options.loopbackBlock ?? (await freeLoopbackBlock(docker)));
  const instanceId = randomUUID();
  const instanceLabels = {
    [LABELS.managed]: 'true',
    [`${LABELS.managed}.host`]: os.hostname(),
    [LABELS.instance]: instanceId,
    [LABELS.pid]: String(process.pid),
  };
  let phases: PhaseDurations = { ...DEFAULT_PHASES, ...options.phases };
  const retentionMs = options.stoppedRetentionMs ?? 3_600_000;
  const store = new EcsStore();
  const faults = new FaultState(options.faults ?? {});
  const throttler = new Throttler(options.throttling ?? {});
  const runtimes = new Set<TaskRuntime>();
  const lastSeen = new Map<string, string>();

  const report = (task: Task, runtime?: TaskRuntime) => {
    const key = `${task.lastStatus}/${task.desiredStatus}/${task.stopCode ?? ''}`;
    if (lastSeen.get(task.taskArn) === key) return;
    lastSeen.set(task.taskArn, key);
    const change: TaskStateChange = {
      at: new Date(),
      taskArn: task.taskArn,
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      ...(task.stopCode ? { stopCode: task.stopCode } : {}),
      ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
      ...(runtime?.eni ? { privateIp: runtime.eni.privateIp } : {}),
      ...(runtime?.eni?.publicIp ? { publicIp: runtime.eni.publicIp } : {}),
      ...(task.capacityProviderName ? { capacityProviderName: task.capacityProviderName } : {}),
    };
    options.onTaskStateChange?.(change);
  };

  const environment = (): RuntimeEnvironment => ({
    docker,
    addresses,
    region,
    instanceLabels,
    applyResourceLimits: options.applyResourceLimits ?? true,
    defaultStopTimeoutSeconds: options.defaultStopTimeoutSeconds ?? 30,
    portReadinessTimeoutMs: options.portReadinessTimeoutMs ?? 10_000,
    phases: () => phases,
    onChange: (task) => report(task, store.tasks.get(taskIdOf(task.taskArn))?.runtime),
    onStopped: (task) => {
      const record = store.tasks.get(taskIdOf(task.taskArn));
      if (record) {
        record.expiresAt = Date.now() + retentionMs;
        runtimes.delete(record.runtime);
      }
      lastSeen.delete(task.taskArn);
    },
  });

  const ctx: ServiceContext = {
    scope: { region, accountId },
    store,
    faults,
    now: Date.now,
    launch: (task, definition, network, plan) => {
      const runtime = new TaskRuntime(task, definition, network, environment(), plan);
      runtimes.add(runtime);
      report(task);
      return runtime;
    },
  };

  const networkInterfaces = (): NetworkInterfaceView[] =>
    store.liveTasks(Date.now()).flatMap(({ task, runtime }) => {
      const eni = runtime.eni;
      const attachment = task.attachments[0];
      if (!eni || !attachment || attachment.status === 'DELETED') return [];
      return [
        {
          networkInterfaceId: eni.eniId,
          subnetId: eni.subnetId,
          vpcId: vpcIdFor(eni.subnetId),
          availabilityZone: task.availabilityZone,
          description: `arn:aws:ecs:${region}:${accountId}:attachment/${attachment.id}`,
          macAddress: eni.macAddress,
          privateIpAddress: eni.privateIp,
          privateDnsName: privateDnsName(eni.privateIp),
          ...(eni.publicIp ? { publicIp: eni.publicIp } : {}),
          securityGroups: [],
        },
      ];
    });

  const removeAllContainers = async () => {
    for (const runtime of runtimes) runtime.abort();
    runtimes.clear();
    const containers = await docker.listContainers([`${LABELS.instance}=${instanceId}`]);
    await Promise.all(containers.map((container) => docker.removeContainer(container.Id)));
  };

  /** The serverError and accessDenied faults: whole-call failures, checked after throttling as on AWS. */
  const injectApiFault = (operation: string) => {
    const { serverError, accessDenied } = faults.options;
    if (serverError && (serverError.operations ?? [operation]).includes(operation) && faults.hits('serverError', serverError)) {
      throw new AwsError('ServerException', 'Service Unavailable. Please try again later.', 500);
    }
    if (accessDenied && (accessDenied.operations ?? [operation]).includes(operation) && faults.hits('accessDenied', accessDenied)) {
      throw new AwsError(
        'AccessDeniedException',
        `User: arn:aws:iam::${accountId}:user/emulator is not authorized to perform: ecs:${operation} on resource: * because no identity-based policy allows the ecs:${operation} action`,
      );
    }
  };

  let endpoint = '';
  const emulator: RunningEmulator & ControlTarget = {
    get endpoint() {
      return endpoint;
    },
    get port() {
      return (server.address() as AddressInfo).port;
    },
    instanceId,
    setFaults: (value) => faults.configure(value),
    setThrottling: (value) => throttler.configure(value),
    setPhases: (value) => {
      phases = { ...phases, ...value };
    },
    interruptSpot: (reference, noticeMs) => {
      const record = store.tasks.get(taskIdOf(reference));
      return record ? record.runtime.interruptSpot(noticeMs ?? options.faults?.spotInterruption?.noticeMs ?? 2000) : false;
    },
    reset: async () => {
      await removeAllContainers();
      store.clear();
      lastSeen.clear();
      faults.configure(options.faults ?? {});
      throttler.configure(options.throttling ?? {});
      phases = { ...DEFAULT_PHASES, ...options.phases };
    },
    state: () => ({
      instanceId,
      endpoint,
      region,
      accountId,
      phases,
      faults: faults.options,
      throttling: throttler.describe(),
      clusters: [...store.clusters.values()].filter((c) => c.status === 'ACTIVE').map((c) => c.clusterName),
      tasks: store.liveTasks(Date.now()).map(({ task, runtime }) => ({
        taskArn: task.taskArn,
        lastStatus: task.lastStatus,
        desiredStatus: task.desiredStatus,
        ...(task.stopCode ? { stopCode: task.stopCode } : {}),
        ...(runtime.eni ? { privateIp: runtime.eni.privateIp } : {}),
        ...(runtime.eni?.publicIp ? { publicIp: runtime.eni.publicIp } : {}),
        dockerIds: Object.fromEntries(runtime.dockerIds),
      })),
    }),
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await removeAllContainers();
    },
  };

  const server = http.createServer((req, res) => {
    const requestId = randomUUID();
    void (async () => {
      let body: string;
      try {
        body = await readBody(req);
      } catch (error) {
        const message = error instanceof BodyTooLargeError ? error.message : 'Could not read the request body.';
        send(res, jsonError(new AwsError('SerializationException', message), requestId));
        return;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      if (path.startsWith('/_emulator/')) {
        await handleControl(emulator, req, res, body);
        return;
      }
      const contentType = String(req.headers['content-type'] ?? '');
      if (contentType.startsWith('application/x-www-form-urlencoded') || /(^|&)Action=/.test(body)) {
        try {
          send(res, handleEc2(new URLSearchParams(body), networkInterfaces(), accountId, requestId));
        } catch (error) {
          const ec2Error = error instanceof Ec2Error ? error : new Ec2Error('InternalError', (error as Error).message, 500);
          send(res, ec2ErrorResponse(ec2Error, requestId));
        }
        return;
      }
      try {
        if (req.method !== 'POST') throw new AwsError('UnknownOperationException', `The ECS API takes POST requests; got ${req.method} ${path}.`);
        const operation = operationFromTarget(req.headers['x-amz-target'] as string | undefined);
        const handler = OPERATIONS[operation];
        if (!handler) throw new AwsError('UnknownOperationException', `Operation ${operation} is not supported by this emulator.`);
        const input = parseJsonBody(body);
        checkInputTypes(operation, input);
        throttler.check(operation, operation === 'RunTask');
        injectApiFault(operation);
        send(res, jsonSuccess(handler(ctx, input), requestId));
      } catch (error) {
        const awsError =
          error instanceof AwsError ? error : new AwsError('ServerException', `Internal emulator error: ${(error as Error).message}`, 500);
        if (!(error instanceof AwsError)) console.error('ecs-emulator: internal error', error);
        send(res, jsonError(awsError, requestId));
      }
    })();
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  endpoint = `http://${host}:${address.port}`;
  return emulator;
}
