import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy has seen since the last {@link CountingProxy.reset}. */
export interface ApiCounts {
  /** First attempts per operation (`amz-sdk-request: attempt=1`, or no such header): the calls a driver makes. */
  readonly calls: Record<string, number>;
  /** Repeated attempts per operation (`attempt=2` and up): the SDK's retries. */
  readonly retries: Record<string, number>;
  /** Answers that were `ThrottlingException`, per operation. */
  readonly throttled: Record<string, number>;
  readonly totalCalls: number;
  readonly totalRetries: number;
  readonly totalThrottled: number;
}

/** A counting HTTP proxy in front of the emulator. */
export interface CountingProxy {
  /** Use as `AWS_ENDPOINT_URL_ECS` / `AWS_ENDPOINT_URL_EC2`. */
  readonly endpoint: string;
  counts(): ApiCounts;
  reset(): void;
  close(): Promise<void>;
}

function operationOf(req: http.IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  // EC2's query protocol names the action in the body; one name is enough for counting.
  return req.headers['content-type']?.includes('x-www-form-urlencoded') ? 'EC2' : `${req.method} ${req.url}`;
}

function attemptOf(req: http.IncomingMessage): number {
  const header = req.headers['amz-sdk-request'];
  const match = typeof header === 'string' ? /attempt=(\d+)/.exec(header) : null;
  return match ? Number(match[1]) : 1;
}

const bump = (table: Record<string, number>, key: string) => {
  table[key] = (table[key] ?? 0) + 1;
};

/**
 * Counts ECS API requests between the driver and the emulator, telling the SDK's own retries (its
 * `amz-sdk-request: attempt=N` header) from the calls the driver made, and counting throttled answers. The
 * emulator does not count requests itself, and a proxy sees exactly what would go over the wire to AWS.
 */
export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let calls: Record<string, number> = {};
  let retries: Record<string, number> = {};
  let throttled: Record<string, number> = {};

  const server = http.createServer((req, res) => {
    const operation = operationOf(req);
    bump(attemptOf(req) > 1 ? retries : calls, operation);
    const forward = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent,
    }, (answer) => {
      const errorType = answer.headers['x-amzn-errortype'];
      if (typeof errorType === 'string' && errorType.startsWith('ThrottlingException')) bump(throttled, operation);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`counting proxy: ${error.message}`);
    });
    req.pipe(forward);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const total = (table: Record<string, number>) => Object.values(table).reduce((a, b) => a + b, 0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({
      calls: { ...calls }, retries: { ...retries }, throttled: { ...throttled },
      totalCalls: total(calls), totalRetries: total(retries), totalThrottled: total(throttled),
    }),
    reset: () => {
      calls = {};
      retries = {};
      throttled = {};
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
