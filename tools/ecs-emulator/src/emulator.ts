import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { EmulatorOptions } from './config/options.js';
import { DockerClient } from './docker/docker-client.js';
import { freeLoopbackBlock, removeInstanceResources, removeOrphanContainers } from './docker/housekeeping.js';
import type { ServiceContext } from './ecs/context.js';
import { taskIdOf } from './ecs/identifiers.js';
import { taskNetworkInterfaces } from './ecs/network-interfaces.js';
import { runOperation } from './ecs/operations.js';
import { EcsStore } from './ecs/store.js';
import { injectApiFault } from './faults/api-faults.js';
import { FaultState, type FaultOptions } from './faults/faults.js';
import { Throttler, type ThrottlingOptions } from './faults/throttling.js';
import { DEFAULT_HOLDER_IMAGE, LABELS } from './lifecycle/container-spec.js';
import { LoopbackPool } from './lifecycle/loopback-pool.js';
import { DEFAULT_PHASES, type PhaseDurations } from './lifecycle/phases.js';
import { TaskRuntime, type RuntimeEnvironment } from './lifecycle/task-runtime.js';
import { TaskTracker } from './lifecycle/task-tracker.js';
import type { ControlTarget } from './server/control.js';
import { routeRequest } from './server/router.js';
import { handleEc2 } from './wire/ec2-query.js';

export { removeOrphanContainers } from './docker/housekeeping.js';

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
    /** Docker id of the task's network holder. */
    holderId?: string;
    /** Docker volume names of the task's volumes, by task-definition volume name. */
    volumes: Record<string, string>;
  }[];
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
  const instanceLabels = labelsOfInstance(instanceId);
  let phases: PhaseDurations = { ...DEFAULT_PHASES, ...options.phases };
  const retentionMs = options.stoppedRetentionMs ?? 3_600_000;
  const store = new EcsStore();
  const faults = new FaultState(options.faults ?? {});
  const throttler = new Throttler(options.throttling ?? {});
  const tracker = new TaskTracker(store, retentionMs, options.onTaskStateChange);

  const environment = (): RuntimeEnvironment => ({
    docker,
    addresses,
    region,
    instanceLabels,
    ...runtimeSettings(options),
    phases: () => phases,
    onChange: (task) => tracker.changed(task),
    onStopped: (task) => tracker.stopped(task),
  });
  const ctx = serviceContext({ region, accountId }, store, faults, (task, definition, network, plan) => {
    const runtime = new TaskRuntime(task, definition, network, environment(), plan);
    tracker.launched(task, runtime);
    return runtime;
  }, () => phases.registrationMs);
  const removeAllContainers = () => removeInstanceContainers(docker, tracker, instanceId);

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
      tracker.forgetReported();
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
      ...storeSnapshot(store),
    }),
    stop: async () => {
      await closeServer(server);
      await removeAllContainers();
    },
  };

  const server = apiServer(emulator, ctx, throttler);
  endpoint = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return emulator;
}

/** The task runtime settings that come straight from the options. */
function runtimeSettings(
  options: EmulatorOptions,
): Pick<RuntimeEnvironment, 'applyResourceLimits' | 'defaultStopTimeoutSeconds' | 'portReadinessTimeoutMs' | 'holderImage'> {
  return {
    applyResourceLimits: options.applyResourceLimits ?? true,
    holderImage: options.holderImage ?? DEFAULT_HOLDER_IMAGE,
    defaultStopTimeoutSeconds: options.defaultStopTimeoutSeconds ?? 30,
    // AWS's RUNNING means the containers started, not that anything listens: faithful by default.
    portReadinessTimeoutMs: options.portReadinessTimeoutMs ?? 0,
  };
}

/** What the ECS operations work on: the account and region, the store, the faults and how tasks are launched. */
function serviceContext(
  scope: ServiceContext['scope'],
  store: EcsStore,
  faults: FaultState,
  launch: ServiceContext['launch'],
  registrationMs: () => number,
): ServiceContext {
  return {
    scope,
    store,
    faults,
    now: Date.now,
    launch,
    registrationDelay: () => new Promise((resolve) => setTimeout(resolve, registrationMs())),
  };
}

/** Aborts every task runtime and removes every container, holder and task volume of this emulator instance. */
async function removeInstanceContainers(docker: DockerClient, tracker: TaskTracker, instanceId: string): Promise<void> {
  tracker.abortAll();
  await removeInstanceResources(docker, instanceId);
}

/** The HTTP server of the ECS JSON API, the EC2 query API and the `/_emulator` control routes. */
function apiServer(control: ControlTarget, ctx: ServiceContext, throttler: Throttler): http.Server {
  const { accountId } = ctx.scope;
  const server = http.createServer((req, res) => {
    void routeRequest(req, res, {
      control,
      ecs: (operation, input) => {
        throttler.check(operation, operation === 'RunTask');
        injectApiFault(ctx.faults, operation, accountId);
        return runOperation(ctx, operation, input);
      },
      ec2: (params, requestId) => handleEc2(params, taskNetworkInterfaces(ctx.store, ctx.scope, Date.now()), accountId, requestId),
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

/** The Docker labels on every container of one emulator instance (what orphan removal and reset look for). */
function labelsOfInstance(instanceId: string): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.host]: os.hostname(),
    [LABELS.instance]: instanceId,
    [LABELS.pid]: String(process.pid),
  };
}

/** The clusters and live tasks of {@link EmulatorState}. */
function storeSnapshot(store: EcsStore): Pick<EmulatorState, 'clusters' | 'tasks'> {
  return {
    clusters: [...store.clusters.values()].filter((c) => c.status === 'ACTIVE').map((c) => c.clusterName),
    tasks: store.liveTasks(Date.now()).map(({ task, runtime }) => ({
      taskArn: task.taskArn,
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      ...(task.stopCode ? { stopCode: task.stopCode } : {}),
      ...(runtime.eni ? { privateIp: runtime.eni.privateIp } : {}),
      ...(runtime.eni?.publicIp ? { publicIp: runtime.eni.publicIp } : {}),
      dockerIds: Object.fromEntries(runtime.dockerIds),
      ...(runtime.holderId ? { holderId: runtime.holderId } : {}),
      volumes: Object.fromEntries(runtime.volumeNames),
    })),
  };
}

/** Listens on `host:port` (0: any free port) and returns the endpoint URL, e.g. `http://127.0.0.1:4599`. */
async function listen(server: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/** Stops accepting requests and drops open keep-alive connections. */
function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
