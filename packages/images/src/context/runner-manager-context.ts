import { cp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGeneratedFiles, generateImages } from '../generate.js';
import { resolveImagesSpec, type ImagesSpec } from '../spec/images-spec.js';
import { RUN_CLIENT_SOURCE, runnerManagerLayout } from '../render/runner-manager/layout.js';
import { resolveRunClientSource } from './run-client-source.js';
import { vendorPackage } from './vendor-package.js';

/** What goes into a runner-manager build context. */
export interface RunnerManagerContextOptions {
  /** The build context folder to fill (e.g. `images/runner-manager`); its `dist/` is replaced. */
  readonly outDir: string;
  /**
   * The config package's folder (compiled), copied with its dependencies to `dist/<first folder of configCli>/`.
   * Give this or `configBundle`.
   */
  readonly configPackageDir?: string;
  /** A single-file bundle of the config CLI, copied to `dist/<configCli>`. Give this or `configPackageDir`. */
  readonly configBundle?: string;
  /**
   * The driver's bundle, copied to `dist/<driverBundle>`: the single file of `scripts/bundle.mjs`, or the entry of
   * its split output (`--split`), whose `chunks/` folder beside the entry goes along (the split bundle loads the
   * AWS SDK and ssh2 only in the stages that use them, so each stage starts faster). Without it the image must be
   * built with `--build-arg DRIVER_BUNDLE=` and can only render configuration.
   * @default no driver
   */
  readonly driverBundle?: string;
  /**
   * The driver's native run client source, copied to `dist/native/`: the image compiles it and renders `run_exec` to
   * it. A file overrides; `false` leaves it out (`run_exec` is then the driver, and the image build installs no
   * compiler). Only with `driverBundle` (the client falls back to the driver).
   * @default with `driverBundle`, the driver package's `native/run-client.c` when the bundle lies in that package
   * (e.g. `packages/driver/dist/bundle/`); otherwise none
   */
  readonly runClientSource?: string | false;
  /**
   * The specs; only the runner manager's is used.
   * @default {} (all defaults)
   */
  readonly spec?: ImagesSpec;
}

/** What {@link assembleRunnerManagerContext} put in place. */
export interface RunnerManagerContext {
  readonly outDir: string;
  /** Build arguments the context needs beyond the Dockerfile's defaults (`DRIVER_BUNDLE=""` without a driver). */
  readonly buildArgs: Record<string, string>;
  /** Dependencies copied beside the config package. */
  readonly vendoredDependencies: readonly string[];
  /** The native run client source copied to `dist/native/`, or undefined: `run_exec` is the driver. */
  readonly runClientSource: string | undefined;
}

/**
 * Fills a runner-manager build context: the generated Dockerfile and entrypoint plus `dist/` with the config CLI,
 * the runner-manager helper (`gitlab-fargate-manager`) and, when given, the driver bundle.
 */
export async function assembleRunnerManagerContext(options: RunnerManagerContextOptions): Promise<RunnerManagerContext> {
  const spec = resolveImagesSpec(options.spec ?? {}).runnerManager;
  if ((options.configPackageDir === undefined) === (options.configBundle === undefined)) {
    throw new Error('give exactly one of the config package folder (--config-package) or a config CLI bundle (--config-bundle)');
  }
  if (options.driverBundle !== undefined) await checkDriverBundle(options.driverBundle, spec.driverBundle);
  const runClientSource = await resolveRunClientSource(options.runClientSource, options.driverBundle);
  if (options.configBundle !== undefined) {
    await requireFile(options.configBundle, 'config CLI bundle (--config-bundle)');
  }
  const [packageFolder, ...entryInPackage] = spec.configCli.split('/');
  if (options.configPackageDir !== undefined) {
    if (entryInPackage.length === 0 || packageFolder === undefined) {
      throw new Error(
        `runnerManager.configCli "${spec.configCli}" names a single file, but a package folder was given: use a path like "gitlab-fargate-config/dist/cli.js", or pass --config-bundle`,
      );
    }
    await requireFile(
      join(options.configPackageDir, ...entryInPackage),
      `config CLI entry (runnerManager.configCli "${spec.configCli}" inside --config-package; compiled?)`,
    );
  }

  const dist = join(options.outDir, 'dist');
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  await placeRunClientSource(dist, runClientSource);
  const files = generateImages(options.spec ?? {})
    .filter((file) => file.path.startsWith('runner-manager/'))
    .map((file) => ({ ...file, path: file.path.slice('runner-manager/'.length) }));
  await writeGeneratedFiles(options.outDir, files);

  let vendored: string[] = [];
  if (options.configPackageDir !== undefined && packageFolder !== undefined) {
    vendored = await vendorPackage(options.configPackageDir, join(dist, packageFolder));
  } else if (options.configBundle !== undefined) {
    await mkdir(dirname(join(dist, spec.configCli)), { recursive: true });
    await cp(options.configBundle, join(dist, spec.configCli));
  }
  await copyManagerHelper(join(dist, runnerManagerLayout(spec).managerFolder));
  if (options.driverBundle !== undefined) {
    const target = join(dist, spec.driverBundle);
    await mkdir(dirname(target), { recursive: true });
    await cp(options.driverBundle, target);
    const chunks = join(dirname(options.driverBundle), SPLIT_BUNDLE_CHUNKS);
    if (await isDirectory(chunks)) await cp(chunks, join(dirname(target), SPLIT_BUNDLE_CHUNKS), { recursive: true });
  }
  return {
    outDir: options.outDir,
    buildArgs: options.driverBundle === undefined ? { DRIVER_BUNDLE: '' } : {},
    vendoredDependencies: vendored,
    runClientSource,
  };
}

/**
 * This package's compiled runner-manager helper (`src/manager/`, which imports nothing but Node.js and itself), from
 * `src/context` (tests) and `dist/context` alike.
 */
const COMPILED_MANAGER_HELPER = fileURLToPath(new URL('../../dist/manager/', import.meta.url));

/** Copies the helper's JavaScript (no tests, maps or declarations) with a package.json that makes it ES modules. */
async function copyManagerHelper(target: string): Promise<void> {
  await requireFile(join(COMPILED_MANAGER_HELPER, 'cli.js'), 'the compiled runner-manager helper (compile @gitlab-fargate/images: npx nx run @gitlab-fargate/images:build)');
  await cp(COMPILED_MANAGER_HELPER, target, { recursive: true, filter: (source) => !/\.test\.|\.map$|\.d\.ts$/.test(source) });
  await writeFile(join(target, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
}

/** The driver bundle must be a file whose extension is the spec's (it decides how node loads it). */
async function checkDriverBundle(driverBundle: string, specName: string): Promise<void> {
  await requireFile(driverBundle, 'driver bundle (--driver-bundle)');
  if (extname(driverBundle) !== extname(specName)) {
    throw new Error(
      `the driver bundle ${driverBundle} and the spec's driverBundle "${specName}" differ in extension, which decides how node loads it: set runnerManager.driverBundle to a name ending in ${extname(driverBundle)}`,
    );
  }
}

/** `dist/native/`, always there (the Dockerfile's first stage copies it), with the run client's source when given. */
async function placeRunClientSource(dist: string, source: string | undefined): Promise<void> {
  await mkdir(join(dist, dirname(RUN_CLIENT_SOURCE)), { recursive: true });
  if (source !== undefined) await cp(source, join(dist, RUN_CLIENT_SOURCE));
}

/** The folder beside a split bundle's entry that holds its lazily loaded parts (scripts/bundle.mjs --split). */
const SPLIT_BUNDLE_CHUNKS = 'chunks';

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function requireFile(path: string, what: string): Promise<void> {
  try {
    if ((await stat(path)).isFile()) {
      return;
    }
  } catch {
    // reported below
  }
  throw new Error(`${what}: ${path} is not a file`);
}
