import { JOB_AGENT_DIR } from '@gitlab-fargate/config';

/**
 * The shells a build container's stage script may run with, in gitlab-runner's order (`BashDetectShellScript` in
 * https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/shells/bash.go, which the Docker and Kubernetes executors
 * run in the job's image): bash where the image has it, else sh, else busybox's. The job agent's own busybox `sh`
 * comes last, so an image whose only shell is somewhere else still runs the script, as the agent's sessions do.
 */
export const DETECTED_SHELLS: readonly string[] = [
  '/usr/local/bin/bash',
  '/usr/bin/bash',
  '/bin/bash',
  '/usr/local/bin/sh',
  '/usr/bin/sh',
  '/bin/sh',
  '/busybox/sh',
  `${JOB_AGENT_DIR}/sh`,
];

/**
 * The remote command of a user stage in the build container: the first executable shell of {@link DETECTED_SHELLS}
 * reads the script from stdin (`-s`, as the helper's `bash -s`: nothing in argv, no length limit). It runs under the
 * session's shell (`$SHELL`, which the agent sets to the image's `/bin/sh` or its own busybox `sh`), and each `exec`
 * keeps the process id the SSH connection recorded, so SIGTERM forwarding reaches the script as on the helper.
 */
export function detectShellCommand(): string {
  const loop = `for shell in ${DETECTED_SHELLS.join(' ')}; do if [ -x "$shell" ]; then exec "$shell" -s; fi; done; echo "gitlab-fargate: no shell in the job image (looked for ${DETECTED_SHELLS.join(', ')})" >&2; exit 1`;
  return `"$SHELL" -c '${loop}'`;
}
