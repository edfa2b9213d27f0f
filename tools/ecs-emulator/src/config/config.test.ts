import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSelector, parseStartArgs } from './cli-args.js';
import { validateConfigFile } from './validate.js';

describe('config file validation', () => {
  it('accepts a full config', () => {
    const config = {
      port: 4599,
      phases: { provisioningMs: 10 },
      throttling: { enabled: true, buckets: { clusterResourceRead: { burst: 5, refillPerSecond: 1 } } },
      faults: {
        capacityUnavailable: { FARGATE_SPOT: { probability: 0.3 } },
        vcpuLimit: 4,
        startFailure: { error: 'CannotPullContainerError', count: 1 },
        slowProvisioning: { extraMs: 5000, count: 2 },
        missingDescribes: 1,
        spotInterruption: { afterRunningMs: 1000, noticeMs: 2000 },
        lateSshd: { delayMs: 3000, probability: 0.1 },
      },
    };
    expect(validateConfigFile(config)).toEqual(config);
  });

  it('names the offending key and what is expected', () => {
    expect(() => validateConfigFile({ prot: 1 })).toThrow('config.prot: unknown setting; allowed: port, host');
    expect(() => validateConfigFile({ port: 70000 })).toThrow('config.port: expected an integer from 0 to 65535, got 70000');
    expect(() => validateConfigFile({ faults: { capacityUnavailable: { EC2: {} } } })).toThrow(/config\.faults\.capacityUnavailable\.EC2: unknown setting/);
    expect(() => validateConfigFile({ faults: { lateSshd: { probability: 2, delayMs: 1 } } })).toThrow(/lateSshd\.probability: expected a number from 0 to 1/);
    expect(() => validateConfigFile({ accountId: '12' })).toThrow(/accountId: expected 12 digits/);
    expect(() => validateConfigFile([])).toThrow(/expected a JSON object/);
  });
});

describe('CLI arguments', () => {
  it('parses selectors', () => {
    expect(parseSelector('FARGATE_SPOT', 'f')).toEqual({ value: 'FARGATE_SPOT', selector: {} });
    expect(parseSelector('FARGATE:count=3', 'f')).toEqual({ value: 'FARGATE', selector: { count: 3 } });
    expect(parseSelector('500:p=0.25', 'f')).toEqual({ value: '500', selector: { probability: 0.25 } });
    expect(() => parseSelector('x:often', '--late-sshd')).toThrow("--late-sshd: expected :count=N or :p=P after 'x', got ':often'");
  });

  it('lays flags over the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecs-emulator-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ port: 5000, region: 'eu-west-1', faults: { vcpuLimit: 8 }, phases: { pendingMs: 7 } }));
    const parsed = parseStartArgs([
      '--config', file, '--port', '0', '--phase', 'provisioning=20', '--no-throttling', '--capacity-unavailable', 'FARGATE_SPOT:p=0.5',
      '--start-failure', 'ResourceInitializationError:count=1', '--late-sshd', '2000', '--spot-interruption', '100:count=1', '--spot-notice-ms', '50',
      '--missing-describes', '2', '--slow-provisioning', '3000:p=0.1', '--server-error', 'DescribeTasks:count=2', '--access-denied', 'all',
    ]);
    expect(parsed).toEqual({
      quiet: false,
      config: {
        port: 0,
        region: 'eu-west-1',
        phases: { pendingMs: 7, provisioningMs: 20 },
        throttling: { enabled: false },
        faults: {
          vcpuLimit: 8,
          capacityUnavailable: { FARGATE_SPOT: { probability: 0.5 } },
          startFailure: { count: 1, error: 'ResourceInitializationError' },
          lateSshd: { delayMs: 2000 },
          spotInterruption: { count: 1, afterRunningMs: 100, noticeMs: 50 },
          missingDescribes: 2,
          slowProvisioning: { probability: 0.1, extraMs: 3000 },
          serverError: { count: 2, operations: ['DescribeTasks'] },
          accessDenied: {},
        },
      },
    });
  });

  it('rejects bad flags before anything starts', () => {
    expect(parseStartArgs(['--help'])).toBe('help');
    expect(() => parseStartArgs(['--port', 'eighty'])).toThrow("--port: expected a whole number, got 'eighty'");
    expect(() => parseStartArgs(['--phase', 'warmup=5'])).toThrow(/--phase: expected NAME=MS/);
    expect(() => parseStartArgs(['--start-failure', 'Oops'])).toThrow(/startFailure\.error/);
    expect(() => parseStartArgs(['--config', '/nonexistent/file.json'])).toThrow(/--config: cannot read/);
    expect(() => parseStartArgs(['--what'])).toThrow(/Unknown option/);
  });
});
