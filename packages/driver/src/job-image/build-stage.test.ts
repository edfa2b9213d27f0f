import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { JobState } from '../job/state.js';
import { SCRIPT_COMMAND } from '../ssh/exec.js';
import { HELPER_COMMAND_WITH_BUILD_CONTAINER, isUserStage, stageExecution } from './build-stage.js';
import { detectShellCommand } from './shell-detect.js';

const helperState: JobState = {
  version: 1,
  jobId: '1',
  runnerShortToken: 't',
  cluster: 'c',
  address: '127.0.0.9',
  port: 22,
  username: 'root',
  privateKey: 'KEY',
  publicKey: 'PUB',
  hostKey: 'HELPER',
  createdAt: '2026-01-01T00:00:00.000Z',
};
const withBuild: JobState = { ...helperState, build: { port: 2222, username: 'gitlab-fargate', hostKey: 'AGENT' } };

describe('stageExecution', () => {
  it('sends the job\'s own stages to the build container, with its port, login, host key and the detected shell', () => {
    for (const stage of ['build_script', 'after_script', 'step_script', 'step_release']) {
      expect(isUserStage(stage), stage).toBe(true);
      expect(stageExecution(withBuild, stage)).toEqual({
        target: { host: '127.0.0.9', port: 2222, username: 'gitlab-fargate', privateKey: 'KEY', hostKey: 'AGENT' },
        command: detectShellCommand(),
        inBuildContainer: true,
      });
    }
  });

  it('keeps the runner\'s stages in the helper, as the Docker executor\'s helper container', () => {
    for (const stage of ['prepare_script', 'get_sources', 'restore_cache', 'download_artifacts', 'archive_cache', 'upload_artifacts_on_success', 'cleanup_file_variables']) {
      expect(isUserStage(stage), stage).toBe(false);
      expect(stageExecution(withBuild, stage)).toMatchObject({
        target: { port: 22, username: 'root', hostKey: 'HELPER' },
        command: HELPER_COMMAND_WITH_BUILD_CONTAINER,
        inBuildContainer: false,
      });
    }
  });

  it('runs everything in the helper for a job without an image, as before', () => {
    expect(stageExecution(helperState, 'build_script')).toMatchObject({ target: { port: 22 }, command: SCRIPT_COMMAND, inBuildContainer: false });
  });

  it('runs the helper stages of a job with an image under umask 0000, so a non-root job user can write there', () => {
    const run = spawnSync('sh', ['-c', `exec ${HELPER_COMMAND_WITH_BUILD_CONTAINER}`], { input: 'umask\n' });
    expect(run.stdout.toString().trim()).toBe('0000');
  });
});
