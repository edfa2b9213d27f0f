import { dirname, join } from 'node:path';
import type { AwsClients } from '../aws/clients.js';
import type { LaunchPlan } from '../aws/launch.js';
import { type JobImageDecision, decideJobImage } from '../job-image/decide.js';
import { jobDeadline } from '../job/deadline.js';
import { readOverrides } from '../job/overrides.js';
import { planLaunch } from '../job/plan.js';
import { type JobState, TASK_DEFINITION_CACHE_FILE, writeState } from '../job/state.js';
import { sleep as defaultSleep } from '../sleep.js';
import type { JobKeyPair } from '../ssh/keys.js';
import type { Transport } from '../ssh/transport.js';
import { type StageContext, jobStatePath } from './context.js';
import type { PlannedJob, PrepareOptions } from './prepare-job.js';
import { readLeftover, settleLeftovers } from './prepare-leftover.js';
import { JobMultiplexer } from './prepare-mux.js';
import { type WarmPrepareInput, prepareWarm } from './prepare-warm.js';

/**
 * `custom prepare`: gives the job a task whose sshd accepts the job's key. Per-job overrides are checked before
 * anything starts. An idle task of the warm pool is taken when one fits (`prepare-warm.ts`); otherwise a task is
 * started (`prepare-cold.ts`): its ARN is in the state file before any waiting, so cleanup can always stop it, and if
 * anything after RunTask fails (recording the task included, or the job is cancelled), the task is stopped under a
 * fresh deadline.
 *
 * A warm start pays only for what it uses: this module loads neither the AWS SDK nor ssh2, the job's multiplexer
 * starts before either loads (its Node start-up overlaps the whole stage), and the SDK (for one TagResource) loads
 * after the claim and before the in-task lock: parsing it during the lock would hold up the handshake's packets. The
 * cold path's modules (RunTask, the readiness wait, job images) load only when it is taken.
 */
export async function prepareStage(ctx: StageContext, options: PrepareOptions = {}): Promise<JobState> {
  const checked = checkJob(ctx, options);
  const mux = new JobMultiplexer(ctx, checked.path);
  if (checked.mayBeWarm) mux.start();
  try {
    const job = await planJob(checked, mux, options);
    const warm = await prepareWarm(warmInput(job));
    if (warm !== undefined) return warm;
    const { prepareCold } = await import('./prepare-cold.js');
    return await prepareCold(job, options);
  } catch (error) {
    mux.abort();
    throw error;
  }
}

/** What prepare knows before any side effect: the job's refusals passed, its plan without a key, its leftovers. */
interface CheckedJob {
  readonly ctx: StageContext;
  readonly planFor: (publicKey: string) => LaunchPlan;
  readonly jobImage: JobImageDecision;
  readonly path: string;
  readonly previous: JobState | undefined;
  /** A pool is configured and the job has no honoured `image:`: a warm task may serve it. */
  readonly mayBeWarm: boolean;
  readonly deadline?: Date;
  readonly started: number;
}

/**
 * Everything that can refuse the job, before anything starts (no process, no state file, no AWS call): its overrides
 * and task size, its `image:` payload, an untrusted state directory.
 */
function checkJob(ctx: StageContext, options: PrepareOptions): CheckedJob {
  const { config, env, log } = ctx;
  const started = (options.now ?? Date.now)();
  const overrides = readOverrides(env.variables, config.overrides);
  const deadline = jobDeadline(started, env.jobTimeoutSeconds);
  const seed = `${env.runnerShortToken}\0${env.jobId}\0${env.tmpDir ?? ctx.cwd}`;
  const planFor = (publicKey: string): LaunchPlan => planLaunch(config, env, ctx.cli, overrides, publicKey, seed, deadline);
  planFor(''); // for its refusals (task size) now; the job's key comes later
  const jobImage = decideJobImage(config, env);
  if (jobImage.kind === 'ignored') log.progress(jobImage.line);
  const path = jobStatePath(ctx);
  const previous = readLeftover(ctx, path);
  const mayBeWarm = config.pools.length > 0 && config.poolDefaults.directory !== undefined && jobImage.kind !== 'honoured';
  return { ctx, planFor, jobImage, path, previous, mayBeWarm, started, ...(deadline === undefined ? {} : { deadline }) };
}

/**
 * The job's key pair and plan; an earlier attempt's task and claims stopped; the state file written before any task
 * or claim (an unwritable metadata directory fails here, and cleanup finds a claim this prepare leaves); the job
 * image's refusals (allow-lists, limits, port clashes) and its task definition.
 */
async function planJob(checked: CheckedJob, mux: JobMultiplexer, options: PrepareOptions): Promise<PlannedJob> {
  const { ctx, path, jobImage } = checked;
  const sleep = options.sleep ?? defaultSleep;
  const clients = lazyClients(ctx, options.clients);
  const [{ generateJobKeyPair }, transport] = await Promise.all([import('../ssh/keys.js'), options.transport ?? defaultTransport()]);
  const keys = generateJobKeyPair(`gitlab-fargate-job-${ctx.env.jobId}`);
  await settleLeftovers({ ctx, path, previous: checked.previous, clients, sleep });
  const initial = initialState(ctx, keys, checked.started, checked.deadline);
  writeState(path, initial);
  const plainPlan = checked.planFor(keys.publicKey);
  const image = jobImage.kind !== 'honoured' ? undefined : await (await import('../job-image/prepare-job-image.js')).planJobImageLaunch({
    ecs: (await clients()).ecs, config: ctx.config, env: ctx.env, request: jobImage.request, plan: plainPlan, publicKey: keys.publicKey,
    cacheFile: join(dirname(path), TASK_DEFINITION_CACHE_FILE), log: ctx.log, signal: ctx.signal, sleep,
  });
  return {
    ctx, clients, plan: image?.plan ?? plainPlan, path, initial, transport, mux, started: checked.started, sleep,
    now: options.now ?? Date.now,
    ...(image === undefined ? {} : { image }), ...(checked.deadline === undefined ? {} : { deadline: checked.deadline }),
  };
}

/** The job's AWS clients, created (the SDK loaded) when first asked for; the given ones in tests. */
function lazyClients(ctx: StageContext, given: AwsClients | undefined): () => Promise<AwsClients> {
  let clients: Promise<AwsClients> | undefined;
  return () => {
    clients ??= given !== undefined ? Promise.resolve(given) : import('../aws/clients.js').then((m) => m.createAwsClients(ctx.config.fargate.region));
    return clients;
  };
}

async function defaultTransport(): Promise<Transport> {
  return (await import('../ssh/connect.js')).sshTransport;
}

/** The warm path's view of the job. */
function warmInput(job: PlannedJob): WarmPrepareInput {
  return {
    ctx: job.ctx, ecs: async () => (await job.clients()).ecs, plan: job.plan, path: job.path, initial: job.initial,
    started: job.started, transport: job.transport, mux: job.mux, sleep: job.sleep, now: job.now,
    ...(job.deadline === undefined ? {} : { deadline: job.deadline }),
    // An image job is never warm: its derived family makes another pool key, and the warm path says so.
    ...(job.image === undefined ? {} : { imageHash: job.image.family }),
  };
}

/** The job's state before any task: key pair, SSH settings, and when the job can no longer be running. */
function initialState(ctx: StageContext, keys: JobKeyPair, started: number, deadline: Date | undefined): JobState {
  const { config, env } = ctx;
  return {
    version: 1,
    jobId: env.jobId,
    runnerShortToken: env.runnerShortToken,
    cluster: config.fargate.cluster,
    ...(config.fargate.region !== undefined ? { region: config.fargate.region } : {}),
    port: config.ssh.port,
    username: config.ssh.username,
    privateKey: keys.privateKey,
    publicKey: keys.publicKey,
    createdAt: new Date(started).toISOString(),
    ...(deadline !== undefined ? { expiresAt: deadline.toISOString() } : {}),
  };
}
