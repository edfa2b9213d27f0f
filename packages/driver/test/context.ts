import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseDriverConfig } from '@gitlab-fargate/config';
import { readJobEnvironment } from '../src/job/environment.js';
import { createLogger, memorySink } from '../src/log.js';
import type { StageContext } from '../src/stages/context.js';

/** A driver TOML with everything a stage needs; `extra` is appended (tables after `[Fargate]`). */
export function driverToml(options: { stateDir: string; sshPort?: number; fargate?: string; extra?: string }): string {
  return [
    '[Fargate]',
    'Cluster = "ci"',
    'Region = "us-east-1"',
    'Subnets = ["subnet-0123456789abcdef0", "subnet-1123456789abcdef0"]',
    'SecurityGroups = ["sg-0123456789abcdef0"]',
    'TaskDefinition = "ci-job:3"',
    options.fargate ?? '',
    '[TaskMetadata]',
    `Directory = "${options.stateDir}"`,
    '[SSH]',
    `Port = ${options.sshPort ?? 22}`,
    '[Timeouts]',
    'TaskPollInterval = 0.1',
    'SSHPollInterval = 0.2',
    options.extra ?? '',
  ].join('\n');
}

/** A stage context over a temp dir, with output captured in memory. */
export function testContext(
  options: { toml?: string; env?: Record<string, string>; signal?: AbortSignal; sshPort?: number; fargate?: string; extra?: string } = {},
) {
  const cwd = mkdtempSync(join(tmpdir(), 'driver-stage-'));
  const stateDir = join(cwd, 'state');
  const toml = options.toml ?? driverToml({ stateDir, sshPort: options.sshPort, fargate: options.fargate, extra: options.extra });
  const logs = memorySink();
  const progress = memorySink();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ctx: StageContext = {
    config: parseDriverConfig(toml, { file: 'test.toml' }).config,
    env: readJobEnvironment({
      CUSTOM_ENV_CI_JOB_ID: '42',
      CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'abc123xyz',
      CUSTOM_ENV_CI_PROJECT_PATH: 'group/project',
      TMPDIR: cwd,
      ...options.env,
    }),
    cli: {},
    log: createLogger({ level: 'debug', sink: logs, progress }),
    stdout,
    stderr,
    signal: options.signal ?? new AbortController().signal,
    cwd,
  };
  return { ctx, cwd, stateDir, logs, progress, output: () => ({ stdout: out, stderr: err }) };
}
