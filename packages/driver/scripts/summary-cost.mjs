#!/usr/bin/env node
// What the job's timeline and cost line add to the run stage that prints them (cleanup_file_variables), and what
// recording a stage's outcome adds to build_script: measured in fresh Node processes (cold, as gitlab-runner runs
// each stage), median of N. Counts only what the run stage did not already load and do: the metrics/cost modules,
// reading the state file, computing and printing the lines (and, for build_script, the state file write).
// Usage (in packages/driver, after compile): node scripts/summary-cost.mjs [N=21] [--json]
// --json prints the medians as one JSON object (ms of wall time: load, summary, record; ms of CPU time: loadCpu,
// summaryCpu), which tools/bench's run-summary suite reads.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const json = args.includes('--json');
const n = Number(args.find((arg) => arg !== '--json') ?? 21);
if (!Number.isInteger(n) || n < 1) throw new Error(`summary-cost: N must be a whole number of runs, 1 or more; got ${args.join(' ')}`);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const child = `
const { mkdtempSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { PassThrough } = await import('node:stream');
const { parseDriverConfig } = await import('@gitlab-fargate/config');
const { readJobEnvironment } = await import('${dist}job/environment.js');
const { createLogger } = await import('${dist}log.js');
const { writeState } = await import('${dist}job/state.js');
const { jobStatePath } = await import('${dist}stages/context.js');
await import('${dist}errors.js');
const cwd = mkdtempSync(join(tmpdir(), 'summary-cost-'));
const config = parseDriverConfig('[Fargate]\\nCluster = "ci"\\nSubnets = ["subnet-0123456789abcdef0"]\\nTaskDefinition = "ci:1"\\n[TaskMetadata]\\nDirectory = "' + join(cwd, 'state') + '"\\n', { file: 'x.toml' }).config;
const env = readJobEnvironment({ CUSTOM_ENV_CI_JOB_ID: '42', CUSTOM_ENV_CI_RUNNER_SHORT_TOKEN: 'abc123xyz' });
const stdout = new PassThrough(); stdout.resume();
const ctx = { config, env, cli: {}, log: createLogger({ sink: { write() {} }, progress: { write() {} } }), stdout, stderr: stdout, signal: new AbortController().signal, cwd };
const t = (s) => new Date(Date.parse('2026-12-03T04:00:00Z') + s * 1000).toISOString();
writeState(jobStatePath(ctx), { version: 1, jobId: '42', runnerShortToken: 'abc123xyz', cluster: 'ci', taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ci/0f1e2d3c4b5a69788796a5b4c3d2e1f0', address: '10.0.0.1', hostKey: 'AAAA', port: 22, username: 'root', privateKey: 'k'.repeat(400), publicKey: 'p', createdAt: t(0),
  metrics: { runTaskSentAt: t(0.3), runTaskReturnedAt: t(0.7), taskCreatedAt: t(0.6), pullStartedAt: t(2.7), pullStoppedAt: t(6.1), taskStartedAt: t(6.9), runningSeenAt: t(7), readyAt: t(7.3), cpu: 1024, memoryMiB: 2048, ephemeralGiB: 20, capacity: 'FARGATE', architecture: 'X86_64' } });
const cpu = (usage) => (usage.user + usage.system) / 1000;
const a = performance.now();
const usageA = process.cpuUsage();
const { afterRunStage } = await import('${dist}stages/run-summary.js');
const b = performance.now();
const loadCpu = cpu(process.cpuUsage(usageA));
const usageB = process.cpuUsage();
await afterRunStage(ctx, 'cleanup_file_variables', undefined);
const c = performance.now();
const summaryCpu = cpu(process.cpuUsage(usageB));
await afterRunStage(ctx, 'build_script', undefined);
const d = performance.now();
process.stdout.write(JSON.stringify({ load: b - a, summary: c - b, record: d - c, loadCpu, summaryCpu }));
`;
const runs = [];
for (let i = 0; i < n; i++) {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', child], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`measurement failed: ${run.stderr}`);
  runs.push(JSON.parse(run.stdout));
}
const median = (key) => runs.map((r) => r[key]).sort((x, y) => x - y)[Math.floor(n / 2)];
const fmt = (ms) => `${ms.toFixed(2)} ms`;
if (json) {
  const medians = Object.fromEntries(['load', 'summary', 'record', 'loadCpu', 'summaryCpu'].map((key) => [key, median(key)]));
  process.stdout.write(`${JSON.stringify({ node: process.version, runs: n, ...medians })}\n`);
  process.exit(0);
}
console.log(`node ${process.version}, ${n} fresh processes, medians`);
console.log(`every run stage: the outcome-recording modules ${fmt(median('load'))}`);
console.log(`cleanup_file_variables: + the summary's modules, timeline and cost line ${fmt(median('summary'))} = ${fmt(median('load') + median('summary'))} in all`);
console.log(`build_script: + recording its outcome (state read + atomic write) ${fmt(median('record'))}`);
