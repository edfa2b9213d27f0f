import { FieldReader } from './fields.js';
import { IMAGE_REFERENCE_TYPE_FIX, imageReferenceProblem } from './image-reference.js';
import { IssueCollector } from './issues.js';

/**
 * The job agent: the non-essential init container of a job task whose `/opt/gf` (a `VOLUME`) ECS copies into a
 * task volume that the job's build container mounts read-only. It holds a static dropbear and a static busybox,
 * both built from Debian's packages in a builder stage on `baseImage`; the image itself is `FROM scratch`.
 *
 * Versions are the *defaults* of build arguments, so one Dockerfile serves pinned and newest builds.
 */
export interface JobAgentSpec {
  /**
   * Default of the `BASE_IMAGE` build argument: the Debian image of the builder stage (apt with deb-src reachable,
   * musl-tools). Its apt sources decide the dropbear and busybox versions. Pin it by digest,
   * `NAME:TAG@sha256:<64 hex digits>`, for a repeatable build; the reference is used verbatim in `FROM`. The stage
   * runs on the build machine's platform and cross-compiles for BuildKit's `TARGETARCH`, so one base serves both
   * linux/amd64 and linux/arm64.
   * @default "debian:bookworm-slim"
   */
  readonly baseImage?: string;
  /**
   * Default of `DROPBEAR_VERSION`: the Debian version of the `dropbear` source package, e.g. `2022.83-1+deb12u3`,
   * or "" for the newest in the base's apt sources.
   * @default ""
   */
  readonly dropbearVersion?: string;
  /**
   * Default of `BUSYBOX_VERSION`: the Debian version of the `busybox-static` binary package, e.g.
   * `1:1.35.0-4+deb12u1+b1`, or "" for the newest in the base's apt sources.
   * @default ""
   */
  readonly busyboxVersion?: string;
}

/** A {@link JobAgentSpec} with every default applied. */
export type ResolvedJobAgentSpec = { readonly [K in keyof JobAgentSpec]-?: NonNullable<JobAgentSpec[K]> };

/** The defaults documented on {@link JobAgentSpec}. */
export const JOB_AGENT_DEFAULTS: ResolvedJobAgentSpec = {
  baseImage: 'debian:bookworm-slim',
  dropbearVersion: '',
  busyboxVersion: '',
};

/** A Debian package version (`[epoch:]upstream[-revision]`), as `apt-get source NAME=VERSION` takes it. */
const DEBIAN_VERSION = {
  pattern: /^(\d+:)?[0-9][A-Za-z0-9.+~-]*$/,
  fix: 'give a Debian package version such as "2022.83-1+deb12u3" (see `apt-cache policy`), or "" for the newest',
  allowEmpty: true,
};

const KNOWN_KEYS = Object.keys(JOB_AGENT_DEFAULTS);

/** Reads and checks a job-agent spec at `path`, recording problems in `issues`. */
export function readJobAgentSpec(input: unknown, path: string, issues: IssueCollector): ResolvedJobAgentSpec {
  const fields = FieldReader.of(input, path, issues);
  fields.rejectUnknownKeys(KNOWN_KEYS);
  const d = JOB_AGENT_DEFAULTS;
  return {
    baseImage: fields.checkedString('baseImage', d.baseImage, imageReferenceProblem, IMAGE_REFERENCE_TYPE_FIX),
    dropbearVersion: fields.string('dropbearVersion', d.dropbearVersion, DEBIAN_VERSION),
    busyboxVersion: fields.string('busyboxVersion', d.busyboxVersion, DEBIAN_VERSION),
  };
}

/**
 * Applies defaults to a job-agent spec and checks it.
 * @throws SpecValidationError listing every problem when the spec is invalid.
 */
export function resolveJobAgentSpec(spec: JobAgentSpec = {}): ResolvedJobAgentSpec {
  const issues = new IssueCollector();
  const resolved = readJobAgentSpec(spec, 'jobAgent', issues);
  issues.throwIfAny();
  return resolved;
}
