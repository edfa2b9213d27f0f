import type { GeneratedFile } from '../../generate.js';
import type { ResolvedCiCoordinatorSpec } from '../../spec/ci-coordinator.js';
import { AWS_CLI_KEY_FILE, AWS_CLI_PUBLIC_KEY } from '../aws-cli/aws-cli-key.js';
import { ciCoordinatorDockerfile } from '../ci-coordinator/dockerfile.js';
import { ciCoordinatorEntrypoint } from '../ci-coordinator/entrypoint.js';

/** The first line of the ci-tools Dockerfile: what the image is for. */
const CI_TOOLS_DESCRIPTION =
  "ci-tools: the job container of this repository's own pipeline (.gitlab-ci.yml): ci-coordinator on Node.js.";

/**
 * The ci-tools image's build context, below `ci-tools/`: the ci-coordinator's files (the same job-container
 * contract, so the driver runs jobs in it unchanged) rendered from the ci-tools spec.
 */
export function ciToolsFiles(spec: ResolvedCiCoordinatorSpec): GeneratedFile[] {
  return [
    { path: 'ci-tools/Dockerfile', content: ciCoordinatorDockerfile(spec, CI_TOOLS_DESCRIPTION), executable: false },
    { path: 'ci-tools/docker-entrypoint.sh', content: ciCoordinatorEntrypoint(spec), executable: true },
    { path: `ci-tools/${AWS_CLI_KEY_FILE}`, content: AWS_CLI_PUBLIC_KEY, executable: false },
  ];
}
