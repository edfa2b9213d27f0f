import type {
  POOL_CLAIM_COMMAND,
  POOL_CLAIM_LOCK_DIR,
  POOL_IDLE_DEADLINE_VARIABLE,
  POOL_RUN_DIR,
} from '@gitlab-fargate/config';

// The warm pool's side of the ci-coordinator: its home is the config package's contract
// (packages/config/src/contract/pool.ts), which the driver's keeper and claim path use. config is only a
// devDependency here, so the compiler checks these copies (`satisfies`) and pool-contract.test.ts compares the values.

/** Epoch seconds after which an unclaimed pool task stops itself; the keeper sets it as a container override. */
export const IDLE_DEADLINE_VARIABLE = 'GITLAB_FARGATE_IDLE_DEADLINE' satisfies typeof POOL_IDLE_DEADLINE_VARIABLE;

/** The image's run-time folder (root's, 0755): the saved session environment and the claim lock live here. */
export const RUN_DIR = '/run/gitlab-fargate' satisfies typeof POOL_RUN_DIR;

/** The in-task lock: whoever creates it first (the watchdog or the claiming job) owns the task. */
export const CLAIM_LOCK_DIR = '/run/gitlab-fargate/claimed' satisfies typeof POOL_CLAIM_LOCK_DIR;

/** The claiming job's first SSH command: exit status 0 means the job owns the task. */
export const CLAIM_COMMAND = 'mkdir /run/gitlab-fargate/claimed' satisfies typeof POOL_CLAIM_COMMAND;
