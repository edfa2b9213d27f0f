import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateImages, writeGeneratedFiles } from '../src/generate.js';
import type { CiCoordinatorSpec } from '../src/spec/ci-coordinator.js';
import { buildImage, LOCAL_BASE_IMAGE, TEST_LABELS, type CommandResult } from './docker.js';

/** Builds the generated ci-coordinator Dockerfile for `spec` offline: local base image, no GitLab package repository. */
export async function buildCiCoordinator(spec: CiCoordinatorSpec, tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ci-coordinator-'));
  try {
    const files = generateImages({ ciCoordinator: spec })
      .filter((file) => file.path.startsWith('ci-coordinator/'))
      .map((file) => ({ ...file, path: file.path.slice('ci-coordinator/'.length) }));
    await writeGeneratedFiles(dir, files);
    return await buildImage(dir, tag, { BASE_IMAGE: LOCAL_BASE_IMAGE, INSTALL_GITLAB_RUNNER: 'false' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The docker CLI without blocking the event loop (several containers race at once); never rejects on a non-zero exit. */
export function dockerAsync(args: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error && (error.killed || typeof error.code !== 'number')) {
        reject(error.killed ? new Error(`docker ${args.join(' ')}: no answer within ${timeoutMs} ms`) : error);
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** Starts a detached, labelled container with SSH published on 127.0.0.1; returns its id and SSH port. */
export async function startDetached(
  image: string,
  env: Record<string, string>,
  labelSet: Record<string, string> = TEST_LABELS,
): Promise<{ id: string; port: number }> {
  const labels = Object.entries(labelSet).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
  const envArgs = Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  const run = await dockerAsync(['run', '-d', ...labels, '-p', '127.0.0.1::22', ...envArgs, image]);
  if (run.code !== 0) {
    throw new Error(`docker run failed: ${run.stderr}`);
  }
  const id = run.stdout.trim();
  const port = await dockerAsync(['port', id, '22/tcp']);
  return { id, port: Number(/:(\d+)\s*$/m.exec(port.stdout)?.[1]) };
}

/**
 * Resolves with the container's log so far once a line matches `pattern` (stdout and stderr both, as `docker logs
 * -f` streams them); rejects when the log ends or `timeoutMs` passes without one.
 */
export function waitForLog(id: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const follower = spawn('docker', ['logs', '-f', id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const finish = (outcome: () => void): void => {
      clearTimeout(timer);
      follower.kill();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no log line ${pattern} within ${timeoutMs} ms:\n${log}`))), timeoutMs);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (pattern.test(log)) {
        finish(() => resolve(log));
      }
    };
    follower.stdout.on('data', onData);
    follower.stderr.on('data', onData);
    follower.once('close', () => finish(() => reject(new Error(`the log ended without ${pattern}:\n${log}`))));
  });
}

/** Removes every container, running or not, that carries all of `labelSet`. */
export async function removeLabelled(labelSet: Record<string, string>): Promise<void> {
  const filters = Object.entries(labelSet).flatMap(([key, value]) => ['--filter', `label=${key}=${value}`]);
  const ids = (await dockerAsync(['ps', '-aq', ...filters])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) {
    await dockerAsync(['rm', '-f', ...ids]);
  }
}

/** Waits until the container has exited and returns its exit status; rejects after `timeoutMs`, with its log. */
export async function waitForExit(id: string, timeoutMs: number): Promise<number> {
  const waited = await dockerAsync(['wait', id], timeoutMs).catch(async (error: Error) => {
    const log = await dockerAsync(['logs', id]).catch(() => ({ stdout: '', stderr: '(no log)' }));
    throw new Error(`container ${id} still running after ${timeoutMs} ms (${error.message}):\n${log.stdout}${log.stderr}`);
  });
  if (waited.code !== 0 || !/^\d+$/.test(waited.stdout.trim())) {
    throw new Error(`docker wait ${id} failed: ${waited.stderr}`);
  }
  return Number(waited.stdout.trim());
}

/** When the container's main process ended, in epoch milliseconds (Docker records nanoseconds). */
export async function finishedAtMs(id: string): Promise<number> {
  const finished = (await dockerAsync(['inspect', '-f', '{{.State.FinishedAt}}', id])).stdout.trim();
  return Date.parse(finished.replace(/(\.\d{3})\d*Z$/, '$1Z'));
}

/** The container's processes as `docker top` shows them: one command line each. */
export async function processCommands(id: string): Promise<string[]> {
  const top = await dockerAsync(['top', id, '-o', 'pid,ppid,stat,args']);
  return top.stdout.trim().split('\n').slice(1);
}
