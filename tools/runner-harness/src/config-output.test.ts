import { describe, expect, it } from 'vitest';
import { parseConfigOutput } from './config-output.js';

describe('parseConfigOutput', () => {
  it('reads the answer, ignoring unknown keys and nulls, as Go decodes ConfigExecOutput', () => {
    const answer = { builds_dir: '/b', builds_dir_is_shared: false, hostname: null, shell: 'bash', driver: { name: 'd', version: '1' }, job_env: { A: 'x', B: null }, extra: 1 };
    expect(parseConfigOutput(JSON.stringify(answer))).toEqual({
      output: { builds_dir: '/b', builds_dir_is_shared: false, shell: 'bash', driver: { name: 'd', version: '1' }, job_env: { A: 'x', B: '' }, extra: 1 },
    });
    expect(parseConfigOutput('  \n')).toEqual({ output: {} });
  });

  it('refuses a value of the wrong type, as Go does, naming the field', () => {
    expect(parseConfigOutput('{"builds_dir_is_shared": "false"}')).toEqual({
      error: 'error while parsing JSON output: json: cannot unmarshal string into Go struct field ConfigExecOutput.builds_dir_is_shared of type bool',
    });
    expect(parseConfigOutput('{"job_env": {"PORT": 22}}')).toEqual({
      error: 'error while parsing JSON output: json: cannot unmarshal number into Go struct field ConfigExecOutput.job_env.PORT of type string',
    });
    expect(parseConfigOutput('{"driver": "fargate"}')).toMatchObject({ error: expect.stringContaining('ConfigExecOutput.driver of type api.DriverInfo') });
    expect(parseConfigOutput('[1]')).toMatchObject({ error: expect.stringContaining('cannot unmarshal array into Go value') });
    expect(parseConfigOutput('not json')).toMatchObject({ error: expect.stringMatching(/^error while parsing JSON output: /) });
  });
});
