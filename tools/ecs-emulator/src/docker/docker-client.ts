import http from 'node:http';

/** Where the Docker Engine API listens. @default '/var/run/docker.sock' */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Engine API version spoken; 1.41 is Docker 20.10, and newer engines still accept it. */
const API_VERSION = 'v1.41';

/** A non-2xx answer from the Docker Engine API. */
export class DockerApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly path: string,
    message: string,
  ) {
    super(`Docker API ${path} answered ${statusCode}: ${message}`);
    this.name = 'DockerApiError';
  }
}

/** The subset of `POST /containers/create` this emulator uses. */
export interface ContainerCreateSpec {
  readonly Image: string;
  readonly Cmd?: string[];
  readonly Entrypoint?: string[];
  readonly Env?: string[];
  readonly WorkingDir?: string;
  readonly User?: string;
  readonly Hostname?: string;
  readonly Labels: Record<string, string>;
  readonly ExposedPorts?: Record<string, Record<string, never>>;
  readonly StopTimeout?: number;
  /** Docker's HEALTHCHECK: `Test` as ECS's `healthCheck.command`, durations in nanoseconds. */
  readonly Healthcheck?: {
    readonly Test: string[];
    readonly Interval: number;
    readonly Timeout: number;
    readonly Retries: number;
    readonly StartPeriod: number;
  };
  readonly HostConfig: {
    /** Named volumes (task volumes); an empty one is filled from the image's content at `Target` on first mount. */
    readonly Mounts?: { readonly Type: 'volume'; readonly Source: string; readonly Target: string; readonly ReadOnly: boolean }[];
    readonly PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
    readonly NetworkMode?: string;
    readonly NanoCpus?: number;
    readonly Memory?: number;
    readonly Init?: boolean;
  };
}

/** The fields of `GET /containers/{id}/json` this emulator reads. */
export interface ContainerInspect {
  readonly Id: string;
  readonly State: {
    readonly Running: boolean;
    readonly ExitCode: number;
    readonly OOMKilled: boolean;
    readonly Status: string;
    /** Present when the container has a health check: `starting`, `healthy` or `unhealthy`. */
    readonly Health?: { readonly Status: string };
  };
}

/** One row of `GET /containers/json`. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Labels: Record<string, string>;
  readonly State: string;
  /** Published ports; `IP` is the host address a port is bound to. */
  readonly Ports?: readonly { readonly IP?: string; readonly PublicPort?: number; readonly PrivatePort: number }[];
}

/** One row of `GET /volumes`. */
export interface VolumeSummary {
  readonly Name: string;
  readonly Labels: Record<string, string> | null;
}

/**
 * A minimal Docker Engine API client over the unix socket (node:http only, no dependency).
 * It never pulls images: the emulator's machines reach no registry, so a missing image is a task failure.
 */
/** The part of `GET /images/{name}/json` that says which platform an image is for. */
interface ImagePlatform {
  readonly Os: string;
  readonly Architecture: string;
}

export class DockerClient {
  constructor(private readonly socketPath: string = DEFAULT_DOCKER_SOCKET) {}

  /** Resolves when the engine answers `GET /_ping`. */
  async ping(): Promise<void> {
    await this.request('GET', '/_ping');
  }

  /** The local image's `os/architecture` (e.g. `linux/arm64`), or undefined when no such image exists. */
  async imagePlatform(image: string): Promise<string | undefined> {
    try {
      const found = (await this.request('GET', `/images/${image.split('/').map(encodeURIComponent).join('/')}/json`)) as ImagePlatform;
      return `${found.Os}/${found.Architecture}`;
    } catch (error) {
      if (error instanceof DockerApiError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /** Creates a container (as `platform`, e.g. `linux/arm64`, when given) and returns its id. */
  async createContainer(spec: ContainerCreateSpec, name?: string, platform?: string): Promise<string> {
    const params = new URLSearchParams({ ...(name ? { name } : {}), ...(platform ? { platform } : {}) }).toString();
    const query = params ? `?${params}` : '';
    const body = (await this.request('POST', `/containers/create${query}`, spec)) as { Id: string };
    return body.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.request('POST', `/containers/${id}/start`);
  }

  async inspectContainer(id: string): Promise<ContainerInspect> {
    return (await this.request('GET', `/containers/${id}/json`)) as ContainerInspect;
  }

  /** Sends SIGTERM (or the image's STOPSIGNAL), then SIGKILL after `timeoutSeconds`. Stopping a stopped container is not an error. */
  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.request('POST', `/containers/${id}/stop?t=${Math.max(0, Math.round(timeoutSeconds))}`, undefined, [304]);
  }

  /** Sends one signal to the container's main process. */
  async killContainer(id: string, signal: string): Promise<void> {
    await this.request('POST', `/containers/${id}/kill?signal=${encodeURIComponent(signal)}`, undefined, [409]);
  }

  /**
   * Removes a container (running or not) with its anonymous volumes; a missing container is not an error, and
   * one the engine is already removing (409, e.g. a task's own deprovisioning racing `stop()`) is waited for.
   */
  async removeContainer(id: string, waitMs = 30_000): Promise<void> {
    try {
      await this.request('DELETE', `/containers/${id}?force=true&v=true`, undefined, [404]);
    } catch (error) {
      if (!(error instanceof DockerApiError && error.statusCode === 409)) throw error;
      const deadline = Date.now() + waitMs;
      for (;;) {
        try {
          await this.inspectContainer(id);
        } catch (inspectError) {
          if (inspectError instanceof DockerApiError && inspectError.statusCode === 404) return;
          throw inspectError;
        }
        if (Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Creates a named volume with labels (a task volume). */
  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.request('POST', '/volumes/create', { Name: name, Labels: labels });
  }

  /** Removes a volume; a missing one is not an error. */
  async removeVolume(name: string): Promise<void> {
    await this.request('DELETE', `/volumes/${encodeURIComponent(name)}?force=true`, undefined, [404]);
  }

  /** Lists volumes carrying every given label (`key` or `key=value`). */
  async listVolumes(labels: string[]): Promise<VolumeSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    const body = (await this.request('GET', `/volumes?filters=${filters}`)) as { Volumes: VolumeSummary[] | null };
    return body.Volumes ?? [];
  }

  /** Lists containers (running or not) carrying every given label (`key` or `key=value`). */
  async listContainers(labels: string[]): Promise<ContainerSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    return (await this.request('GET', `/containers/json?all=true&filters=${filters}`)) as ContainerSummary[];
  }

  /**
   * Long-polls until the container exits and returns its exit code. One idle connection per running
   * container instead of polling: the engine answers the moment the process ends.
   */
  async waitContainer(id: string): Promise<number> {
    const body = (await this.request('POST', `/containers/${id}/wait?condition=not-running`, undefined, [], 0)) as {
      StatusCode: number;
    };
    return body.StatusCode;
  }

  private request(
    method: string,
    path: string,
    body?: unknown,
    acceptedErrors: number[] = [],
    timeoutMs = 60_000,
  ): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const fullPath = `/${API_VERSION}${path}`;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          method,
          path: fullPath,
          headers: payload
            ? { 'Content-Type': 'application/json', 'Content-Length': payload.length }
            : { 'Content-Length': 0 },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve(text.length > 0 && res.headers['content-type']?.includes('json') ? JSON.parse(text) : text);
            } else if (acceptedErrors.includes(status)) {
              resolve(undefined);
            } else {
              let message = text.trim();
              try {
                message = (JSON.parse(text) as { message?: string }).message ?? message;
              } catch {
                // The engine answered plain text; keep it as it is.
              }
              reject(new DockerApiError(status, path, message));
            }
          });
        },
      );
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`Docker API ${method} ${path} timed out after ${timeoutMs} ms`)));
      }
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
          reject(
            new Error(
              `Cannot reach the Docker engine at ${this.socketPath} (${error.code}). Start it, e.g. with tools/docker/ensure-engine.`,
            ),
          );
        } else {
          reject(error);
        }
      });
      req.end(payload);
    });
  }
}
