import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The job-image and service TEST FIXTURES of packages/images (`test/fixtures/`: built here from the local Debian base,
 * no registry), loaded from their one home at run time: they are test sources, not part of the package's exports.
 */
const FIXTURES = fileURLToPath(new URL('../../../../packages/images/test/fixtures/', import.meta.url));

/** The fixtures' tags, as packages/images names them. */
export interface JobImageFixtures {
  /** FROM scratch, a static busybox at /bin/busybox and /bin/sh; no libc, no /etc, no bash. */
  readonly scratchBusybox: string;
  /** Debian without sshd or git, with psql and `job-tool` on a PATH of its own. */
  readonly debian: string;
  /** The Debian one with `USER 1000`. */
  readonly user1000: string;
  /** The Debian one with an ENTRYPOINT that creates {@link JobImageFixtures.ownEntrypointMarker} and fails. */
  readonly ownEntrypoint: string;
  readonly ownEntrypointMarker: string;
  /** Postgres from Debian's postgresql package (POSTGRES_PASSWORD, port 5432). */
  readonly postgres: string;
}

interface JobImagesModule {
  readonly JOB_IMAGE_FIXTURES: Pick<JobImageFixtures, 'scratchBusybox' | 'debian' | 'user1000' | 'ownEntrypoint'>;
  readonly OWN_ENTRYPOINT_MARKER: string;
  buildScratchBusyboxImage(): Promise<string>;
  buildDebianJobImage(): Promise<string>;
  buildUser1000JobImage(): Promise<string>;
  buildOwnEntrypointJobImage(): Promise<string>;
}

interface PostgresModule {
  buildPostgresFixture(): Promise<string>;
}

async function load<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(join(FIXTURES, file)).href)) as T;
}

/** Builds (a cached rebuild takes about a second) and names every fixture the job-image tests use. */
export async function buildJobImageFixtures(): Promise<JobImageFixtures> {
  const images = await load<JobImagesModule>('job-images.ts');
  const postgres = await load<PostgresModule>('postgres.ts');
  await images.buildScratchBusyboxImage();
  await images.buildDebianJobImage();
  await images.buildUser1000JobImage();
  await images.buildOwnEntrypointJobImage();
  const postgresImage = await postgres.buildPostgresFixture();
  return { ...images.JOB_IMAGE_FIXTURES, ownEntrypointMarker: images.OWN_ENTRYPOINT_MARKER, postgres: postgresImage };
}
