import { spawn } from 'node:child_process';
import { chmod, chown, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The two files the manager renders, and the config CLI that renders them. */
export interface RenderTargets {
  readonly driverConfigPath: string;
  readonly runnerConfigPath: string;
  /** The config CLI's command and any leading arguments, e.g. `["/usr/local/bin/gitlab-fargate-config"]`. */
  readonly configCli: readonly string[];
}

/** What a render did: the files it replaced (none when both came out as they were), or why it wrote nothing. */
export type RenderOutcome = { readonly ok: true; readonly replaced: readonly string[] } | { readonly ok: false; readonly message: string };

/**
 * Renders the driver TOML and config.toml from `env` with `gitlab-fargate-config render`, both or neither: each into
 * a new file beside its target first; only when both rendered is each one that differs from its target renamed over
 * it (an atomic replace, with the target's mode and, when run as root, its owner). gitlab-runner notices the new
 * config.toml by its modification time; an unchanged file is left alone, so nothing reloads for nothing.
 */
export async function renderConfiguration(env: Readonly<Record<string, string>>, targets: RenderTargets): Promise<RenderOutcome> {
  const files = [
    { kind: 'driver', path: targets.driverConfigPath },
    { kind: 'runner', path: targets.runnerConfigPath },
  ].map((file) => ({ ...file, next: join(dirname(file.path), `.${basename(file.path)}.next`) }));
  try {
    for (const file of files) {
      const failure = await runRender(targets.configCli, file.kind, file.next, env);
      if (failure !== undefined) return { ok: false, message: failure };
    }
    const replaced: string[] = [];
    for (const file of files) {
      if (await replaceIfChanged(file.next, file.path)) replaced.push(file.path);
    }
    return { ok: true, replaced };
  } finally {
    await Promise.all(files.map((file) => rm(file.next, { force: true })));
  }
}

/** Runs one render; undefined when it wrote its file, else the config CLI's explanation. */
async function runRender(
  cli: readonly string[],
  kind: string,
  out: string,
  env: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  const [command, ...leading] = cli;
  if (command === undefined) throw new Error('no config CLI command given');
  return new Promise((resolve) => {
    const child = spawn(command, [...leading, 'render', kind, '--out', out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => resolve(`cannot run ${command}: ${error.message}`));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(undefined);
      const why = stderr.trim().replace(/\n+/g, '; ') || `exit ${code ?? signal}`;
      resolve(`render ${kind} failed: ${why}`);
    });
  });
}

/** Renames `next` over `target` when their contents differ, keeping the target's mode (and owner, as root). */
async function replaceIfChanged(next: string, target: string): Promise<boolean> {
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current === (await readFile(next, 'utf8'))) return false;
  const before = await stat(target).catch(() => undefined);
  if (before !== undefined) {
    await chmod(next, before.mode & 0o7777);
    if (process.getuid?.() === 0) await chown(next, before.uid, before.gid);
  }
  await rename(next, target);
  return true;
}
