/**
 * The contract between the warm-pool keeper (`gitlab-fargate-driver pool keep`), the job's prepare stage (which
 * claims an idle pool task) and the ci-coordinator image's idle watchdog. The driver starts every pool task with
 * {@link POOL_IDLE_DEADLINE_VARIABLE} as a container environment override; the watchdog in the image's entrypoint
 * stops the task at that time unless a job took the in-task lock first. Taking the lock is `mkdir
 * {@link POOL_CLAIM_LOCK_DIR}`: `mkdir(2)` is atomic, so exactly one of the watchdog and a claiming job wins, and a
 * task whose manager is gone still stops at its deadline.
 */

/** Epoch seconds (a decimal integer) after which an unclaimed pool task stops itself. Set at RunTask. */
export const POOL_IDLE_DEADLINE_VARIABLE = 'GITLAB_FARGATE_IDLE_DEADLINE';

/** The parent of {@link POOL_CLAIM_LOCK_DIR}; exists in the image (mode 0755, root's). */
export const POOL_RUN_DIR = '/run/gitlab-fargate';

/**
 * The in-task lock: whoever creates this directory first (the claiming job's first SSH command, or the watchdog at
 * the deadline) owns the task. A job that finds it existing must not use the task; the watchdog that finds it stands
 * down for good.
 */
export const POOL_CLAIM_LOCK_DIR = `${POOL_RUN_DIR}/claimed`;

/**
 * The claiming job's first command over SSH (as the task's `[SSH] Username`; the entrypoint lets a non-root user
 * create the lock): exit status 0 means this job owns the task; any other status (or a session that ends without
 * one) means the watchdog or another job took it first, so the job must not use the task and takes the cold path.
 */
export const POOL_CLAIM_COMMAND = `mkdir ${POOL_CLAIM_LOCK_DIR}`;

/** Tags the keeper puts on every pool task (besides the driver's deadline and manager tags and the configured ones). */
export const POOL_TAG_KEYS = {
  /** The `[[Pool]] Name` the task was started for. */
  pool: 'gitlab-fargate:pool',
  /** The hash of the configuration the task was started under; a task of another hash is drained. */
  configHash: 'gitlab-fargate:config-hash',
  /**
   * Set by the job that claimed the task (value: its `CI_JOB_ID`), together with the job's own
   * `gitlab-fargate:deadline`: a pool task with this tag is a job's task; one without it is idle (not a job, so the
   * manager controller does not wait for it when draining a manager: it stops with its keeper or its idle watchdog).
   */
  claimed: 'gitlab-fargate:pool-claimed',
} as const;

/**
 * Every tag key the job that claimed a pool task may put on it (one TagResource, once it owns the task): the job's
 * deadline (which replaces the idle one), {@link POOL_TAG_KEYS.claimed}, and the job's ID and project, so a claimed
 * task carries the job tags a cold one gets at RunTask. The manager's role may set exactly these on a running task.
 */
export const POOL_CLAIM_TAG_KEYS = ['gitlab-fargate:deadline', POOL_TAG_KEYS.claimed, 'gitlab-fargate:job-id', 'gitlab-fargate:project'] as const;
