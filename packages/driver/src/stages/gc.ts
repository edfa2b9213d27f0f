import { join, resolve } from 'node:path';
import type { Task } from '@aws-sdk/client-ecs';
import { type AwsClients, createAwsClients } from '../aws/clients.js';
import { stopTask } from '../aws/launch.js';
import { describeTasksWithTags, listTaskArns, tagOf } from '../aws/task-listing.js';
import { secondsToMs } from '../duration.js';
import { SystemFailure, messageOf } from '../errors.js';
import { parseDeadlineTag } from '../job/deadline.js';
import { RUNNER_IDENTITY_VARIABLE } from '../job/environment.js';
import { TAG_KEYS, startedByFor } from '../job/plan.js';
import { retireUnusedFamilies } from '../job-image/retire-families.js';
import { type StateEntry, TASK_DEFINITION_CACHE_FILE, listStates, removeState } from '../job/state.js';
import { trustStateDirectory } from '../job/state-directory.js';
import { sweepStateDirectory } from '../job/state-sweep.js';
import { stopMultiplexer } from '../ssh/mux/launcher.js';
import type { StageContext } from './context.js';
import { poolOwnedTaskArns } from '../pool/owned-tasks.js';

/** Options of {@link gcStage}. */
export interface GcOptions {
  /** List, do not stop or remove anything. */
  readonly dryRun: boolean;
  /**
   * Leave tasks younger than this alone. With a state directory, 600 s covers a task between RunTask and its state
   * file. Without one (`--without-state`, the reaper), it applies only to tasks without a deadline tag, so it
   * must be given and be longer than the longest job.
   * @default 600 with a state directory; required without one
   */
  readonly minAgeSeconds?: number;
  /**
   * Ignore `[TaskMetadata] Directory` and judge tasks as without a state directory (deadline tag, else age). For a
   * reaper in a task of its own: the configured folder there is not the manager's, and may not even be readable.
   * @default false
   */
  readonly withoutState?: boolean;
  readonly clients?: AwsClients;
  readonly now?: () => number;
}

/** What gc found and did (in a dry run: would do). */
export interface GcReport {
  /** Tasks stopped. */
  readonly stopped: string[];
  /** Tasks left alone. */
  readonly kept: string[];
  /** Tasks gc could not stop; the stale states naming them are kept, so a later gc retries. */
  readonly failed: string[];
  /** Stale state files removed (their jobs cannot still be running). */
  readonly removedStates: string[];
  /** Other leftovers removed from the state directory: old temporary state files, multiplexer sockets. */
  readonly removedFiles: string[];
  /** With `[JobImages] Enabled`: derived task definition families retired (unused for `UnusedFamilyTTL`). */
  retiredFamilies?: string[];
}

/** How a task is judged, see {@link judgeTask}. */
interface TaskRules {
  readonly owned: ReadonlySet<string>;
  /** This manager's task ID (`gitlab-fargate:manager`), when it knows it. */
  readonly managerId?: string;
  readonly seesJobs: boolean;
  readonly minAgeSeconds: number;
  readonly now: number;
}

interface Verdict {
  readonly stop: boolean;
  /** For the log, e.g. `no live job, 3600 s old`. */
  readonly why: string;
  /** The StopTask reason people see in the console. */
  readonly reason?: string;
}

/**
 * `gc`: cleans up after jobs whose cleanup never ran. With the state directory visible: a stale state (its job's
 * deadline passed) has its task stopped and the file removed (also when the task is already gone; kept when the
 * stop fails); a task of this runner (ECS `startedBy`) that no live state names is stopped once older than the
 * minimum age; temporary state files older than 10 minutes and sockets of removed states are deleted. Without it
 * (`--without-state`, or none configured or present: a reaper in a task of its own): a task tagged with its job's
 * deadline is stopped once that has passed, any other task once older than `--min-age`. The runner is identified by
 * its short token (`JobEnvironment.runnerShortToken`).
 *
 * @throws SystemFailure after finishing what it could, when some task could not be stopped
 */
export async function gcStage(ctx: StageContext, options: GcOptions): Promise<GcReport> {
  if (ctx.env.runnerShortToken === 'unknown') {
    throw new SystemFailure(`gc needs the runner short token (${RUNNER_IDENTITY_VARIABLE}, else CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN) to find the tasks this runner started`);
  }
  const directory = stateDirectoryOf(ctx, options.withoutState === true);
  const seesJobs = directory !== undefined && trustStateDirectory(directory);
  if (!seesJobs && options.minAgeSeconds === undefined) {
    const why = options.withoutState === true ? '--without-state' : directory === undefined ? 'no [TaskMetadata] Directory' : `${directory} does not exist here`;
    throw new SystemFailure(
      `gc cannot see live jobs (${why}): ` +
        'it stops a task tagged with its job\'s deadline once that has passed, and any other task by age alone, so pass --min-age longer than the longest job',
    );
  }
  const minAgeSeconds = options.minAgeSeconds ?? 600;
  if (!seesJobs) ctx.log.progress(`gc: no job state here; stopping tasks past their deadline tag, or without one older than ${minAgeSeconds} s`);
  const now = options.now ?? Date.now;
  const report: GcReport = { stopped: [], kept: [], failed: [], removedStates: [], removedFiles: [] };
  const clientsFor = regionalClients(options.clients, ctx.config.fargate.region);

  const entries = seesJobs ? listStates(directory, (path, error) => ctx.log.warn(`gc: skipping ${path}: it ${error.problem}`)) : [];
  const isStale = (entry: StateEntry): boolean => entry.state.expiresAt !== undefined && Date.parse(entry.state.expiresAt) <= now();
  const handled = await reapStaleStates(ctx, entries.filter(isStale), clientsFor, options.dryRun, report);
  const owned = new Set(entries.filter((e) => !isStale(e)).flatMap((e) => (e.state.taskArn === undefined ? [] : [e.state.taskArn])));
  // Idle warm-pool tasks have no job state yet; the pool directory accounts for them (the keeper gc's its own).
  for (const arn of poolOwnedTaskArns(ctx.config)) owned.add(arn);
  const managerId = ctx.env.managerId === undefined ? {} : { managerId: ctx.env.managerId };
  const rules: TaskRules = { owned, seesJobs, minAgeSeconds, now: now(), ...managerId };
  await reapTasks(ctx, clientsFor(undefined), rules, handled, options.dryRun, report);
  if (ctx.config.jobImages.enabled) {
    const cacheFile = seesJobs ? join(directory, TASK_DEFINITION_CACHE_FILE) : undefined;
    const retire = { ...(cacheFile === undefined ? {} : { cacheFile }), dryRun: options.dryRun, log: ctx.log, now };
    const families = await retireUnusedFamilies(clientsFor(undefined).ecs, ctx.config.jobImages, retire);
    report.retiredFamilies = families.retired;
    report.failed.push(...families.failed.map((family) => `task definition family ${family}`));
  }
  if (seesJobs) {
    report.removedFiles.push(...sweepStateDirectory(directory, { now: now(), dryRun: options.dryRun }));
    for (const path of report.removedFiles) ctx.log.progress(`${options.dryRun ? 'would remove' : 'removed'} ${path}, left by a job that is gone`);
  }
  ctx.log.progress(
    `gc: ${report.stopped.length} ${options.dryRun ? 'to stop' : 'stopped'}, ${report.kept.length} kept, ` +
      `${report.removedStates.length} stale states and ${report.removedFiles.length} other files ${options.dryRun ? 'to remove' : 'removed'}` +
      (report.retiredFamilies === undefined ? '' : `, ${report.retiredFamilies.length} task definition families ${options.dryRun ? 'to retire' : 'retired'}`) +
      (report.failed.length > 0 ? `, ${report.failed.length} could not be stopped` : ''),
  );
  if (report.failed.length > 0) {
    throw new SystemFailure(`gc could not stop ${report.failed.join(', ')}; the next gc tries again (a stale state naming one is kept for it)`);
  }
  return report;
}

/** The state directory gc reads: none with `--without-state`, else `[TaskMetadata] Directory` (relative to the cwd). */
function stateDirectoryOf(ctx: StageContext, withoutState: boolean): string | undefined {
  const configured = ctx.config.taskMetadata.directory;
  return withoutState || configured === undefined ? undefined : resolve(ctx.cwd, configured);
}

/** AWS clients per region (a state records its own), made once each; `undefined` is the configured region. */
function regionalClients(injected: AwsClients | undefined, configured: string | undefined): (region: string | undefined) => AwsClients {
  const made = new Map<string | undefined, AwsClients>();
  return (region) => {
    const key = region ?? configured;
    if (injected !== undefined) return injected;
    let clients = made.get(key);
    if (clients === undefined) made.set(key, (clients = createAwsClients(key)));
    return clients;
  };
}

/**
 * Stale states were left by runners that died before cleanup: each one's task is stopped (in the cluster and region
 * the state names) and the file, which holds the job's private key, removed, whether the task was stopped now or
 * was already gone. When the stop fails, the state stays so the next gc retries.
 *
 * @returns the task ARNs dealt with here
 */
async function reapStaleStates(
  ctx: StageContext,
  stale: readonly StateEntry[],
  clientsFor: (region: string | undefined) => AwsClients,
  dryRun: boolean,
  report: GcReport,
): Promise<Set<string>> {
  const handled = new Set<string>();
  for (const entry of stale) {
    const { path, state } = entry;
    const what = `the stale state of job ${state.jobId} (expired ${state.expiresAt})`;
    if (state.taskArn !== undefined) {
      handled.add(state.taskArn);
      if (!(await stopStaleTask(ctx, entry, clientsFor(state.region), dryRun, report))) {
        ctx.log.error(`keeping ${what} (${path}) for the next gc`);
        continue;
      }
    }
    if (!dryRun) {
      if (state.mux !== undefined) stopMultiplexer(state.mux);
      removeState(path);
    }
    ctx.log.progress(`${dryRun ? 'would remove' : 'removed'} ${what}`);
    report.removedStates.push(path);
  }
  return handled;
}

/** Stops a stale state's task; true when it is stopped (or would be) or already gone. */
async function stopStaleTask(
  ctx: StageContext, { state }: StateEntry, clients: AwsClients, dryRun: boolean, report: GcReport,
): Promise<boolean> {
  const taskArn = state.taskArn ?? '';
  if (dryRun) {
    ctx.log.progress(`would stop ${taskArn} (job ${state.jobId} cannot still be running)`);
    report.stopped.push(taskArn);
    return true;
  }
  try {
    const outcome = await stopTask(
      clients.ecs,
      { cluster: state.cluster, taskArn, reason: `gitlab-fargate gc: job ${state.jobId} cannot still be running` },
      { deadlineMs: secondsToMs(ctx.config.timeouts.stopTask) },
    );
    ctx.log.progress(outcome === 'stopped' ? `stopped ${taskArn} (job ${state.jobId} cannot still be running)` : `${taskArn} was already gone`);
    if (outcome === 'stopped') report.stopped.push(taskArn);
    return true;
  } catch (error) {
    ctx.log.error(`could not stop ${taskArn}: ${messageOf(error)}`);
    report.failed.push(taskArn);
    return false;
  }
}

/** Stops the runner's tasks that {@link judgeTask} finds orphaned, except those already dealt with. */
async function reapTasks(
  ctx: StageContext,
  clients: AwsClients,
  rules: TaskRules,
  handled: ReadonlySet<string>,
  dryRun: boolean,
  report: GcReport,
): Promise<void> {
  const cluster = ctx.config.fargate.cluster;
  const arns = (await listTaskArns(clients.ecs, cluster, startedByFor(ctx.env.runnerShortToken))).filter((arn) => !handled.has(arn));
  for (const task of await describeTasksWithTags(clients.ecs, cluster, arns)) {
    const arn = task.taskArn ?? '';
    const verdict = judgeTask(task, rules);
    if (!verdict.stop) {
      ctx.log.debug(`gc keeps ${arn}: ${verdict.why}`);
      report.kept.push(arn);
    } else if (dryRun) {
      ctx.log.progress(`would stop ${arn} (${verdict.why})`);
      report.stopped.push(arn);
    } else {
      try {
        const deadlineMs = secondsToMs(ctx.config.timeouts.stopTask);
        await stopTask(clients.ecs, { cluster, taskArn: arn, reason: verdict.reason ?? verdict.why }, { deadlineMs });
        ctx.log.progress(`stopped ${arn} (${verdict.why})`);
        report.stopped.push(arn);
      } catch (error) {
        ctx.log.error(`could not stop ${arn}: ${messageOf(error)}`);
        report.failed.push(arn);
      }
    }
  }
}

/**
 * Whether a listed task is an orphan. Owned by a live state: kept. Without a state directory, a valid deadline tag
 * decides (stopped once past, whatever the minimum age); otherwise (state directory visible, or no usable tag) the
 * task is stopped once older than the minimum age.
 */
function judgeTask(task: Task, rules: TaskRules): Verdict {
  if (task.desiredStatus === 'STOPPED') return { stop: false, why: 'already stopping' };
  if (rules.owned.has(task.taskArn ?? '')) return { stop: false, why: 'a live job owns it' };
  const ageSeconds = task.createdAt === undefined ? Infinity : (rules.now - task.createdAt.getTime()) / 1000;
  // Managers of one runner share its startedBy, but each sees only its own job states: another manager's task is
  // judged by its deadline tag alone (and the manager controller stops the tasks of a manager that died).
  const manager = tagOf(task, TAG_KEYS.manager);
  const anotherManagers = rules.seesJobs && manager !== undefined && manager !== rules.managerId;
  if (!rules.seesJobs || anotherManagers) {
    const tag = tagOf(task, TAG_KEYS.deadline);
    const deadline = parseDeadlineTag(tag);
    if (deadline !== undefined) {
      return deadline <= rules.now
        ? { stop: true, why: `its job's deadline ${tag} has passed`, reason: `gitlab-fargate gc: past its job's deadline ${tag}` }
        : { stop: false, why: `its job may run until ${tag}` };
    }
    if (anotherManagers) return { stop: false, why: `manager ${manager}'s job, without a deadline tag` };
  }
  if (ageSeconds < rules.minAgeSeconds) return { stop: false, why: `younger than ${rules.minAgeSeconds} s` };
  const age = `${Math.round(ageSeconds)} s old`;
  return rules.seesJobs
    ? { stop: true, why: `no live job, ${age}`, reason: 'gitlab-fargate gc: no live job owns this task' }
    : { stop: true, why: `no deadline tag, ${age}`, reason: `gitlab-fargate gc: older than ${rules.minAgeSeconds} s, no deadline tag` };
}
