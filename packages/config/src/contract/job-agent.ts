/**
 * The contract between the driver and the job agent (the static tools the `gf-init` container copies into the
 * task's `gf-tools` volume, and the entry script that starts the SSH server in the job's own image). The driver's
 * side of it lives here, in the package both the driver and the images package depend on: the driver builds task
 * definitions and RunTask overrides from these names, and the job-agent image's renderers must use the same (import
 * them from here, or keep a copy that a test compares with these).
 */
import { SSH_PUBLIC_KEY_VARIABLE } from './job-container.js';

/** The folder the job-agent image declares as a `VOLUME`: `gf-init` mounts the `gf-tools` volume there, the build container read-only. */
export const JOB_AGENT_DIR = '/opt/gf';
/** The statically linked busybox in the tools volume: runs the entry script, and `true` for `gf-init`. */
export const JOB_AGENT_BUSYBOX = `${JOB_AGENT_DIR}/busybox`;
/** The build container's entry script (a busybox `sh` script): hosts, passwd, key, then the SSH server. */
export const JOB_AGENT_ENTRY = `${JOB_AGENT_DIR}/gf-entry`;
/** The build container's `entryPoint`: busybox runs the entry, so the job image needs no shell to start. */
export const JOB_AGENT_ENTRY_POINT: readonly string[] = [JOB_AGENT_BUSYBOX, 'sh', JOB_AGENT_ENTRY];
/** The build container's `user`: the entry needs root for `/etc/hosts` and `/etc/passwd`; sessions run as the job user. */
export const JOB_AGENT_CONTAINER_USER = '0';

/** The port the agent's SSH server listens on in the build container (the helper's sshd keeps 22). */
export const JOB_AGENT_DEFAULT_SSH_PORT = 2222;
/** The login name the driver uses for the agent's SSH server, whatever the job user is. */
export const JOB_AGENT_LOGIN_NAME = 'gitlab-fargate';

/** Names of the environment variables the agent's entry reads. */
export const JOB_AGENT_ENV = {
  /** The job's OpenSSH public key (one line); the agent accepts only it. Per job: a RunTask override. */
  sshPublicKey: SSH_PUBLIC_KEY_VARIABLE,
  /**
   * Host names that resolve to the task itself (`127.0.0.1`), space-separated: the services' default names and
   * aliases, which the agent appends to `/etc/hosts`. Per job: a RunTask override.
   */
  hosts: 'GITLAB_FARGATE_HOSTS',
  /** The user the job's sessions run as (`image: docker: user:`: a name, `uid` or `uid:gid`); empty = root. Per job: a RunTask override. */
  jobUser: 'GITLAB_FARGATE_JOB_USER',
  /** The port the agent listens on ({@link JOB_AGENT_DEFAULT_SSH_PORT}); the same for every job: in the task definition. */
  sshPort: 'GITLAB_FARGATE_SSH_PORT',
} as const;
