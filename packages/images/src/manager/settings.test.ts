import { describe, expect, it } from 'vitest';
import { changedSettingNames, overlaySettings, parseSettings, SettingsError } from './settings.js';

const SOURCE = 'SSM parameter /p (version 3)';

describe('parseSettings', () => {
  it('takes setting variables and the manager version, in order', () => {
    const settings = parseSettings('{"CONCURRENT":"4","TASK_TAGS":"team=ci","GITLAB_FARGATE_MANAGER_VERSION":"v7","MAX_CPU":""}', SOURCE);
    expect([...settings.values]).toEqual([
      ['CONCURRENT', '4'],
      ['TASK_TAGS', 'team=ci'],
      ['MAX_CPU', ''],
    ]);
    expect(settings.version).toBe('v7');
    expect(parseSettings('{}', SOURCE)).toEqual({ values: new Map() });
  });

  it.each([
    ['{"CONCURRENT": "4"', /SSM parameter \/p \(version 3\) is not valid JSON .*give a JSON object such as \{"CONCURRENT": "4"\}/],
    ['["CONCURRENT"]', /is an array, not a JSON object/],
    ['null', /is null, not a JSON object/],
    ['"x"', /is a string, not a JSON object/],
  ])('refuses %s, saying what a good value looks like', (text, message) => {
    expect(() => parseSettings(text, SOURCE)).toThrow(SettingsError);
    expect(() => parseSettings(text, SOURCE)).toThrow(message);
  });

  it('refuses a secret or a start-only variable, saying why, and every problem at once', () => {
    const text = JSON.stringify({ RUNNER_TOKEN: 'glrt-x', METADATA_DIR: '/tmp', CONCURENT: '4', CONCURRENT: 4, SUBNETS: 'a\u0000b' });
    let message = '';
    try {
      parseSettings(text, SOURCE);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('"RUNNER_TOKEN" cannot come from the parameter (a secret: it stays in Secrets Manager');
    expect(message).toContain('"METADATA_DIR" cannot come from the parameter (the running jobs find their state files in it)');
    expect(message).toContain('"CONCURENT" is not a setting the manager reads: remove it, or use one of GITLAB_FARGATE_MANAGER_VERSION, CLUSTER,');
    expect(message).toContain('"CONCURRENT" has a number value: give a string, e.g. "4" rather than 4');
    expect(message).toContain('"SUBNETS" has a NUL character');
    expect(message).not.toContain('glrt-x');
  });

  it('refuses a GitLab URL or agent image: a parameter write must not redirect the token or swap what runs as root', () => {
    expect(() => parseSettings('{"GITLAB_URL":"https://evil.example.com"}', SOURCE)).toThrow(/"GITLAB_URL" cannot come from the parameter \(the runner token is sent there/);
    expect(() => parseSettings('{"JOB_AGENT_IMAGE":"evil/agent"}', SOURCE)).toThrow(/"JOB_AGENT_IMAGE" cannot come from the parameter \(it runs as root in every image job/);
  });
});

describe('overlaySettings and changedSettingNames', () => {
  it('lays the settings over the environment, which keeps everything else', () => {
    const settings = parseSettings('{"CONCURRENT":"8","MAX_CPU":""}', SOURCE);
    expect(overlaySettings({ CONCURRENT: '2', CLUSTER: 'c', GONE: undefined }, settings)).toEqual({ CONCURRENT: '8', CLUSTER: 'c', MAX_CPU: '' });
  });

  it('names what was added, removed or changed', () => {
    const before = parseSettings('{"CONCURRENT":"2","MAX_CPU":"1024","CLUSTER":"c"}', SOURCE);
    const after = parseSettings('{"CONCURRENT":"4","CLUSTER":"c","ALLOW_SPOT":"true"}', SOURCE);
    expect(changedSettingNames(before, after)).toEqual(['ALLOW_SPOT', 'CONCURRENT', 'MAX_CPU']);
    expect(changedSettingNames(undefined, after)).toEqual(['ALLOW_SPOT', 'CLUSTER', 'CONCURRENT']);
  });
});
