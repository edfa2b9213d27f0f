import { describe, expect, it } from 'vitest';
import { BuildFailure, Cancelled, SystemFailure } from '../errors.js';
import { finalOutcome, mergeOutcome, stageOutcome } from './outcome.js';

describe('the job outcome the run stages record', () => {
  it('records the script\'s result, the first failure wins, and after_script never decides', () => {
    const steps: [string, unknown][] = [
      ['prepare_script', undefined],
      ['build_script', new BuildFailure(3)],
      ['after_script', new SystemFailure('the SSH connection to 10.0.0.1:22 ended before the script finished')],
      ['upload_artifacts_on_failure', new SystemFailure('the SSH connection to 10.0.0.1:22 ended before the script finished')],
      ['cleanup_file_variables', undefined],
    ];
    const outcome = steps.reduce(
      (previous, [stage, error]) => mergeOutcome(previous, stageOutcome(stage, error)),
      undefined as ReturnType<typeof mergeOutcome>,
    );
    expect(outcome).toEqual({ kind: 'script_failure', stage: 'build_script', exitCode: 3 });
    expect(finalOutcome(outcome, true)).toEqual({ kind: 'script_failure', stage: 'build_script', exitCode: 3, reason: 'script' });
  });

  it('a later stage\'s failure replaces the script\'s success, with its reason', () => {
    const success = mergeOutcome(undefined, stageOutcome('build_script', undefined));
    expect(success).toEqual({ kind: 'success', stage: 'build_script' });
    const lost = mergeOutcome(success, stageOutcome('upload_artifacts_on_success', new SystemFailure('the SSH connection to 10.0.0.1:22 ended before the script finished (the task may have stopped)')));
    expect(finalOutcome(lost, true)).toEqual({ kind: 'system_failure', stage: 'upload_artifacts_on_success', reason: 'connection_lost' });
    expect(finalOutcome(mergeOutcome(success, stageOutcome('get_sources', new Cancelled('SIGTERM'))), true).reason).toBe('cancelled');
  });

  it('nothing recorded: a system failure when prepare never finished, else unknown', () => {
    expect(finalOutcome(undefined, false)).toEqual({ kind: 'system_failure', reason: 'other', stage: 'prepare' });
    expect(finalOutcome(undefined, true)).toEqual({ kind: 'unknown', reason: 'unknown' });
    expect(finalOutcome(stageOutcome('prepare', Object.assign(new SystemFailure('task x stopped'), { name: 'TaskStopped' })), false).reason).toBe('task_stopped');
  });
});
