#!/usr/bin/env node
// Startup cost of the driver's cheapest stage, as gitlab-runner pays it for every job: wall time of
// `custom config` (tsc output and the esbuild bundle) against a bare `node -e 0`, median of N interleaved runs.
// Usage (in packages/driver, after compile and bundle): node scripts/startup.mjs [N=25]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const n = Number(process.argv[2] ?? 25);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'driver-startup-'));
const config = join(dir, 'driver.toml');
writeFileSync(config, '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "ci-job"\n');
const env = { ...process.env, CUSTOM_ENV_CI_JOB_ID: '1', CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'abc123xyz', BUILD_FAILURE_EXIT_CODE: '1', SYSTEM_FAILURE_EXIT_CODE: '2' };

const subjects = {
  'node -e 0': ['-e', '0'],
  'dist/cli.js custom config': [join(dist, 'cli.js'), '--config', config, 'custom', 'config'],
  ...(existsSync(join(dist, 'gitlab-fargate-driver.mjs'))
    ? { 'bundle custom config': [join(dist, 'gitlab-fargate-driver.mjs'), '--config', config, 'custom', 'config'] }
    : {}),
  ...(existsSync(join(dist, 'bundle/gitlab-fargate-driver.mjs'))
    ? { 'split bundle custom config': [join(dist, 'bundle/gitlab-fargate-driver.mjs'), '--config', config, 'custom', 'config'] }
    : {}),
};
const times = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
for (let i = 0; i < n; i++) {
  for (const [name, args] of Object.entries(subjects)) {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, args, { cwd: dir, env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) throw new Error(`${name} failed (${run.status}): ${run.stderr}`);
    times[name].push(ms);
  }
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];
const base = pct(times['node -e 0'], 0.5);
console.log(`node ${process.version}, ${n} runs each (interleaved)`);
for (const [name, xs] of Object.entries(times)) {
  const median = pct(xs, 0.5);
  const extra = name === 'node -e 0' ? '' : ` (+${(median - base).toFixed(0)} ms over node -e 0)`;
  console.log(`${name.padEnd(28)} median ${median.toFixed(0)} ms, p90 ${pct(xs, 0.9).toFixed(0)} ms${extra}`);
}
