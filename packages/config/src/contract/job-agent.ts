/**
 * The contract between the driver and the job agent (the static tools the `gf-init` container copies into the
 * task's `gf-tools` volume, and the entry script that starts the SSH server in the job's own image). One home for
 * these names: the driver (task definitions, RunTask overrides, SSH) and the images package (the job-agent image
 * and its entry script) both import them from here.
 */

/** Where the `gf-tools` volume is mounted, in `gf-init` (read-write) and in the build container (read-only). */
export const JOB_AGENT_TOOLS_DIR = '/opt/gf';
/** The statically linked busybox in the tools volume: runs the entry script, and `true` for `gf-init`. */
export const JOB_AGENT_BUSYBOX = `${JOB_AGENT_TOOLS_DIR}/busybox`;
/** The entry script the build container starts with (`busybox sh gf-entry`): hosts, passwd, keys, then the SSH server. */
export const JOB_AGENT_ENTRY = `${JOB_AGENT_TOOLS_DIR}/gf-entry`;

/** The port the agent's SSH server listens on in the build container (the helper's sshd keeps 22). */
export const JOB_AGENT_SSH_PORT = 2222;
/** The login name the driver uses for the agent's SSH server. */
export const JOB_AGENT_LOGIN = 'gitlab-fargate';

/** Names of the environment variables the agent reads. */
export const JOB_AGENT_ENV = {
  /** The job's OpenSSH public key (one line); the agent accepts only it. Per job: a RunTask override. */
  sshPublicKey: 'SSH_PUBLIC_KEY',
  /**
   * Host names that resolve to the task itself (`127.0.0.1`), space-separated: the services' default names and
   * aliases, which the agent appends to `/etc/hosts`. Per job: a RunTask override.
   */
  hosts: 'GITLAB_FARGATE_HOSTS',
  /**
   * The user the job's scripts run as (`image: docker: user:`, a name or `uid[:gid]`); empty = root. Per job: a
   * RunTask override.
   */
  jobUser: 'GITLAB_FARGATE_JOB_USER',
  /** The port the agent listens on ({@link JOB_AGENT_SSH_PORT}); fixed, so it is part of the task definition. */
  sshPort: 'GITLAB_FARGATE_SSH_PORT',
} as const;
