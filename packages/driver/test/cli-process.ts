import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
/** The compiled CLI, as gitlab-runner runs it. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Compiles the package (incremental: fast when nothing changed), so process tests run the current sources. */
export function ensureBuilt(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '--build'], { cwd: PACKAGE_DIR, stdio: 'inherit' });
}

/** What a CLI process did. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Builds the runner-manager bundle (`scripts/bundle.mjs`) and returns its entry file. */
export function buildBundle(mode: 'single' | 'split'): string {
  execFileSync(process.execPath, ['scripts/bundle.mjs', ...(mode === 'split' ? ['--split'] : [])], { cwd: PACKAGE_DIR, stdio: 'ignore' });
  return fileURLToPath(new URL(mode === 'split' ? '../dist/bundle/gitlab-fargate-driver.mjs' : '../dist/gitlab-fargate-driver.mjs', import.meta.url));
}

/**
 * Runs the CLI (or `options.entry`) with exactly `env` (plus PATH), in `cwd`. `onStdout` sees stdout as it arrives and gets the child,
 * e.g. to send it SIGTERM at the right moment; `onSpawn` gets the child at once.
 */
export function runCli(
  args: readonly string[],
  options: {
    env: Record<string, string>;
    cwd: string;
    entry?: string;
    onStdout?: (text: string, child: ChildProcess) => void;
    onSpawn?: (child: ChildProcess) => void;
  },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.entry ?? CLI, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** An `onStdout` for {@link runCli} that sends `signal` to the CLI once its output contains `text` (after `delayMs`). */
export function signalOnOutput(text: string, signal: NodeJS.Signals, delayMs = 0): (output: string, child: ChildProcess) => void {
  let sent = false;
  return (output, child) => {
    if (sent || !output.includes(text)) return;
    sent = true;
    setTimeout(() => child.kill(signal), delayMs);
  };
}

/**
 * `custom run SCRIPT build_script` with `config`, cancelled as gitlab-runner cancels a job: SIGTERM once the script
 * printed `started`.
 */
export function runCancelledStage(config: string, script: string, options: { env: Record<string, string>; cwd: string }): Promise<CliRun> {
  return runCli(['--config', config, 'custom', 'run', script, 'build_script'], { ...options, onStdout: signalOnOutput('started', 'SIGTERM') });
}
