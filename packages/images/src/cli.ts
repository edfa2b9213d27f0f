#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { assembleRunnerManagerContext } from './context/runner-manager-context.js';
import { findStaleFiles, generateImages, writeGeneratedFiles } from './generate.js';
import type { ImagesSpec } from './spec/images-spec.js';
import { SpecValidationError } from './spec/issues.js';

type ParseArgsOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

const USAGE = `Usage: gitlab-fargate-images <command> [options]

Generates the ci-coordinator (job), runner-manager, job-agent and ci-tools (this repository's pipeline) images'
Dockerfiles and entrypoints from typed specs.

Commands:
  generate   write (or --check) ci-coordinator/{Dockerfile,docker-entrypoint.sh,aws-cli-public-key.asc},
             runner-manager/{Dockerfile,entrypoint}, job-agent/{Dockerfile,localoptions.h,gf-entry,gf-session}
             and ci-tools/ (the ci-coordinator's three files)
  context    fill a runner-manager build context: Dockerfile, entrypoint and dist/ (config CLI, driver)

Options:
  -h, --help     show help (also after a command)
  --version      print the version

Run "gitlab-fargate-images <command> --help" for a command's options.`;

const GENERATE_USAGE = `Usage: gitlab-fargate-images generate [--out DIR] [--spec FILE] [--check]

  --out DIR     folder to write into                                    default: images
  --spec FILE   JSON with "ciCoordinator", "runnerManager", "jobAgent" and/or "ciTools" specs
                                                                        default: every default
  --check       write nothing; exit 1 listing the files that differ from what would be generated`;

const CONTEXT_USAGE = `Usage: gitlab-fargate-images context --out DIR (--config-package DIR | --config-bundle FILE)
                                     [--driver-bundle FILE [--run-client-source FILE | --no-run-client]]
                                     [--spec FILE]

  --out DIR             build context folder; its dist/ is replaced      (required)
  --config-package DIR  compiled @gitlab-fargate/config, copied with its dependencies
  --config-bundle FILE  or a single-file bundle of the config CLI
  --driver-bundle FILE  the driver's bundle; of a split bundle (scripts/bundle.mjs --split), the entry: its
                        chunks/ folder goes along                        default: none (then build with
                        --build-arg DRIVER_BUNDLE= ; the image renders configuration but runs no jobs)
  --run-client-source FILE  the driver's native run client source: the image compiles it and makes it
                        run_exec                                         default: the driver package's
                        native/run-client.c when the driver bundle lies in that package (packages/driver/...)
  --no-run-client       leave the run client out: run_exec is the driver, the build installs no compiler
  --spec FILE           JSON specs as for generate                       default: every default`;

/** A mistake in how the command was called: usage text follows the message. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(manifest.version);
    return 0;
  }
  if (command === 'generate') {
    return generate(rest);
  }
  if (command === 'context') {
    return context(rest);
  }
  throw new UsageError(`unknown command "${command}"; the commands are generate and context`);
}

async function generate(args: string[]): Promise<number> {
  const { values } = parse(args, {
    out: { type: 'string', default: 'images' },
    spec: { type: 'string' },
    check: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(GENERATE_USAGE);
    return 0;
  }
  const files = generateImages(await readSpec(values.spec as string | undefined));
  const out = values.out as string;
  if (values.check) {
    const stale = await findStaleFiles(out, files);
    for (const file of stale) {
      console.error(`stale: ${out}/${file.path} (${file.reason})`);
    }
    if (stale.length > 0) {
      console.error(`run "gitlab-fargate-images generate --out ${out}" and commit the result`);
      return 1;
    }
    console.log(`${out}: ${files.length} generated files are up to date`);
    return 0;
  }
  await writeGeneratedFiles(out, files);
  for (const file of files) {
    console.log(`wrote ${out}/${file.path}`);
  }
  return 0;
}

async function context(args: string[]): Promise<number> {
  const { values } = parse(args, {
    out: { type: 'string' },
    'config-package': { type: 'string' },
    'config-bundle': { type: 'string' },
    'driver-bundle': { type: 'string' },
    'run-client-source': { type: 'string' },
    'no-run-client': { type: 'boolean', default: false },
    spec: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(CONTEXT_USAGE);
    return 0;
  }
  if (values.out === undefined) {
    throw new UsageError('context needs --out DIR, the build context folder to fill');
  }
  if (values['no-run-client'] === true && values['run-client-source'] !== undefined) {
    throw new UsageError('give --run-client-source FILE or --no-run-client, not both');
  }
  const result = await assembleRunnerManagerContext({
    outDir: values.out as string,
    configPackageDir: values['config-package'] as string | undefined,
    configBundle: values['config-bundle'] as string | undefined,
    driverBundle: values['driver-bundle'] as string | undefined,
    runClientSource: values['no-run-client'] === true ? false : (values['run-client-source'] as string | undefined),
    // Checked field by field inside, like generate's.
    spec: (await readSpec(values.spec as string | undefined)) as ImagesSpec,
  });
  console.log(`filled ${result.outDir} (config CLI dependencies: ${result.vendoredDependencies.join(', ') || 'none'})`);
  if (values['driver-bundle'] !== undefined) {
    console.log(`native run client: ${result.runClientSource ?? 'none (run_exec is the driver)'}`);
  }
  for (const [name, value] of Object.entries(result.buildArgs)) {
    console.log(`build with --build-arg ${name}=${value}${name === 'DRIVER_BUNDLE' ? '  (no driver given)' : ''}`);
  }
  return 0;
}

function parse(args: string[], options: ParseArgsOptions): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function readSpec(file: string | undefined): Promise<unknown> {
  if (file === undefined) {
    return {};
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --spec ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--spec ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`gitlab-fargate-images: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof SpecValidationError) {
      console.error(`gitlab-fargate-images: ${error.message}`);
      process.exitCode = 1;
    } else {
      console.error(`gitlab-fargate-images: ${(error as Error).message ?? String(error)}`);
      process.exitCode = 1;
    }
  },
);
