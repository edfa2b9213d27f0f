import { describe, expect, it } from 'vitest';
import { allIssuesOf, issuesOf } from '../../test-support.js';
import { parseDriverConfig } from '../parse.js';
import { renderDriverConfig } from '../render.js';

const BASE = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-coordinator:7"\n[TaskMetadata]\nDirectory = "/var/lib/gf"\n';
const parse = (text: string) => parseDriverConfig(text, { file: 'f.toml' });

describe('[[Pool]] and [PoolSettings]', () => {
  it('has no pool by default, and its settings default under [TaskMetadata] Directory', () => {
    const { config } = parse(BASE);
    expect(config.pools).toEqual([]);
    expect(config.poolDefaults).toEqual({ directory: '/var/lib/gf/pool', reconcileInterval: 20, claimMargin: 120 });
  });

  it('reads pools with policies, case-insensitively, and renders them back the same', () => {
    const text =
      `${BASE}[[Pool]]\nname = "default"\nIdleCount = 1\nIdleTime = 900\nMaxIdle = 5\nMaxAge = 7200\n` +
      `[[Pool.Policy]]\nPeriods = ["* 8-17 * * mon-fri"]\nTimezone = "Europe/Berlin"\nIdleCount = 3\n` +
      `[[Pool.Policy]]\nperiods = ["* 12 * * *", "*/5 0 1 1 *"]\nIdleCount = 0\nIdleTime = 300\n` +
      `[[Pool]]\nName = "nights"\n[PoolSettings]\nDirectory = "/run/gf-pool"\nReconcileInterval = 15\nClaimMargin = 60\nMetricsPort = 9402\n`;
    const { config } = parse(text);
    expect(config.pools).toEqual([
      {
        name: 'default',
        idleCount: 1,
        idleTime: 900,
        maxIdle: 5,
        maxAge: 7200,
        policies: [
          { periods: ['* 8-17 * * mon-fri'], timezone: 'Europe/Berlin', idleCount: 3 },
          { periods: ['* 12 * * *', '*/5 0 1 1 *'], timezone: 'UTC', idleCount: 0, idleTime: 300 },
        ],
      },
      { name: 'nights', idleCount: 0, idleTime: 1200, maxIdle: 10, maxAge: 14_400, policies: [] },
    ]);
    expect(config.poolDefaults).toEqual({ directory: '/run/gf-pool', reconcileInterval: 15, claimMargin: 60, metricsPort: 9402 });
    const again = parse(renderDriverConfig(config)).config;
    expect(again.pools).toEqual(config.pools);
    expect(again.poolDefaults).toEqual(config.poolDefaults);
  });

  it('says what is wrong with a period, a time zone, a name or a count, and how to fix it', () => {
    const text =
      `${BASE}[[Pool]]\nName = "bad name"\nIdleCount = 101\n[[Pool.Policy]]\nPeriods = ["* 8-17 * * mon-fri *"]\nTimezone = "Europe/Berlim"\nIdleCount = 1\n` +
      `[[Pool.Policy]]\nPeriods = ["61 * * * *"]\n`;
    const issues = issuesOf(() => parse(text)).join('\n');
    expect(issues).toContain('Pool[0].Name: expected a pool name');
    expect(issues).toContain('Pool[0].IdleCount: expected a number of idle tasks from 0 to 100, found 101');
    expect(issues).toMatch(/Pool\[0\]\.Policy\[0\]\.Periods\[0\]: .*has 6 fields; a period has five.*no seconds or year field/);
    expect(issues).toMatch(/Pool\[0\]\.Policy\[0\]\.Timezone: expected an IANA time zone.*"Europe\/Berlim".*tz database/);
    expect(issues).toMatch(/Pool\[0\]\.Policy\[1\]\.Periods\[0\]: .*minute field's "61" is outside 0-59/);
    expect(issues).toMatch(/Pool\[0\]\.Policy\[1\]\.IdleCount: expected .*found nothing/);
  });

  it('refuses two pools of one name, and a pool without a state directory', () => {
    expect(issuesOf(() => parse(`${BASE}[[Pool]]\nName = "a"\n[[Pool]]\nName = "a"\n`)).join('\n')).toMatch(/Pool\[1\]\.Name: expected each pool Name once/);
    const noDir = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-coordinator:7"\n[[Pool]]\nName = "a"\n';
    expect(issuesOf(() => parse(noDir)).join('\n')).toMatch(/PoolSettings\.Directory: expected a pool state directory.*set \[TaskMetadata\] Directory/);
  });

  it('warns when an IdleCount exceeds MaxIdle', () => {
    const issues = allIssuesOf(() => parse(`${BASE}[[Pool]]\nName = "a"\nMaxIdle = 2\n[[Pool.Policy]]\nIdleCount = 3\n`));
    expect(issues.join('\n')).toMatch(/Pool\[0\]\.Policy\[0\]\.IdleCount: expected at most MaxIdle \(2\), found 3; the keeper keeps at most 2/);
  });
});
