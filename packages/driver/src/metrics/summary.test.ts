import { describe, expect, it } from 'vitest';
import { TaskObserver } from './observe.js';
import { jobSummary } from './summary.js';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const T0 = Date.parse('2026-12-03T04:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const NO_OVERRIDE = { discountPercent: 0 };

/** What prepare records for a task that ECS describes with fixed timestamps (as DescribeTasks returns them: Dates). */
function observed(
  change: { capacityProviderName?: string; architecture?: string; ephemeral?: number; cpu?: string; memory?: string } = {},
) {
  let clock = T0;
  const observer = new TaskObserver(() => clock);
  clock = T0 + 300;
  observer.runTaskSent();
  clock = T0 + 700;
  const described = {
    taskArn: ARN,
    cpu: change.cpu ?? '1024',
    memory: change.memory ?? '2048',
    createdAt: at(0.6),
    ...(change.capacityProviderName !== undefined ? { capacityProviderName: change.capacityProviderName } : { launchType: 'FARGATE' as const }),
    attributes: [{ name: 'ecs.cpu-architecture', value: change.architecture ?? 'x86_64' }],
    ...(change.ephemeral !== undefined ? { ephemeralStorage: { sizeInGiB: change.ephemeral } } : {}),
  };
  observer.runTaskReturned({ ...described, lastStatus: 'PROVISIONING' });
  observer.see({ ...described, lastStatus: 'PENDING', pullStartedAt: at(2.7) });
  clock = T0 + 7_000;
  observer.see({ ...described, lastStatus: 'RUNNING', pullStartedAt: at(2.7), pullStoppedAt: at(6.1), startedAt: at(6.9) });
  clock = T0 + 7_300;
  observer.ready();
  return { createdAt: new Date(T0).toISOString(), taskArn: ARN, metrics: observer.snapshot() };
}

describe('jobSummary: the timeline and cost line at the end of the job log', () => {
  it('shows each step of the start from ECS\'s and the driver\'s times, and the cost so far with the one-minute minimum', () => {
    expect(jobSummary(observed(), T0 + 45_200, NO_OVERRIDE)).toEqual([
      'Fargate task timeline (seconds after prepare started):',
      '      0.0  prepare started',
      '      0.3  RunTask sent',
      '      0.6  task created (ECS)',
      '      0.7  task accepted by ECS          launch 0.7 s',
      '      2.7  image pull started (ECS)      provisioning 2.1 s',
      '      6.1  image pull finished (ECS)     image pull 3.4 s',
      '      6.9  container started (ECS)       container start 0.8 s',
      '      7.0  RUNNING seen by the driver',
      '      7.3  SSH ready: the job starts     readiness lag 0.4 s',
      '     45.2  now (this stage)              script and stages 37.9 s so far',
      '  start latency 7.3 s (prepare started → SSH ready)',
      // Billed from the pull's start (2.7 s) to now (45.2 s): 42.5 s, so the minimum.
      'Fargate cost so far: 60 s (the one-minute minimum) × 1 vCPU, 2 GB: 60 vCPU-s, 120 GB-s; on-demand x86 in us-east-1; ' +
        "≈ $0.00082 (estimate; prices: AWS's AmazonECS price list (offer of 2026-09-11) as checked by github.com/theuves/fgcalc, " +
        'https://github.com/theuves/fgcalc/blob/main/src/utils/data.js, as of 2026-09-29)',
    ]);
  });

  it('bills per second past the minute, Spot at the Spot rate, ARM at ARM rates, storage beyond 20 GiB', () => {
    const lines = jobSummary(observed({ capacityProviderName: 'FARGATE_SPOT', architecture: 'arm64', ephemeral: 50, cpu: '2048', memory: '4096' }), T0 + 602_700, NO_OVERRIDE);
    const cost = lines.at(-1) as string;
    // 600 s from the pull's start; 2 vCPU × 600 = 1200 vCPU-s; 4 GB × 600 = 2400 GB-s; 30 GB × 600 = 18000 GB-s of storage.
    expect(cost).toMatch(/^Fargate cost so far: 600 s × 2 vCPU, 4 GB: 1200 vCPU-s, 2400 GB-s, 18000 GB-s of storage beyond 20 GiB \(50 GiB\); Fargate Spot ARM in us-east-1; ≈ \$(\d\.\d+) /);
    const dollars = Number(/\$(\d\.\d+)/.exec(cost)?.[1]);
    expect(dollars).toBeCloseTo((1200 * 0.03238 * 0.3 + 2400 * 0.00356 * 0.3 + 18000 * 0.000111) / 3600, 4);
    // No Spot price is known: the line says the Spot figure is an estimate, where the 30% comes from, and how to set it.
    expect(cost).toContain(
      '(estimate; Spot taken as 30% of on-demand (AWS: "up to a 70% discount", https://aws.amazon.com/fargate/pricing/); ' +
        'the live Spot price varies by region and time, [Pricing] Spot keys set it; prices: ',
    );
  });

  it('names the [Pricing] keys for ARM in a region whose table has only the x86 price', () => {
    const job = { ...observed({ architecture: 'arm64' }), taskArn: ARN.replace('us-east-1', 'eu-central-1') };
    expect(jobSummary(job, T0 + 70_000, NO_OVERRIDE).at(-1)).toBe(
      'Fargate cost so far: 68 s × 1 vCPU, 2 GB: 68 vCPU-s, 136 GB-s; on-demand ARM in eu-central-1; ' +
        "no on-demand ARM price for eu-central-1 in the driver's table: set ArmVcpuHour, ArmGbHour in [Pricing] (driver TOML) for dollars",
    );
  });

  it('names the [Pricing] keys to set in a region without prices, and says so when prepare recorded no size', () => {
    const job = { ...observed(), taskArn: ARN.replace('us-east-1', 'mx-central-1') };
    expect(jobSummary(job, T0 + 70_000, NO_OVERRIDE).at(-1)).toBe(
      'Fargate cost so far: 68 s × 1 vCPU, 2 GB: 68 vCPU-s, 136 GB-s; on-demand x86 in mx-central-1; ' +
        "no on-demand x86 price for mx-central-1 in the driver's table: set VcpuHour, GbHour in [Pricing] (driver TOML) for dollars",
    );
    expect(jobSummary({ createdAt: new Date(T0).toISOString(), metrics: 'garbage' }, T0 + 1000, NO_OVERRIDE)).toEqual([
      'Fargate task timeline (seconds after prepare started):',
      '      0.0  prepare started',
      '      1.0  now (this stage)',
      "Fargate cost so far: unknown (the task's size was not recorded)",
    ]);
  });

  it('says when the task came from the warm pool', () => {
    const warm = { createdAt: new Date(T0).toISOString(), metrics: { readyAt: new Date(T0 + 400).toISOString() }, pool: { name: 'warm', claimMs: 2 } };
    expect(jobSummary(warm, T0 + 1000, NO_OVERRIDE)).toContain('  warm start: an idle task of pool warm, claimed in 2 ms');
  });
});
