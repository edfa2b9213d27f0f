/**
 * The job agent's contract with whoever starts a job task (the driver): where the agent's files are in the build
 * container, how that container must be started, the environment variables its entry reads, and the SSH login it
 * offers. The renderers of the job-agent image import them from here; the driver takes the names it shares with
 * the agent from the config package's contract (`packages/config/src/contract/job-agent.ts`), and
 * `job-agent-contract.test.ts` proves the two agree.
 */

import type { SSH_PUBLIC_KEY_VARIABLE } from '@gitlab-fargate/config';

/** The folder the job-agent image declares as a `VOLUME`, which the build container mounts read-only. */
export const JOB_AGENT_DIR = '/opt/gf';

/** The static busybox (Debian's busybox-static); it runs the entry, so the job image needs no shell to start. */
export const JOB_AGENT_BUSYBOX = `${JOB_AGENT_DIR}/busybox`;

/** A hard link to {@link JOB_AGENT_BUSYBOX} named `sh`: busybox's shell wherever the job image has none. */
export const JOB_AGENT_SH = `${JOB_AGENT_DIR}/sh`;

/** The static dropbear (server and key generator in one multi-call binary, Debian's source built with musl). */
export const JOB_AGENT_DROPBEAR = `${JOB_AGENT_DIR}/dropbearmulti`;

/** The build container's entry script (a busybox `sh` script). */
export const JOB_AGENT_ENTRY = `${JOB_AGENT_DIR}/gf-entry`;

/**
 * The login shell of {@link JOB_AGENT_LOGIN_NAME}: a busybox `sh` script that gives the session the container's
 * `HOME` and `PATH` (dropbear resets both) and runs the client's command with the image's `/bin/sh`, or with
 * {@link JOB_AGENT_SH} when the image has none.
 */
export const JOB_AGENT_SESSION_SHELL = `${JOB_AGENT_DIR}/gf-session`;

/** Licences and the exact Debian source packages the binaries come from. */
export const JOB_AGENT_LICENSES_DIR = `${JOB_AGENT_DIR}/licenses`;

/** The build container's `entryPoint`: busybox runs the entry, so no shell is needed in the job image. */
export const JOB_AGENT_ENTRY_POINT: readonly string[] = [JOB_AGENT_BUSYBOX, 'sh', JOB_AGENT_ENTRY];

/**
 * The build container's `user`: the entry needs root to write `/etc/passwd`, `/etc/group`, `/etc/shells` and
 * `/etc/hosts`; sessions then run as the job user ({@link JOB_AGENT_ENV}.jobUser).
 */
export const JOB_AGENT_CONTAINER_USER = '0';

/** The SSH login name, whatever the job user is: the entry maps it to the job user's uid and gid. */
export const JOB_AGENT_LOGIN_NAME = 'gitlab-fargate';

/** The port dropbear listens on when {@link JOB_AGENT_ENV}.sshPort is not set. */
export const JOB_AGENT_DEFAULT_SSH_PORT = 2222;

/** Where the entry keeps dropbear's host key and the login's home (with `.ssh/authorized_keys`). */
export const JOB_AGENT_STATE_DIR = '/run/gitlab-fargate';

/** The entry's exit status when the container is started wrongly or cannot be prepared (sysexits.h EX_CONFIG). */
export const JOB_AGENT_EXIT_MISCONFIGURED = 78;

/** The environment the entry reads (set by the driver through container overrides). */
export const JOB_AGENT_ENV = {
  /**
   * Required: exactly one OpenSSH public key line, the job's key; unset before dropbear starts. The same variable as
   * the ci-coordinator's: its home is the config package's contract, checked here by the compiler (config is only
   * a devDependency of this package).
   */
  sshPublicKey: 'SSH_PUBLIC_KEY' satisfies typeof SSH_PUBLIC_KEY_VARIABLE,
  /** Optional: space-separated host names (the services' aliases) that `/etc/hosts` maps to 127.0.0.1. */
  hosts: 'GITLAB_FARGATE_HOSTS',
  /**
   * Optional: the job user, as the job's `image: docker: user:` gives it: `name` (looked up in the image's
   * `/etc/passwd`), `uid` or `uid:gid`. Unset or empty: root.
   */
  jobUser: 'GITLAB_FARGATE_JOB_USER',
  /** Optional: the port dropbear listens on. @default 2222 */
  sshPort: 'GITLAB_FARGATE_SSH_PORT',
} as const;

/**
 * Variables the entry hands to {@link JOB_AGENT_SESSION_SHELL} through dropbear's environment (`-e`); the session
 * shell restores `HOME` and `PATH` from them and removes them. Internal: nobody else sets them.
 */
export const JOB_AGENT_SESSION_ENV = {
  home: 'GITLAB_FARGATE_SESSION_HOME',
  path: 'GITLAB_FARGATE_SESSION_PATH',
} as const;
