import { IDLE_DEADLINE_VARIABLE } from '../src/render/ci-coordinator/pool-contract.js';
import { dockerAsync, startDetached, waitForLog } from './ci-coordinator.js';

/** sshd's line once it listens. */
export const SSHD_LISTENING = /Server listening on 0\.0\.0\.0 port 22/;
/** How many set-ups of a pool task are tried, the lead doubling each time. */
export const POOL_TASK_TRIES = 3;
/** Time allowed for a container start and sshd's listening line on a loaded machine, per try. */
const START_ALLOWANCE_MS = 60_000;
/**
 * How long past the deadline a set-up may still be waited for: by then it was too slow whatever it does, and a login
 * to a container the deadline stopped can otherwise hang until the client's own timeout.
 */
const PAST_DEADLINE_GRACE_MS = 5_000;

/** A warm-pool task: its container, SSH port, the deadline (epoch seconds) and the lead it was started with. */
export interface PoolTask {
  readonly id: string;
  readonly port: number;
  readonly deadline: number;
  readonly leadSeconds: number;
}

export interface PoolTaskOptions<T> {
  readonly image: string;
  /** The variables besides the deadline (the job key). */
  readonly env: Record<string, string>;
  readonly labels: Record<string, string>;
  /** Seconds from `docker run` to the deadline on the first try. */
  readonly leadSeconds: number;
  /** What the test needs done before the deadline once sshd listens (log in, claim, look at processes). */
  readonly prepare: (task: PoolTask) => Promise<T>;
  /**
   * How long before the deadline `prepare` must have ended, given what it returned: less left means the set-up was
   * too slow for the deadline to mean what the test says. @default 1000 (ms)
   */
  readonly marginMs?: (prepared: T) => number;
}

type Attempt<T> = { readonly task: PoolTask; readonly prepared: T } | { readonly task: PoolTask; readonly tooSlow: string };

/**
 * Starts a pool task and runs `prepare` on it once sshd listens. A set-up that ends within the margin of the deadline,
 * or fails after the deadline (sshd listening late, a login cut off by the deadline), says the machine was slow, not
 * that the image is wrong: that container is removed and a fresh one started with twice the lead, up to
 * {@link POOL_TASK_TRIES} times, each retry logged. A failure with time to spare fails at once.
 */
export async function startPoolTask<T>(options: PoolTaskOptions<T>): Promise<{ task: PoolTask; prepared: T }> {
  const reasons: string[] = [];
  for (let attempt = 1, leadSeconds = options.leadSeconds; ; attempt += 1, leadSeconds *= 2) {
    const outcome = await tryPoolTask(options, leadSeconds);
    if (!('tooSlow' in outcome)) {
      return outcome;
    }
    await dockerAsync(['rm', '-f', outcome.task.id]);
    reasons.push(`lead ${leadSeconds} s: ${outcome.tooSlow}`);
    if (attempt === POOL_TASK_TRIES) {
      throw new Error(`every pool task set-up was too slow for its deadline (${POOL_TASK_TRIES} tries):\n${reasons.join('\n')}`);
    }
    console.warn(`pool task set-up too slow with a ${leadSeconds} s lead, retrying with ${leadSeconds * 2} s: ${outcome.tooSlow.split('\n')[0]}`);
  }
}

async function tryPoolTask<T>(options: PoolTaskOptions<T>, leadSeconds: number): Promise<Attempt<T>> {
  const deadline = Math.floor(Date.now() / 1000) + leadSeconds;
  const started = await startDetached(options.image, { ...options.env, [IDLE_DEADLINE_VARIABLE]: String(deadline) }, options.labels);
  const task = { ...started, deadline, leadSeconds };
  const leftMs = (): number => deadline * 1000 - Date.now();
  let prepared: T;
  try {
    await waitForLog(task.id, SSHD_LISTENING, leadSeconds * 1000 + START_ALLOWANCE_MS);
    prepared = await withinMs(options.prepare(task), leftMs() + PAST_DEADLINE_GRACE_MS, 'the set-up (after sshd listened)');
  } catch (error) {
    if (leftMs() >= 0) {
      throw error;
    }
    return { task, tooSlow: `the set-up failed ${-leftMs()} ms after the deadline: ${(error as Error).message}` };
  }
  const marginMs = Math.round(options.marginMs?.(prepared) ?? 1_000);
  if (leftMs() < marginMs) {
    const log = await dockerAsync(['logs', task.id]);
    return { task, tooSlow: `ready ${leftMs()} ms before the deadline, under the ${marginMs} ms needed\n${log.stdout}${log.stderr}` };
  }
  return { task, prepared };
}

/** `promise`, or a rejection naming `what` once `timeoutMs` passed without it settling. */
async function withinMs<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${Math.round(timeoutMs)} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The most a test of pool tasks may take for its set-ups: every try's lead, with time to start each. */
export function poolTaskSetUpBudgetMs(leadSeconds: number): number {
  let total = 0;
  for (let attempt = 0; attempt < POOL_TASK_TRIES; attempt += 1) {
    total += leadSeconds * 2 ** attempt * 1000 + START_ALLOWANCE_MS;
  }
  return total;
}
