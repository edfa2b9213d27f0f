import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDriverConfig, parseRunnerConfig } from '@gitlab-fargate/config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configCliStatus } from '../../test/config-cli.js';
import { renderConfiguration, type RenderTargets } from './rerender.js';
import { MANAGER_BASE_ENVIRONMENT, testTargets } from '../../test/manager-fixtures.js';

configCliStatus();

describe('renderConfiguration', () => {
  let dir: string;
  let targets: RenderTargets;
  let env: Record<string, string>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manager-render-'));
    targets = testTargets(dir);
    env = { ...MANAGER_BASE_ENVIRONMENT, METADATA_DIR: dir };
    expect(await renderConfiguration(env, targets)).toEqual({ ok: true, replaced: [targets.driverConfigPath, targets.runnerConfigPath] });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces only the file whose content changes, keeping its mode, and leaves no temporary file', async () => {
    await chmod(targets.runnerConfigPath, 0o640);
    const driverBefore = await stat(targets.driverConfigPath);
    const runnerBefore = await stat(targets.runnerConfigPath);

    expect(await renderConfiguration({ ...env, CONCURRENT: '8' }, targets)).toEqual({ ok: true, replaced: [targets.runnerConfigPath] });

    expect(parseRunnerConfig(await readFile(targets.runnerConfigPath, 'utf8')).config.concurrent).toBe(8);
    const runnerAfter = await stat(targets.runnerConfigPath);
    expect(runnerAfter.ino).not.toBe(runnerBefore.ino); // a new file renamed over the old: never a torn read
    expect(runnerAfter.mode & 0o777).toBe(0o640);
    expect((await stat(targets.driverConfigPath)).ino).toBe(driverBefore.ino);
    expect((await readdir(dir)).sort()).toEqual(['config.toml', 'fargate.toml']);
  });

  it('writes nothing when the same settings render again, so gitlab-runner does not reload for nothing', async () => {
    const before = await Promise.all([stat(targets.driverConfigPath), stat(targets.runnerConfigPath)]);
    expect(await renderConfiguration(env, targets)).toEqual({ ok: true, replaced: [] });
    const after = await Promise.all([stat(targets.driverConfigPath), stat(targets.runnerConfigPath)]);
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
  });

  it('writes neither file when one setting is invalid, and says which', async () => {
    const before = await Promise.all([readFile(targets.driverConfigPath, 'utf8'), readFile(targets.runnerConfigPath, 'utf8')]);
    const outcome = await renderConfiguration({ ...env, MAX_CPU: '1024', CONCURRENT: 'many' }, targets);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.message).toMatch(/^render runner failed: .*--concurrent \(CONCURRENT\)/);
    expect(await readFile(targets.runnerConfigPath, 'utf8')).toBe(before[1]);
    // The driver TOML rendered fine (MAX_CPU) but is not replaced alone: both or neither.
    expect(await readFile(targets.driverConfigPath, 'utf8')).toBe(before[0]);
    expect(parseDriverConfig(before[0] ?? '').config.overrides.maxCpu).toBeUndefined();
    expect((await readdir(dir)).sort()).toEqual(['config.toml', 'fargate.toml']);
  });
});
