import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { delimiter, join } from 'node:path';
import { signatureV4Headers } from '../src/manager/aws/sigv4.js';

/** The pyenv shim of moto_server on the project's machine images. */
const MOTO_SHIM = '/root/.pyenv/shims/moto_server';

/** Where moto_server is: PATH first, then the pyenv shim; undefined when it is not installed. */
export function findMotoServer(): string | undefined {
  const candidates = [...(process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, 'moto_server')), MOTO_SHIM];
  return candidates.find((path) => existsSync(path));
}

/** Why tests that need moto cannot run, or undefined when they can (`pip install 'moto[server]'` installs it). */
export const MOTO_MISSING = findMotoServer() === undefined ? "moto_server is not installed (pip install 'moto[server]')" : undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A moto server on 127.0.0.1, playing AWS (SSM, IAM) for the tests. */
export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts `moto_server` on a free port of 127.0.0.1 and waits until it answers. `env` reaches moto, e.g.
 * `INITIAL_NO_AUTH_ACTION_COUNT` to make it check signatures and IAM policies.
 */
export async function startMoto(env: Record<string, string> = {}): Promise<Moto> {
  const binary = findMotoServer();
  if (binary === undefined) throw new Error(MOTO_MISSING);
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', env: { ...process.env, ...env } });
  const endpoint = `http://127.0.0.1:${port}`;
  // Python's imports alone take seconds on a loaded machine: a generous bound, the answer itself is the event.
  const deadline = Date.now() + 180_000;
  for (;;) {
    const answered = await fetch(`${endpoint}/moto-api/`).then((res) => res.status < 500, () => false);
    if (answered) break;
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`moto_server (${binary}) did not answer on ${endpoint} within 180 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    endpoint,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Test credentials moto accepts while it does not check them. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIATESTTESTTEST', secretAccessKey: 'test-secret' } as const;
/** The Region the tests' parameters live in. */
export const TEST_REGION = 'eu-west-1';

/** The signing name moto routes a JSON-protocol target by. */
function serviceOf(target: string): string {
  if (target.startsWith('AmazonSSM.')) return 'ssm';
  if (target.startsWith('AmazonEC2ContainerServiceV20141113.')) return 'ecs';
  return 'iam';
}

/** Calls an AWS JSON-protocol action (e.g. `AmazonSSM.PutParameter`) on moto; throws on an error answer. */
export async function callJsonAction(endpoint: string, target: string, input: unknown, credentials = TEST_CREDENTIALS): Promise<unknown> {
  const url = new URL(`${endpoint}/`);
  const body = JSON.stringify(input);
  const headers = signatureV4Headers(
    { method: 'POST', url, body, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target } },
    { region: TEST_REGION, service: serviceOf(target), credentials, now: new Date() },
  );
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  if (!response.ok) throw new Error(`${target} answered HTTP ${response.status}: ${text}`);
  return text === '' ? {} : JSON.parse(text);
}

/** Puts (or overwrites) a String parameter; returns its new version. */
export async function putParameter(endpoint: string, name: string, value: string, type = 'String'): Promise<number> {
  const answer = (await callJsonAction(endpoint, 'AmazonSSM.PutParameter', { Name: name, Value: value, Type: type, Overwrite: true })) as { Version: number };
  return answer.Version;
}

/** Deletes a parameter. */
export async function deleteParameter(endpoint: string, name: string): Promise<void> {
  await callJsonAction(endpoint, 'AmazonSSM.DeleteParameter', { Name: name });
}
