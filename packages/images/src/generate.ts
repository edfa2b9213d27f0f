import { mkdir, readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AWS_CLI_KEY_FILE, AWS_CLI_PUBLIC_KEY } from './render/aws-cli/aws-cli-key.js';
import { ciCoordinatorDockerfile } from './render/ci-coordinator/dockerfile.js';
import { ciCoordinatorEntrypoint } from './render/ci-coordinator/entrypoint.js';
import { ciToolsFiles } from './render/ci-tools/files.js';
import { jobAgentFiles } from './render/job-agent/files.js';
import { runnerManagerDockerfile } from './render/runner-manager/dockerfile.js';
import { runnerManagerEntrypoint } from './render/runner-manager/entrypoint.js';
import { resolveImagesSpec, type ImagesSpec } from './spec/images-spec.js';

/** One generated file, relative to the output folder (e.g. `images`). */
export interface GeneratedFile {
  /** Path below the output folder, with `/` separators, e.g. `ci-coordinator/Dockerfile`. */
  readonly path: string;
  readonly content: string;
  /** Whether the file must be executable (entrypoints). */
  readonly executable: boolean;
}

/**
 * Everything `generate` writes: `ci-coordinator/{Dockerfile,docker-entrypoint.sh,aws-cli-public-key.asc}` and
 * `runner-manager/{Dockerfile,entrypoint}`, `job-agent/{Dockerfile,localoptions.h,gf-entry,gf-session}`, and
 * `ci-tools/` (the ci-coordinator's three files for the pipeline's job image).
 * @throws SpecValidationError when the spec is invalid.
 */
export function generateImages(spec: ImagesSpec | unknown = {}): GeneratedFile[] {
  const resolved = resolveImagesSpec(spec);
  return [
    { path: 'ci-coordinator/Dockerfile', content: ciCoordinatorDockerfile(resolved.ciCoordinator), executable: false },
    {
      path: 'ci-coordinator/docker-entrypoint.sh',
      content: ciCoordinatorEntrypoint(resolved.ciCoordinator),
      executable: true,
    },
    { path: `ci-coordinator/${AWS_CLI_KEY_FILE}`, content: AWS_CLI_PUBLIC_KEY, executable: false },
    { path: 'runner-manager/Dockerfile', content: runnerManagerDockerfile(resolved.runnerManager), executable: false },
    { path: 'runner-manager/entrypoint', content: runnerManagerEntrypoint(resolved.runnerManager), executable: true },
    ...jobAgentFiles(resolved.jobAgent),
    ...ciToolsFiles(resolved.ciTools),
  ];
}

/** Writes generated files below `outDir`, entrypoints with mode 0755. */
export async function writeGeneratedFiles(outDir: string, files: readonly GeneratedFile[]): Promise<void> {
  for (const file of files) {
    const target = join(outDir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
    await chmod(target, file.executable ? 0o755 : 0o644);
  }
}

/** A generated file whose copy on disk differs from what the generator produces now. */
export interface StaleFile {
  readonly path: string;
  readonly reason: 'missing' | 'content differs' | 'not executable';
}

/** Compares generated files with their copies below `outDir`; an empty result means they are up to date. */
export async function findStaleFiles(outDir: string, files: readonly GeneratedFile[]): Promise<StaleFile[]> {
  const stale: StaleFile[] = [];
  for (const file of files) {
    const target = join(outDir, file.path);
    let onDisk: string;
    try {
      onDisk = await readFile(target, 'utf8');
    } catch {
      stale.push({ path: file.path, reason: 'missing' });
      continue;
    }
    if (onDisk !== file.content) {
      stale.push({ path: file.path, reason: 'content differs' });
    } else if (file.executable && ((await stat(target)).mode & 0o111) === 0) {
      stale.push({ path: file.path, reason: 'not executable' });
    }
  }
  return stale;
}
