import { createHash } from 'node:crypto';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { JOB_CONTAINER_NAME } from '@gitlab-fargate/config';
import type { LocalStack } from '@gitlab-fargate/local-stack';
import { runJob, type RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { CapturedLog, NumberedLineChecker, describeAllTasks, discard, job, waitForNothingLeft } from '../index.js';

// Whole jobs through the runner harness (gitlab-runner's side of the custom executor), the compiled driver CLI,
// the ECS emulator and the real ci-coordinator image: one stack for the file (the emulator's reset() would also
// forget the stack's cluster and task definition, so tests tell their own tasks apart by ARN instead).
let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

const nothingLeft = { runningTasks: [], containers: [], metadataFiles: [] };

describe('a job through the driver', () => {
  it('runs every stage, reports the script exit code 3 as a script failure, and leaves nothing behind', async () => {
    const log = new CapturedLog();
    const result = await runJob({
      runner,
      env: stack.env,
      log,
      runnerLog: discard,
      prepareAttempts: 1,
      job: job({
        script: ['echo "build on $(hostname)"', 'test -n "$CI_JOB_ID"', 'exit 3'],
        afterScript: ['echo "after_script sees $CI_JOB_STATUS"'],
        // gitlab-runner calls the cache and artifact stages only for a job that has them: these make it call
        // every stage a failed job can get.
        cache: { paths: ['vendor/'], when: 'always' },
        artifacts: { paths: ['report.txt'], when: 'always' },
        dependencies: ['build'],
      }),
    });

    expect(result.outcome, log.text).toBe('script_failure');
    // The harness read 3 from BUILD_EXIT_CODE_FILE: the driver exited with BUILD_FAILURE_EXIT_CODE and wrote it.
    expect(result.exitCode).toBe(3);
    const phases = result.timings.map((t) => [t.phase, t.exitCode]);
    expect(phases).toEqual([
      ['config', 0],
      ['prepare', 0],
      ['prepare_script', 0],
      ['get_sources', 0],
      ['restore_cache', 0],
      ['download_artifacts', 0],
      ['build_script', 1],
      ['after_script', 0],
      ['archive_cache_on_failure', 0],
      ['upload_artifacts_on_failure', 0],
      ['cleanup_file_variables', 0],
      ['cleanup', 0],
    ]);
    expect(log.text).toMatch(/Task arn:aws:ecs:eu-west-1:\d+:task\/gitlab-runner-dev\/\w+ created/);
    expect(log.text).toContain('build on ');
    expect(log.text).toContain('after_script sees failed');
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('runs a 1 MiB script (a single heredoc command) intact', async () => {
    // 16 384 lines of 63 characters + newline = 1 MiB exactly; the harness echoes the command too, so the
    // script the driver streams is over 2 MiB: far beyond what an argv or environment variable carries.
    const body = Array.from({ length: 16_384 }, (_, i) => `${String(i).padStart(5, '0')} ${'x'.repeat(57)}`).join('\n') + '\n';
    expect(body.length).toBe(1024 * 1024);
    const expected = createHash('sha256').update(body).digest('hex');
    const log = new CapturedLog();
    const result = await runJob({
      runner, env: stack.env, log, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: [`cat > /tmp/big.txt <<'END_OF_BIG'\n${body}END_OF_BIG`, 'sha256sum /tmp/big.txt', 'wc -c < /tmp/big.txt'] }),
    });
    expect(result.outcome, log.text.slice(-3000)).toBe('success');
    expect(log.text).toContain(`${expected}  /tmp/big.txt`);
    expect(log.text).toMatch(/^1048576$/m);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });

  it('streams 50 MiB of output through custom run intact and in order', async () => {
    // 524 288 numbered lines of about 100 bytes, checked one by one as they arrive (nothing kept in memory).
    const lines = 512 * 1024;
    const payload = 'y'.repeat(93);
    const checker = new NumberedLineChecker(payload);
    const result = await runJob({
      runner, env: stack.env, log: checker, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: [`awk 'BEGIN { for (i = 1; i <= ${lines}; i++) print i, "${payload}" }'`] }),
    });
    expect(result.outcome).toBe('success');
    expect(checker.problem).toBeUndefined();
    expect(checker.count).toBe(lines);
    expect(checker.bytes).toBeGreaterThanOrEqual(50 * 1024 * 1024);
  });
});

describe('per-job overrides (CUSTOM_ENV_*)', () => {
  it('runs an allowed FARGATE_TASK_DEFINITION and refuses another before RunTask, naming the variable and the rule', async () => {
    await stack.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'gitlab-runner-dev-large',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      containerDefinitions: [{ name: JOB_CONTAINER_NAME, image: stack.image, essential: true, portMappings: [{ containerPort: 22, protocol: 'tcp' }] }],
    }));
    await stack.rewriteDriverConfig({ extraTables: '\n[Overrides]\n  TaskDefinitions = ["gitlab-runner-dev-*"]\n' });

    const before = new Set((await describeAllTasks(stack)).map((t) => t.taskArn));
    const allowed = new CapturedLog();
    const ok = await runJob({
      runner, env: stack.env, log: allowed, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: ['echo on the large task'], variables: { FARGATE_TASK_DEFINITION: 'gitlab-runner-dev-large' } }),
    });
    expect(ok.outcome, allowed.text).toBe('success');
    const tasks = (await describeAllTasks(stack)).filter((t) => !before.has(t.taskArn));
    expect(tasks.map((t) => t.taskDefinitionArn)).toEqual([expect.stringMatching(/:task-definition\/gitlab-runner-dev-large:1$/)]);
    expect(tasks[0]?.cpu).toBe('1024');

    const seen = (await describeAllTasks(stack)).length;
    const refusedLog = new CapturedLog();
    const refused = await runJob({
      runner, env: stack.env, log: refusedLog, runnerLog: discard, prepareAttempts: 1,
      job: job({ script: ['echo never'], variables: { FARGATE_TASK_DEFINITION: 'production-deployer' } }),
    });
    expect(refused.outcome).toBe('system_failure');
    expect(refused.timings.find((t) => t.phase === 'prepare')?.exitCode).toBe(2);
    expect(refusedLog.text).toContain('FARGATE_TASK_DEFINITION');
    expect(refusedLog.text).toContain('gitlab-runner-dev-*');
    expect(refusedLog.text).not.toContain('echo never');
    // Refused before RunTask: the emulator never saw a task.
    expect(await describeAllTasks(stack)).toHaveLength(seen);
    expect(await waitForNothingLeft(stack)).toEqual(nothingLeft);
  });
});
