import { describe, expect, it } from 'vitest';
import { issuesOf } from '../../test-support.js';
import { parseDriverConfig } from '../parse.js';
import { renderDriverConfig } from '../render.js';

const BASE = '[Fargate]\nCluster = "ci"\nSubnets = ["subnet-0123456789abcdef0"]\nTaskDefinition = "arn:aws:ecs:eu-west-1:123456789012:task-definition/ci-coordinator:7"\n';
const AGENT = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-fargate/job-agent:1.0.0';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry-AbCdEf';

describe('[JobImages]', () => {
  it('is off by default, allows every image (empty lists), and derives the family prefix from the task definition', () => {
    expect(parseDriverConfig(BASE, { file: 'f.toml' }).config.jobImages).toEqual({
      enabled: false,
      allowedImages: [],
      allowedServices: [],
      registryCredentials: [],
      familyPrefix: 'ci-coordinator-job',
      unusedFamilyTtl: 604_800,
      serviceWaitTimeout: 30,
    });
  });

  it('reads every key, case-insensitively, and renders back to the same settings', () => {
    const text =
      `${BASE}[JobImages]\nenabled = true\nAllowedImages = ["ruby:*", "registry.example.com/**"]\nallowedservices = ["postgres:*"]\n` +
      `AgentImage = "${AGENT}"\nArm64AgentImage = "${AGENT}-arm64"\nFamilyPrefix = "gf-prod"\nUnusedFamilyTTL = 86400\nServiceWaitTimeout = 45\n` +
      `[[JobImages.RegistryCredentials]]\nRegistry = "registry.example.com"\nSecretArn = "${SECRET}"\n`;
    const { config } = parseDriverConfig(text, { file: 'f.toml' });
    expect(config.jobImages).toEqual({
      enabled: true,
      allowedImages: ['ruby:*', 'registry.example.com/**'],
      allowedServices: ['postgres:*'],
      agentImage: AGENT,
      arm64AgentImage: `${AGENT}-arm64`,
      registryCredentials: [{ registry: 'registry.example.com', secretArn: SECRET }],
      familyPrefix: 'gf-prod',
      unusedFamilyTtl: 86_400,
      serviceWaitTimeout: 45,
    });
    expect(parseDriverConfig(renderDriverConfig(config), { file: 'rendered.toml' }).config.jobImages).toEqual(config.jobImages);
  });

  it('cuts a long task definition family so that prefix, "-" and 16 hex digits fit ECS\'s 255 characters', () => {
    const family = 'f'.repeat(255);
    const { config } = parseDriverConfig(BASE.replace(/TaskDefinition = ".*"/, `TaskDefinition = "${family}"`), { file: 'f.toml' });
    expect(config.jobImages.familyPrefix).toBe(`${'f'.repeat(234)}-job`);
    expect(`${config.jobImages.familyPrefix}-0123456789abcdef`).toHaveLength(255);
  });

  it('needs AgentImage when enabled, saying how to fix it', () => {
    expect(issuesOf(() => parseDriverConfig(`${BASE}[JobImages]\nEnabled = true\n`, { file: 'f.toml' }))).toEqual([
      'f.toml:5:1: error: JobImages.AgentImage: expected the job-agent image when Enabled = true, found nothing; set AgentImage to the job-agent image ' +
        'built by @gitlab-fargate/images (images/job-agent), or set Enabled = false',
    ]);
    expect(parseDriverConfig(`${BASE}[JobImages]\nEnabled = false\n`, { file: 'f.toml' }).config.jobImages.enabled).toBe(false);
  });

  it('refuses malformed patterns, bad ARNs, prefixes, durations each located', () => {
    const text =
      `${BASE}[JobImages]\nAllowedImages = ["ruby:["]\nAllowedServices = ["{postgres"]\nFamilyPrefix = "gf prod"\nUnusedFamilyTTL = 60\n` +
      `ServiceWaitTimeout = -1\nAgentImage = "has space"\nArm64AgentImage = "arm 64"\n` +
      `[[JobImages.RegistryCredentials]]\nRegistry = "r.example.com"\nSecretArn = "arn:aws:ssm:eu-west-1:123456789012:parameter/x"\n` +
      `[[JobImages.RegistryCredentials]]\nRegistry = "q.example.com"\nSecretArn = "${SECRET}"\n`;
    const issues = issuesOf(() => parseDriverConfig(text, { file: 'f.toml' }));
    expect(issues).toEqual([
      expect.stringMatching(/^f\.toml:6:18: error: JobImages\.AllowedImages\[0\]: expected a well-formed image pattern, found "ruby:\[", a malformed pattern/),
      expect.stringMatching(/^f\.toml:7:20: error: JobImages\.AllowedServices\[0\]: expected a well-formed image pattern, found "\{postgres"/),
      'f.toml:8:1: error: JobImages.FamilyPrefix: expected a task definition family prefix: letters, digits, _ and -, 1 to 238 characters, found "gf prod"',
      'f.toml:9:1: error: JobImages.UnusedFamilyTTL: expected seconds from 3600 (1 hour) to 31622400 (366 days), found 60 (an integer)',
      'f.toml:10:1: error: JobImages.ServiceWaitTimeout: expected seconds from 0 (do not wait) to 3600, found -1 (an integer)',
      expect.stringMatching(/^f\.toml:11:1: error: JobImages\.AgentImage: expected an image reference like "[^"]+", found "has space"$/),
      expect.stringMatching(/^f\.toml:12:1: error: JobImages\.Arm64AgentImage: expected the linux\/arm64 job-agent image, like "[^"]+", found "arm 64"$/),
      expect.stringMatching(/^f\.toml:15:1: error: JobImages\.RegistryCredentials\[0\]\.SecretArn: expected a Secrets Manager secret ARN like "[^"]+", found "arn:aws:ssm:/),
    ]);
  });

  it('refuses a registry given twice: the second entry could never apply', () => {
    const entry = `[[JobImages.RegistryCredentials]]\nRegistry = "q.example.com"\nSecretArn = "${SECRET}"\n`;
    expect(issuesOf(() => parseDriverConfig(`${BASE}[JobImages]\n${entry}${entry}`, { file: 'f.toml' }))).toEqual([
      'f.toml:10:1: error: JobImages.RegistryCredentials[1].Registry: expected each Registry once, found a second "q.example.com"; the first entry for a registry wins: remove this one',
    ]);
  });
});
