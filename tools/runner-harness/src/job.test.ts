import { describe, expect, it } from 'vitest';
import { JobSpecError, parseJobSpec } from './job.js';

function problemsOf(text: string): readonly string[] {
  try {
    parseJobSpec(text, 'job.yml');
  } catch (error) {
    if (error instanceof JobSpecError) return error.problems;
    throw error;
  }
  throw new Error('expected a JobSpecError');
}

describe('parseJobSpec', () => {
  it('reads a job as .gitlab-ci.yml writes it', () => {
    const job = parseJobSpec(
      ['name: test', 'script:', '  - echo "It works!"', '  - exit 0', 'after_script: [echo done]',
        'variables:', '  GREETING: hello', '  RETRIES: 3', 'timeout: 10m', 'tags: [dev]'].join('\n'),
      'job.yml',
    );
    expect(job).toEqual({
      name: 'test',
      script: ['echo "It works!"', 'exit 0'],
      afterScript: ['echo done'],
      variables: { GREETING: 'hello', RETRIES: '3' },
      timeoutSeconds: 600,
    });
  });

  it('takes a single command string and defaults the rest', () => {
    expect(parseJobSpec('script: make test', 'j.yml', 'unit')).toEqual({
      name: 'unit', script: ['make test'], afterScript: [], variables: {}, timeoutSeconds: 3600,
    });
  });

  it('reports every problem with its line and column', () => {
    expect(problemsOf(['script:', '  - [nested]', 'variables:', '  1BAD: x', 'timeout: soon', 'scirpt: x'].join('\n'))).toEqual([
      'job.yml:2:5: script[0] must be a command string (found a list)',
      'job.yml:4:3: variable name "1BAD" is not a valid name (letters, digits, _)',
      'job.yml:5:10: "timeout" must be a duration such as 600, "10m" or "1h 30m" (found string "soon")',
      'job.yml:6:1: unknown key "scirpt" (the harness reads script, after_script, variables, timeout, cache, artifacts, dependencies, file_variables, image, services, name)',
    ]);
  });

  it('reads cache, artifacts and dependencies, which decide the stages gitlab-runner calls', () => {
    const yaml = ['script: [make]', 'cache: {paths: [node_modules/]}', 'artifacts: {paths: [dist/], when: always}', 'dependencies: [build]'];
    expect(parseJobSpec(yaml.join('\n'), 'j.yml', 'unit')).toMatchObject({
      cache: { paths: ['node_modules/'], when: 'on_success' },
      artifacts: { paths: ['dist/'], when: 'always' },
      dependencies: ['build'],
    });
    expect(parseJobSpec('script: [make]\nfile_variables: {DEPLOY_KEY: "k\\n"}', 'j.yml').fileVariables).toEqual({ DEPLOY_KEY: 'k\n' });
    expect(problemsOf('script: [make]\ncache: [x]\nartifacts: {paths: [a], when: later}')).toEqual([
      'job.yml:2:8: "cache" must be a mapping with "paths" (found a list)',
      'job.yml:3:31: artifacts.when must be one of on_success, on_failure, always (found "later")',
    ]);
  });

  it('explains a missing or empty script', () => {
    expect(problemsOf('variables: {A: b}')).toEqual(['job.yml: the job has no "script" (add script: ["echo hello"])']);
    expect(problemsOf('script: []')).toEqual(['job.yml:1:9: "script" is empty: give at least one command']);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(problemsOf('script: [unclosed')[0]).toMatch(/^job\.yml:1:\d+: /);
    expect(problemsOf('- just\n- a list')).toEqual(['job.yml:1:1: a job must be a mapping with at least "script" (found a list)']);
  });
});
