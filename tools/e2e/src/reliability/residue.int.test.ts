import type { LocalStack } from '@gitlab-fargate/local-stack';
import type { RunnerSettings } from '@gitlab-fargate/runner-harness';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../shared-stack.js';
import { leftovers, waitForNothingLeft } from '../index.js';
import { ProtocolJob } from './driver-stage.js';
import { findResidue, noResidue, settleResidue } from './residue.js';

// Every "nothing left" check of the e2e tests is findResidue (reliability) or leftovers (driver) coming back
// empty. Empty proves nothing if a pattern cannot match (a wrong label, directory or command name): here each kind
// of leftover is first found on a live job, mid-script, and then gone after cleanup.
let stack: LocalStack;
let runner: RunnerSettings;

useLocalStack((started, settings) => {
  stack = started;
  runner = settings;
});

describe('findResidue and leftovers', () => {
  it('find the task, its container, the state file, its private key and the driver process of a live job', async () => {
    const job = await ProtocolJob.create(stack, runner);
    try {
      const prepared = await job.start('prepare').exited;
      expect(prepared.code, prepared.output).toBe(0);
      const run = await job.startRun(['echo script-started', 'sleep 60']);
      await run.waitFor(/^script-started$/m);

      const live = await findResidue(stack, [job.tmpDir]);
      const liveLeftovers = await leftovers(stack);
      expect(liveLeftovers.runningTasks, 'leftovers: the job task').toHaveLength(1);
      expect(liveLeftovers.containers, 'leftovers: the task container').toEqual(live.containers);
      expect(liveLeftovers.metadataFiles, 'leftovers: the state file and socket').toEqual(live.stateFiles);
      expect(live.tasks, 'the job task').toEqual([expect.stringMatching(/^[0-9a-f]{8}:RUNNING$/)]);
      expect(live.containers.length, 'the task container').toBeGreaterThan(0);
      const stateFile = live.stateFiles.find((name) => name.endsWith('.json'));
      expect(stateFile, `the job state file among ${live.stateFiles.join(', ')}`).toBeDefined();
      expect(live.stateFiles, "the multiplexer's socket beside it").toContain(stateFile!.replace(/\.json$/, '.sock'));
      expect(live.privateKeys, 'the key in the state file').toEqual([`${stack.metadataDirectory}/${stateFile}`]);
      expect(live.processes.length, 'the SSH multiplexer').toBeGreaterThan(0);

      run.kill('SIGTERM');
      await run.exited;
      const cleanup = await job.start('cleanup').exited;
      expect(cleanup.code, cleanup.output).toBe(0);
      expect(await settleResidue(stack, [job.tmpDir])).toEqual(noResidue);
      expect(await waitForNothingLeft(stack)).toEqual({ runningTasks: [], containers: [], metadataFiles: [] });
    } finally {
      await job.remove();
    }
  });
});
