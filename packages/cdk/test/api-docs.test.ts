import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';

const packageDir = path.join(__dirname, '..');

describe('API.md', () => {
  // Generated from the TSDoc of the compiled assembly (.jsii): the reference users read must be the code's own.
  test('is what jsii-docgen makes of the current assembly (regenerate: npx projen docgen)', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-api-')), 'API.md');
    execFileSync(process.execPath, [path.join(packageDir, 'scripts/docgen.mjs'), out], { cwd: packageDir, timeout: 120_000 });
    const committed = fs.readFileSync(path.join(packageDir, 'API.md'), 'utf8');
    expect(committed === fs.readFileSync(out, 'utf8'), 'API.md is stale: run `npx projen docgen` in packages/cdk').toBe(true);
  }, 180_000);

  test('documents every construct the package exports', () => {
    const api = fs.readFileSync(path.join(packageDir, 'API.md'), 'utf8');
    for (const name of ['RunnerEnvironment', 'JobTask', 'OrphanReaper', 'RunnerMonitoring', 'RunnerVpcEndpoints', 'GitLabOidcDeployRole']) {
      expect(api).toContain(`### ${name} <a name="${name}"`);
    }
  });
});
