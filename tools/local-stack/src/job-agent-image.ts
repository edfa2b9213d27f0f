import { fileURLToPath } from 'node:url';
import { runDockerBuild } from './ci-coordinator-image.js';

/** The job-agent image's build context: the repository's generated `images/job-agent` (packages/images). */
export const jobAgentContext = fileURLToPath(new URL('../../../images/job-agent', import.meta.url));

/** The tag the local stack gives the job-agent image. */
export const LOCAL_JOB_AGENT_IMAGE = 'gitlab-fargate/job-agent:local';

/**
 * Builds the job-agent image (`[JobImages] AgentImage`: the static SSH server and entry script a job image's task
 * copies in) offline from the Debian mirror; Docker's layer cache makes an unchanged rebuild take about a second.
 * @returns the image tag
 */
export async function buildJobAgentImage(
  options: { readonly tag?: string; readonly baseImage?: string; readonly onOutput?: (line: string) => void } = {},
): Promise<string> {
  const tag = options.tag ?? LOCAL_JOB_AGENT_IMAGE;
  const args = [
    'build', '--quiet=false', '--tag', tag,
    '--build-arg', `BASE_IMAGE=${options.baseImage ?? 'local/debian:bookworm'}`,
    '--label', 'org.gitlab-fargate.image=job-agent',
    jobAgentContext,
  ];
  await runDockerBuild(args, jobAgentContext, options.onOutput);
  return tag;
}
