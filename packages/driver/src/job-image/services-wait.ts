import { DescribeTasksCommand, type Container, type ECSClient } from '@aws-sdk/client-ecs';
import { messageOf } from '../errors.js';
import type { Sleep } from '../sleep.js';

/** One service container to wait for. */
export interface WaitedService {
  /** `svc-0`, `svc-1`, … */
  readonly containerName: string;
  /** The service's image, as the job named it. */
  readonly image: string;
  /** Ports to probe (`service-ports.ts`); none = ready once its container runs. */
  readonly ports: readonly number[];
}

/** How a service ended the wait. */
export interface ServiceOutcome {
  readonly containerName: string;
  readonly state: 'ready' | 'running' | 'exited' | 'not-answering';
  /** The job-log line said about it. */
  readonly line: string;
}

/** What {@link waitForServices} needs. */
export interface ServiceWaitInput {
  readonly ecs: ECSClient;
  readonly cluster: string;
  readonly taskArn: string;
  readonly services: readonly WaitedService[];
  /** Which of `ports` accept a TCP connection inside the task (probed from the helper container). */
  readonly probe: (ports: readonly number[]) => Promise<ReadonlySet<number>>;
  /** `[JobImages] ServiceWaitTimeout`, in ms. */
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** One line per service, for the job log. */
  readonly report: (line: string, ok: boolean) => void;
  readonly sleep: Sleep;
  readonly now: () => number;
  readonly signal: AbortSignal;
}

/** The services' containers as DescribeTasks reports them; empty when it fails (the next round looks again). */
async function containersOf(input: ServiceWaitInput): Promise<ReadonlyMap<string, Container>> {
  try {
    const request = new DescribeTasksCommand({ cluster: input.cluster, tasks: [input.taskArn] });
    const { tasks = [] } = await input.ecs.send(request, { abortSignal: input.signal });
    return new Map((tasks[0]?.containers ?? []).map((container) => [container.name ?? '', container]));
  } catch (error) {
    input.signal.throwIfAborted();
    input.report(`DescribeTasks failed while waiting for the services (${messageOf(error)}); looking again`, true);
    return new Map();
  }
}

function exited(service: WaitedService, container: Container): ServiceOutcome {
  const code = container.exitCode === undefined ? 'no exit code' : `exit code ${container.exitCode}`;
  const reason = container.reason === undefined || container.reason === '' ? '' : `: ${container.reason}`;
  return { containerName: service.containerName, state: 'exited', line: `Service ${service.containerName} (${service.image}) exited with ${code}${reason}` };
}

/** One round: settles what it can; returns the services still pending. */
async function round(
  input: ServiceWaitInput,
  pending: readonly WaitedService[],
  started: number,
  done: ServiceOutcome[],
): Promise<WaitedService[]> {
  const containers = await containersOf(input);
  const running = pending.filter((service) => {
    const container = containers.get(service.containerName);
    if (container?.lastStatus === 'STOPPED') done.push(exited(service, container));
    return container?.lastStatus === 'RUNNING';
  });
  const ports = [...new Set(running.flatMap((service) => service.ports))];
  const open = ports.length === 0 ? new Set<number>() : await input.probe(ports);
  const seconds = ((input.now() - started) / 1000).toFixed(1);
  for (const service of running) {
    const name = `Service ${service.containerName} (${service.image})`;
    if (service.ports.length === 0) {
      done.push({ containerName: service.containerName, state: 'running', line: `${name} is running (no port known to wait for)` });
    } else if (service.ports.every((port) => open.has(port))) {
      done.push({ containerName: service.containerName, state: 'ready', line: `${name} is ready on port ${service.ports.join(', ')} after ${seconds} s` });
    }
  }
  const settled = new Set(done.map((outcome) => outcome.containerName));
  return pending.filter((service) => !settled.has(service.containerName));
}

/**
 * Waits for the job's services as gitlab-runner's `wait_for_services` does: each service's ports (probed inside the
 * task) until they accept connections, at most `timeoutMs`. A service whose container stopped is reported with its exit
 * code and reason; one that does not answer in time gets a warning. Neither fails the job (as with gitlab-runner: the
 * script decides whether it can do without). Prints one line per service, in the order they settle.
 */
export async function waitForServices(input: ServiceWaitInput): Promise<ServiceOutcome[]> {
  const started = input.now();
  const done: ServiceOutcome[] = [];
  let pending: readonly WaitedService[] = input.services;
  for (;;) {
    const before = done.length;
    pending = await round(input, pending, started, done);
    for (const outcome of done.slice(before)) input.report(outcome.line, outcome.state === 'ready' || outcome.state === 'running');
    if (pending.length === 0) return done;
    if (input.now() - started >= input.timeoutMs) break;
    await input.sleep(input.pollMs, input.signal);
  }
  const seconds = Math.round(input.timeoutMs / 1000);
  for (const service of pending) {
    const what = service.ports.length === 0 ? 'did not start running' : `did not answer on port ${service.ports.join(', ')}`;
    const outcome: ServiceOutcome = {
      containerName: service.containerName,
      state: 'not-answering',
      line: `Service ${service.containerName} (${service.image}) ${what} within ${seconds} s ([JobImages] ServiceWaitTimeout); the job goes on`,
    };
    done.push(outcome);
    input.report(outcome.line, false);
  }
  return done;
}

/** The helper's probe command: prints each of `ports` that accepts a connection on the task's loopback. */
export function portProbeCommand(ports: readonly number[]): string {
  const list = ports.filter((port) => Number.isInteger(port) && port > 0 && port < 65536).join(' ');
  return `bash -c 'for port in ${list}; do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && echo $port; done; true'`;
}

/** The open ports in a probe's output. */
export function parseProbeOutput(output: string): ReadonlySet<number> {
  return new Set(output.split('\n').map((line) => Number(line.trim())).filter((port) => Number.isInteger(port) && port > 0));
}
