import { spawn, spawnSync } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { GenericContainer } from 'testcontainers';

/** Label on every container these tests start, so that cleanup touches only ours. */
export const TEST_LABELS = { 'org.gitlab-fargate.test': 'images' } as const;
/** The debootstrap image tools/docker/ensure-engine provides; no registry is reachable. */
export const LOCAL_BASE_IMAGE = 'local/debian:bookworm';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the docker CLI and returns what it printed; never throws on a non-zero exit, throws naming the command on a timeout. */
export function docker(args: readonly string[], options: { timeoutMs?: number } = {}): CommandResult {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs });
  if (result.error) {
    const timedOut = (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    const what = timedOut ? `no answer within ${timeoutMs} ms` : result.error.message;
    throw new Error(`docker ${args.join(' ')}: ${what}${result.stderr ? `\n${result.stderr}` : ''}`);
  }
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** `docker run --rm` with our labels; returns the exit code and output. */
export function dockerRun(image: string, runArgs: readonly string[], command: readonly string[] = []): CommandResult {
  const labels = Object.entries(TEST_LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
  return docker(['run', '--rm', ...labels, ...runArgs, image, ...command]);
}

/**
 * Builds `contextDir` with testcontainers (the legacy builder on this engine) and tags the image; `platform`
 * (e.g. `linux/arm64`, run under qemu) builds for another architecture.
 */
export async function buildImage(contextDir: string, tag: string, buildArgs: Record<string, string>, platform?: string): Promise<string> {
  const builder = GenericContainer.fromDockerfile(contextDir).withBuildArgs(buildArgs);
  await (platform ? builder.withPlatform(platform) : builder).build(tag, { deleteOnExit: false });
  return tag;
}

/** Whether a local image with this reference exists. */
export function imageExists(reference: string): boolean {
  return docker(['image', 'inspect', reference]).code === 0;
}

/** Removes containers these tests left behind (for example after an interrupted run). */
export function removeOurContainers(): void {
  const filters = Object.entries(TEST_LABELS).flatMap(([key, value]) => ['--filter', `label=${key}=${value}`]);
  const ids = docker(['ps', '-aq', ...filters]).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) {
    docker(['rm', '-f', ...ids]);
  }
}

/** Where the engine's API answers plain HTTP: a unix socket or a TCP address. */
export type EngineEndpoint = { readonly socketPath: string } | { readonly host: string; readonly port: number };

/** The socket the docker CLI uses when DOCKER_HOST is unset. */
const DEFAULT_ENGINE_SOCKET = '/var/run/docker.sock';
/** The port the docker CLI assumes for a `tcp://` DOCKER_HOST without TLS. */
const DEFAULT_ENGINE_TCP_PORT = 2375;

/**
 * The engine the docker CLI would talk to, read from DOCKER_HOST as the CLI reads it: `unix:///path`, or
 * `tcp://host[:port]` without TLS. Undefined when only the CLI knows how to get there (`ssh://`, TLS through
 * DOCKER_TLS_VERIFY or DOCKER_TLS, a DOCKER_CONTEXT); callers then go through the CLI.
 */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint | undefined {
  const host = env['DOCKER_HOST'] ?? '';
  if (host === '') {
    return env['DOCKER_CONTEXT'] ? undefined : { socketPath: DEFAULT_ENGINE_SOCKET };
  }
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath.startsWith('/')) {
      throw new Error(`DOCKER_HOST=${host}: a unix socket needs an absolute path; set it like unix:///var/run/docker.sock`);
    }
    return { socketPath };
  }
  if (host.startsWith('tcp://') && !env['DOCKER_TLS_VERIFY'] && !env['DOCKER_TLS']) {
    return tcpEndpoint(host);
  }
  return undefined;
}

function tcpEndpoint(dockerHost: string): EngineEndpoint {
  const asHttp = `http://${dockerHost.slice('tcp://'.length)}`;
  const url = URL.canParse(asHttp) ? new URL(asHttp) : undefined;
  if (!url?.hostname || (url.pathname !== '/' && url.pathname !== '')) {
    throw new Error(`DOCKER_HOST=${dockerHost}: not a tcp://host:port address; set it like tcp://127.0.0.1:2375`);
  }
  // URL keeps the brackets of an IPv6 literal, which net.connect does not take.
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : DEFAULT_ENGINE_TCP_PORT };
}

/** Sends one request to the engine's API and resolves with the response once its headers are in. */
function engineRequest(endpoint: EngineEndpoint, method: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const sent = request({ ...endpoint, method, path }, resolve);
    sent.on('error', (error) => reject(new Error(`${method} ${path} to the Docker engine (${describeEndpoint(endpoint)}): ${error.message}`)));
    sent.end();
  });
}

function describeEndpoint(endpoint: EngineEndpoint): string {
  return 'socketPath' in endpoint ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}

async function readBody(response: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of response) {
    body += (chunk as Buffer).toString();
  }
  return body;
}

/**
 * Sends `signal` to a container, as `docker kill --signal` does: through the engine's API at DOCKER_HOST when it
 * answers plain HTTP, through the CLI otherwise. Resolves once the engine has accepted it.
 */
export async function signalContainer(id: string, signal: string): Promise<void> {
  const endpoint = engineEndpoint();
  if (!endpoint) {
    const killed = docker(['kill', '--signal', signal, id]);
    if (killed.code !== 0) {
      throw new Error(`docker kill --signal ${signal} ${id}: ${killed.stderr}`);
    }
    return;
  }
  const response = await engineRequest(endpoint, 'POST', `/containers/${encodeURIComponent(id)}/kill?signal=${encodeURIComponent(signal)}`);
  const body = await readBody(response);
  if (response.statusCode !== 204) {
    throw new Error(`kill ${signal} ${id} at ${describeEndpoint(endpoint)}: HTTP ${response.statusCode} ${body}`);
  }
}

/** One entry of the engine's event log; `timeNano` is the engine's clock, in nanoseconds since the epoch. */
export interface EngineEvent {
  readonly Action: string;
  readonly timeNano: number;
  readonly Actor: { readonly ID: string; readonly Attributes: Record<string, string> };
}

/** A container's events as the engine logs them, from its start on. */
export interface ContainerEvents {
  /** Resolves with the first event `action` (logged before or after the call); rejects after `timeoutMs`. */
  next(action: string, timeoutMs: number): Promise<EngineEvent>;
  /** Ends the stream. */
  close(): void;
}

/**
 * Follows the engine's events `actions` (e.g. `kill`, `die`) for container `id`. The stream starts at the
 * container's start on the engine's own clock, so an event logged before the stream was set up is still seen
 * (while it is among the 256 the engine keeps). Through the API when DOCKER_HOST answers plain HTTP (resolving once
 * the engine answered), through `docker events` otherwise.
 */
export async function followContainerEvents(id: string, actions: readonly string[]): Promise<ContainerEvents> {
  const inspected = docker(['inspect', '-f', '{{.State.StartedAt}}', id]);
  const since = Math.floor(Date.parse(inspected.stdout.trim()) / 1000);
  if (!Number.isFinite(since)) {
    throw new Error(`container ${id}: no start time to follow its events from: ${inspected.stdout}${inspected.stderr}`);
  }
  const events = new EventLog(id);
  const endpoint = engineEndpoint();
  if (endpoint) {
    const filters = encodeURIComponent(JSON.stringify({ container: [id], event: actions }));
    const response = await engineRequest(endpoint, 'GET', `/events?since=${since}&filters=${filters}`);
    if (response.statusCode !== 200) {
      throw new Error(`events of ${id} at ${describeEndpoint(endpoint)}: HTTP ${response.statusCode} ${await readBody(response)}`);
    }
    events.read(response, () => response.destroy());
  } else {
    const filters = [`container=${id}`, ...actions.map((action) => `event=${action}`)].flatMap((filter) => ['--filter', filter]);
    const cli = spawn('docker', ['events', '--since', String(since), ...filters, '--format', '{{json .}}'], { stdio: ['ignore', 'pipe', 'inherit'] });
    events.read(cli.stdout, () => cli.kill());
  }
  return events;
}

/** Collects newline-delimited JSON events and hands each to whoever waits for its action. */
class EventLog implements ContainerEvents {
  private readonly seen: EngineEvent[] = [];
  private readonly waiting = new Set<() => void>();
  private stop: () => void = () => undefined;

  constructor(private readonly id: string) {}

  read(stream: NodeJS.ReadableStream, stop: () => void): void {
    this.stop = stop;
    createInterface({ input: stream }).on('line', (line) => {
      if (line.trim() !== '') {
        this.seen.push(JSON.parse(line) as EngineEvent);
        this.waiting.forEach((wake) => wake());
      }
    });
  }

  next(action: string, timeoutMs: number): Promise<EngineEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const event = this.seen.find((candidate) => candidate.Action === action);
        if (event) {
          this.waiting.delete(check);
          clearTimeout(timer);
          resolve(event);
        }
      };
      const timer = setTimeout(() => {
        this.waiting.delete(check);
        reject(new Error(`container ${this.id}: no ${action} event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.add(check);
      check();
    });
  }

  close(): void {
    this.stop();
  }
}
