import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { RunnerManager } from '../src';

describe('RunnerManager.RUNNER_IDENTITY_VARIABLE', () => {
  test("is the driver's RUNNER_IDENTITY_VARIABLE, the one variable the driver trusts for the runner's identity", () => {
    // jsii packages cannot depend on the driver: its source is the one home of the name.
    const source = fs.readFileSync(path.resolve(__dirname, '../../driver/src/job/environment.ts'), 'utf8');
    const driverName = /^export const RUNNER_IDENTITY_VARIABLE = '([A-Z0-9_]+)';$/m.exec(source)?.[1];
    expect(driverName).toBe(RunnerManager.RUNNER_IDENTITY_VARIABLE);
  });
});
