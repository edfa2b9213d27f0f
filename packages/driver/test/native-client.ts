import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Where `native/build.sh` puts the native run client by default. */
export const NATIVE_CLIENT = fileURLToPath(new URL('../dist/native/gitlab-fargate-run', import.meta.url));

/** Compiles the native run client (`native/build.sh`, the host's cc) and returns its path. */
export function buildNativeClient(): string {
  execFileSync(fileURLToPath(new URL('../native/build.sh', import.meta.url)), [NATIVE_CLIENT], { stdio: 'ignore' });
  return NATIVE_CLIENT;
}

/** What a native client process did; `output` is stdout and stderr as they arrived on one pipe, in order. */
export interface NativeRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly output?: string;
}

/**
 * Runs the native client with exactly `env` (plus PATH) in `cwd`. `onStdout` sees stdout as it arrives, with the
 * child. With `oneStream`, stdout and stderr share one pipe (`output`), so their relative order can be checked.
 */
export function runNative(
  client: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd: string; oneStream?: boolean; onStdout?: (text: string, child: ChildProcess) => void },
): Promise<NativeRun> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env };
    const child = options.oneStream
      ? spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', client, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'ignore'] })
      : spawn(client, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ...(options.oneStream ? { output: stdout } : {}) }));
  });
}
