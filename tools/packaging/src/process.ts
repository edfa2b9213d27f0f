import { execFile } from 'node:child_process';

/** How a command ended and what it printed. */
export interface ProcessResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment for npm and the installed CLIs: the caller's, minus the `npm_*` variables that `npm run` (Nx runs
 * the tests through it) sets for its children, which would make a nested npm act on the workspace. The npm cache
 * location and registry are kept: a warm cache is what makes installs fast.
 */
export function cleanEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const kept = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') || kept.has(key.toLowerCase())) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command without a shell; never throws for a non-zero exit. */
export function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? cleanEnvironment(), maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${command} ${args.join(' ')} did not run: ${error.message}`));
          return;
        }
        resolve({ exitCode: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    // A command that exits without reading its input (`--help`) closes the pipe first: that EPIPE is not a failure.
    child.stdin?.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.stdin?.end(options.input ?? '');
  });
}
