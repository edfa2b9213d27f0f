import { createHash } from 'node:crypto';
import { type ECSClient, RunTaskCommand, TagResourceCommand, type Task } from '@aws-sdk/client-ecs';
import { stopTask } from '../aws/launch.js';
import { tagOf } from '../aws/task-listing.js';
import { SystemFailure, messageOf } from '../errors.js';
import { recentCrashes } from './crashes.js';
import { type Fleet, deadManagers, observeFleet, subnetOf, taskIdOf } from './fleet.js';
import { type ControllerSettings, MANAGER_VERSION_VARIABLE, familyRevision } from './settings.js';

/** The `startedBy` of the managers the controller starts. */
export const MANAGER_STARTED_BY = 'gitlab-fargate-manager';

/**
 * When the controller first found a manager old (ISO 8601 UTC, whole seconds). The drain deadline and the settle
 * time count from it; it is written once, so every later run agrees on it.
 */
export const DRAIN_STARTED_TAG = 'gitlab-fargate:drain-started';

/** Options of {@link reconcileManagers}. */
export interface ReconcileOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** One line per decision. @default - none */
  readonly log?: (line: string) => void;
}

/** What one run did. Task IDs, not ARNs. */
export interface ReconcileReport {
  /** Managers of the current version started. */
  readonly started: string[];
  /**
   * Managers of the current version beyond {@link ControllerSettings.count} (the count was lowered), and any already
   * tagged draining (a raised count does not take one back: it takes no job): they drain like old ones, and are also
   * in `waiting` or `stoppedManagers`.
   */
  readonly surplus: string[];
  /** Old and surplus managers left running: their jobs are not done and the deadline has not passed. */
  readonly waiting: string[];
  /** Old and surplus managers stopped (drained, or past the deadline). */
  readonly stoppedManagers: string[];
  /** Job tasks stopped: of a manager that died, or of an old manager stopped at its deadline. */
  readonly stoppedJobs: string[];
  /**
   * Managers of the current version that crashed in the last 30 minutes (`CRASH_WINDOW_MS`): they never started, or
   * exited non-zero. A level, not a sum: each pass counts the same crash again while it is in the window.
   */
  readonly crashed: string[];
  /** What failed; the run still did everything else. */
  readonly failures: string[];
}

interface Run {
  readonly ecs: ECSClient;
  readonly settings: ControllerSettings;
  readonly now: number;
  readonly log: (line: string) => void;
  readonly report: ReconcileReport;
}

/**
 * One pass of the manager controller: keep {@link ControllerSettings.count} managers of the current task definition
 * revision running, spread over the subnets (those beyond it drain like old ones); let each old manager drain (it
 * stops asking GitLab for jobs on its own, seeing the new version in the settings parameter) and stop it once its job
 * tasks are gone (after a settle time) or its drain deadline has passed, with its job tasks; stop at once the job
 * tasks of managers that died; count the current version's recent crashes. It touches only tasks of the manager
 * family and job tasks whose manager tag names one of them.
 *
 * @throws SystemFailure after doing all it could, when something failed (listed in the message)
 */
export async function reconcileManagers(
  ecs: ECSClient, settings: ControllerSettings, options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const report = await reconcilePass(ecs, settings, options);
  if (report.failures.length > 0) throw new SystemFailure(`managers reconcile: ${report.failures.join('; ')}`);
  return report;
}

/**
 * {@link reconcileManagers} without the throw: the report lists what failed, so that a caller can still publish what
 * the pass saw (the Lambda handler's metrics) before it fails.
 */
export async function reconcilePass(
  ecs: ECSClient, settings: ControllerSettings, options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    started: [], surplus: [], waiting: [], stoppedManagers: [], stoppedJobs: [], crashed: [], failures: [],
  };
  const run: Run = { ecs, settings, now: (options.now ?? Date.now)(), log: options.log ?? (() => {}), report };
  const fleet = await observeFleet(ecs, settings);
  const desired = familyRevision(settings.taskDefinition);
  const current = fleet.managers.filter((task) => familyRevision(task.taskDefinitionArn ?? '') === desired);
  const old = fleet.managers.filter((task) => !current.includes(task));
  // A drain-tagged manager takes no job (its keeper and runner drain on the tag), so it never counts again.
  const tagged = current.filter((task) => tagOf(task, DRAIN_STARTED_TAG) !== undefined);
  const surplus = [...tagged, ...surplusOf(settings, fleet, current.filter((task) => !tagged.includes(task)))];
  report.surplus.push(...surplus.map(taskIdOf));
  await startMissing(run, current.filter((task) => !surplus.includes(task)));
  for (const manager of old) await drainOld(run, fleet, manager, 'old');
  for (const manager of surplus) await drainOld(run, fleet, manager, 'surplus');
  for (const id of await deadManagers(ecs, settings, fleet)) {
    await stopJobs(run, fleet.jobsByManager.get(id) ?? [], `its manager ${id} has stopped`);
  }
  await countCrashes(run);
  run.log(
    `managers: ${current.length - surplus.length + report.started.length} of ${desired} running (${report.started.length} started), ` +
      `${report.waiting.length} old or surplus draining, ${report.stoppedManagers.length} old or surplus stopped, ` +
      `${report.stoppedJobs.length} job tasks stopped, ${report.crashed.length} crashed in the last 30 min`,
  );
  return report;
}

/**
 * Starts managers until {@link ControllerSettings.count} run, each in the subnet that has the fewest. EventBridge
 * delivers a schedule at least once, so two passes can run at the same time: each RunTask carries a client token made
 * of the version, the slot and the minute, and ECS starts one task per token (a second pass that saw the same fleet
 * gets the first one's task back; one that saw another fleet gets a ConflictException and leaves the slot to it).
 */
async function startMissing(run: Run, current: readonly Task[]): Promise<void> {
  const { settings } = run;
  const perSubnet = new Map(settings.subnets.map((subnet) => [subnet, 0]));
  for (const task of current) {
    const subnet = subnetOf(task);
    if (subnet !== undefined && perSubnet.has(subnet)) perSubnet.set(subnet, (perSubnet.get(subnet) ?? 0) + 1);
  }
  for (let slot = current.length; slot < settings.count; slot++) {
    const subnet = [...perSubnet.entries()].reduce((best, entry) => (entry[1] < best[1] ? entry : best))[0];
    perSubnet.set(subnet, (perSubnet.get(subnet) ?? 0) + 1);
    const clientToken = `${MANAGER_STARTED_BY}-${createHash('sha256')
      .update(`${settings.cluster}|${settings.taskDefinition}|${slot}|${Math.floor(run.now / 60_000)}`)
      .digest('hex')
      .slice(0, 32)}`;
    try {
      const out = await run.ecs.send(new RunTaskCommand({ ...managerRunTask(settings, subnet), clientToken }));
      const failure = out.failures?.[0];
      const task = out.tasks?.[0];
      if (task === undefined) throw new Error(failure === undefined ? 'no task and no failure in the answer' : `${failure.reason ?? ''} ${failure.detail ?? ''}`.trim());
      run.report.started.push(taskIdOf(task));
      run.log(`started manager ${taskIdOf(task)} (${familyRevision(settings.taskDefinition)}) in ${subnet}`);
    } catch (error) {
      if ((error as { name?: string }).name === 'ConflictException') {
        run.log(`manager slot ${slot} was started by another pass this minute (${clientToken})`);
      } else {
        run.report.failures.push(`cannot start a manager in ${subnet}: ${messageOf(error)}`);
      }
    }
  }
}

/** The RunTask request of one manager: on-demand Fargate, one subnet, its version in its environment. */
function managerRunTask(settings: ControllerSettings, subnet: string): ConstructorParameters<typeof RunTaskCommand>[0] {
  return {
    cluster: settings.cluster,
    taskDefinition: settings.taskDefinition,
    count: 1,
    // Whatever the jobs use: a Spot reclaim would stop a manager and every job it runs.
    capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: [subnet],
        securityGroups: [...settings.securityGroups],
        assignPublicIp: settings.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
    },
    overrides: {
      containerOverrides: [
        { name: settings.containerName, environment: [{ name: MANAGER_VERSION_VARIABLE, value: settings.taskDefinition }] },
      ],
    },
    startedBy: MANAGER_STARTED_BY,
    propagateTags: 'TASK_DEFINITION',
  };
}

/**
 * The managers of the current version (none draining) beyond {@link ControllerSettings.count}, to drain like old ones:
 * those with the fewest job tasks (the least to wait for), then from the subnet that has the most (the rest stay
 * spread), then the newest.
 */
function surplusOf(settings: ControllerSettings, fleet: Fleet, current: readonly Task[]): Task[] {
  const excess = current.length - settings.count;
  if (excess <= 0) return [];
  const perSubnet = new Map<string | undefined, number>();
  for (const task of current) perSubnet.set(subnetOf(task), (perSubnet.get(subnetOf(task)) ?? 0) + 1);
  const rank = (task: Task): number[] => [
    (fleet.jobsByManager.get(taskIdOf(task)) ?? []).length,
    -(perSubnet.get(subnetOf(task)) ?? 0),
    -((task.startedAt ?? task.createdAt)?.getTime() ?? 0),
  ];
  const order = (a: Task, b: Task): number => {
    const [ra, rb] = [rank(a), rank(b)];
    const differing = ra.findIndex((value, index) => value !== rb[index]);
    return differing === -1 ? taskIdOf(a).localeCompare(taskIdOf(b)) : ra[differing]! - rb[differing]!;
  };
  return [...current].sort(order).slice(0, excess);
}

/**
 * One old (or surplus) manager: note when it was found old, then wait, or stop it (drained, or at its deadline with
 * its jobs).
 */
async function drainOld(run: Run, fleet: Fleet, manager: Task, kind: 'old' | 'surplus'): Promise<void> {
  const { settings, now } = run;
  const id = taskIdOf(manager);
  const jobs = fleet.jobsByManager.get(id) ?? [];
  const since = await drainStarted(run, manager);
  const elapsed = Math.floor((now - since) / 1000);
  const what = `${kind} manager ${id} (${familyRevision(manager.taskDefinitionArn ?? '')}, draining for ${elapsed} s, ${jobs.length} job tasks)`;
  if (elapsed >= settings.drainTimeoutSeconds) {
    await stopManager(run, manager, `${what}: past its drain deadline of ${settings.drainTimeoutSeconds} s`);
    await stopJobs(run, jobs, `its manager ${id} was stopped at its drain deadline`);
  } else if (jobs.length === 0 && elapsed >= settings.drainSettleSeconds) {
    await stopManager(run, manager, `${what}: drained`);
  } else {
    run.report.waiting.push(id);
    run.log(`waiting for ${what}`);
  }
}

/** When the manager was first found old: its tag, else now (and the tag is written). */
async function drainStarted(run: Run, manager: Task): Promise<number> {
  const tagged = Date.parse(tagOf(manager, DRAIN_STARTED_TAG) ?? '');
  if (!Number.isNaN(tagged)) return tagged;
  const value = new Date(run.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  try {
    await run.ecs.send(new TagResourceCommand({ resourceArn: manager.taskArn, tags: [{ key: DRAIN_STARTED_TAG, value }] }));
  } catch (error) {
    run.report.failures.push(`cannot tag ${taskIdOf(manager)} ${DRAIN_STARTED_TAG}: ${messageOf(error)}`);
  }
  return run.now;
}

/** Records the current version's recent crashes, one line each; a failed look is a failure of the pass. */
async function countCrashes(run: Run): Promise<void> {
  try {
    for (const crash of await recentCrashes(run.ecs, run.settings, run.now)) {
      run.report.crashed.push(crash.id);
      run.log(`manager ${crash.id} of the current version crashed: ${crash.why}`);
    }
  } catch (error) {
    run.report.failures.push(`cannot list the stopped managers: ${messageOf(error)}`);
  }
}

async function stopManager(run: Run, manager: Task, why: string): Promise<void> {
  if (await stop(run, manager, `gitlab-fargate managers: ${why}`)) {
    run.report.stoppedManagers.push(taskIdOf(manager));
    run.log(`stopped ${why}`);
  }
}

async function stopJobs(run: Run, jobs: readonly Task[], why: string): Promise<void> {
  for (const job of jobs) {
    if (await stop(run, job, `gitlab-fargate managers: ${why}`)) {
      run.report.stoppedJobs.push(taskIdOf(job));
      run.log(`stopped job task ${taskIdOf(job)}: ${why}`);
    }
  }
}

async function stop(run: Run, task: Task, reason: string): Promise<boolean> {
  try {
    await stopTask(run.ecs, { cluster: run.settings.cluster, taskArn: task.taskArn ?? '', reason }, { deadlineMs: 30_000 });
    return true;
  } catch (error) {
    run.report.failures.push(messageOf(error));
    return false;
  }
}
