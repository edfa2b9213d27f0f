import { DEFAULT_BUILDS_DIR, DEFAULT_CACHE_DIR, parseDriverConfig, parseRunnerConfig } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import { localDriverToml, localRunnerToml } from './configuration.js';

const SETTINGS = { cluster: 'ci', region: 'eu-west-1', taskDefinition: 'ci-task', metadataDirectory: '/tmp/metadata' };

describe('local-stack configuration', () => {
  it("sets the job's folders in config.toml only, to the defaults the job image creates", () => {
    const runner = parseRunnerConfig(localRunnerToml({ executable: '/usr/bin/node', leadingArgs: ['/driver.js'] }, '/fargate.toml')).config.runners[0]!;
    expect(runner).toMatchObject({ buildsDir: DEFAULT_BUILDS_DIR, cacheDir: DEFAULT_CACHE_DIR });
  });

  it('refuses an unknown key in the driver TOML it writes, although users only get a warning for one', () => {
    expect(localDriverToml(SETTINGS)).toContain('Cluster = "ci"');
    expect(() => localDriverToml({ ...SETTINGS, fargateExtra: '  NoSuchKey = 1\n' })).toThrow(/error: Fargate\.NoSuchKey: expected a known key/);
  });

  it('honours job images only when given the agent image, with extra [JobImages] keys', () => {
    expect(parseDriverConfig(localDriverToml(SETTINGS)).config.jobImages.enabled).toBe(false);
    const text = localDriverToml({ ...SETTINGS, jobAgentImage: 'gitlab-fargate/job-agent:local', jobImagesExtra: '  AllowedImages = ["local/*"]\n' });
    expect(parseDriverConfig(text).config.jobImages).toMatchObject({ enabled: true, agentImage: 'gitlab-fargate/job-agent:local', allowedImages: ['local/*'] });
  });
});
