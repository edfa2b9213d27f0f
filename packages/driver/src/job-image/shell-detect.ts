import { JOB_AGENT_BUSYBOX, JOB_AGENT_DIR } from '@gitlab-fargate/config';

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
 *
 * The script's shell also leads a session (and process group) of its own, through the agent's busybox `setsid`, which
 * keeps the process id (the dropbear session's shell leads no group, so nothing forks). sshd does that for every
 * session on the helper, and dropbear does not without a terminal: there, the driver's kill of the recorded process
 * group on cancel would find no group and only reach the shell, and what the script left running (`sleep 300 &`)
 * would keep the session's output open, and the stage with it, until the grace period ran out.
 */
export function detectShellCommand(): string {
  const newSession = `session=; if [ -x ${JOB_AGENT_BUSYBOX} ]; then session="${JOB_AGENT_BUSYBOX} setsid"; fi`;
  const loop = `${newSession}; for shell in ${DETECTED_SHELLS.join(' ')}; do if [ -x "$shell" ]; then exec $session "$shell" -s; fi; done; echo "gitlab-fargate: no shell in the job image (looked for ${DETECTED_SHELLS.join(', ')})" >&2; exit 1`;
  return `"$SHELL" -c '${loop}'`;
}
