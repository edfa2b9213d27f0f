/**
 * The tag keys the driver sets on every job task itself (`TAG_KEYS` in the driver's `job/plan.ts`; a driver test keeps
 * the two lists equal): the job id, the runner, the project, and `gitlab-fargate:deadline`, which gc and the orphan
 * reaper trust to decide when a task may be stopped. A configured tag of one of these names would be overwritten on
 * some tasks and survive on others (a job whose timeout the driver cannot read gets no deadline of its own), so
 * `[Fargate] Tags` refuses them. Other `gitlab-fargate:` keys stay allowed: the CDK constructs give every job task
 * `gitlab-fargate:environment` through `TASK_TAGS`.
 */
export const DRIVER_TASK_TAG_KEYS = [
  'gitlab-fargate:job-id',
  'gitlab-fargate:runner',
  'gitlab-fargate:project',
  'gitlab-fargate:deadline',
  'gitlab-fargate:manager',
] as const;

/** Whether a `[Fargate] Tags` key names one of the driver's own tags (compared case-insensitively, as a reader might). */
export function isDriverTaskTagKey(key: string): boolean {
  const lower = key.toLowerCase();
  return DRIVER_TASK_TAG_KEYS.some((reserved) => reserved === lower);
}
