import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateTaskDefinitionCache } from '../aws/task-definition-cache.js';
import { TASK_DEFINITION_CACHE_FILE, listStates, statePath, writeState, type JobState } from './state.js';

const STATE: JobState = {
  version: 1,
  jobId: '7',
  runnerShortToken: 'abc123xyz',
  cluster: 'ci',
  port: 22,
  username: 'root',
  privateKey: 'k',
  publicKey: 'p',
  createdAt: '2026-12-03T00:00:00.000Z',
  build: { port: 2222, username: 'gitlab-fargate', hostKey: 'AAAA' },
};

describe('the task definition cache beside the job states', () => {
  it('is neither a job state nor an unusable file to gc', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driver-state-'));
    writeState(statePath(dir, 'abc123xyz', '7'), STATE);
    updateTaskDefinitionCache(join(dir, TASK_DEFINITION_CACHE_FILE), (entries) => {
      entries['a'.repeat(64)] = { family: 'ci-job-aaaaaaaaaaaaaaaa', arn: 'arn:aws:ecs:eu-west-1:1:task-definition/ci-job-aaaaaaaaaaaaaaaa:1', lastUsedAt: STATE.createdAt };
    });
    writeFileSync(join(dir, 'junk.json'), 'not json');
    const unusable: string[] = [];
    const entries = listStates(dir, (path) => unusable.push(path));
    expect(entries.map((entry) => entry.state)).toEqual([STATE]);
    expect(unusable).toEqual([join(dir, 'junk.json')]);
  });
});
