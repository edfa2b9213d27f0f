import { child, element, type At, type Checker } from '../../schema/checker.js';
import { boolean, decimal, integer, list, refine, section, string, type Schema } from '../../schema/schema.js';
import { imagePatternProblem } from '../image-glob.js';
import type { JobImageSettings, RegistryCredential } from '../model.js';

/** ECS family names: letters, digits, `_` and `-`, at most 255; the prefix leaves room for `-` and 16 hex digits. */
export const FAMILY_PREFIX_MAX_LENGTH = 255 - 17;
const FAMILY_PREFIX = new RegExp(`^[A-Za-z0-9_-]{1,${FAMILY_PREFIX_MAX_LENGTH}}$`);
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
/** An image reference as Docker writes it: registry, path, tag and digest characters, no spaces. */
const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,1023}$/;
const DAY = 86_400;

/** A doublestar pattern; a malformed one is an error here, where gitlab-runner would silently never match it. */
const imagePattern: Schema<string> = refine(
  string({ maxLength: 1024, expected: 'an image pattern like "ruby:*" or "registry.example.com/**"' }),
  (pattern, at, checker) => {
    const problem = imagePatternProblem(pattern);
    return problem === undefined ? pattern : void checker.error(at, 'a well-formed image pattern', `${JSON.stringify(pattern)}, ${problem}`, 'close every "[" and "{", or escape them with "\\\\"');
  },
);

const registryCredential = section<RegistryCredential>(
  {
    registry: { key: 'Registry', schema: imagePattern, required: true },
    secretArn: {
      key: 'SecretArn',
      schema: string({ pattern: SECRET_ARN, expected: 'a Secrets Manager secret ARN like "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry-AbCdEf"' }),
      required: true,
    },
  },
  { expected: 'a table with Registry and SecretArn' },
);

interface JobImagesRaw extends Omit<JobImageSettings, 'agentImage' | 'arm64AgentImage'> {
  agentImage: string;
  arm64AgentImage: string;
}

/** `Enabled = true` needs the agent image: without it no job image could be reached. */
function checkAgentImage(raw: Partial<JobImagesRaw>, failed: ReadonlySet<keyof JobImagesRaw>, at: At, checker: Checker): boolean {
  if (failed.has('enabled') || failed.has('agentImage') || raw.enabled !== true || raw.agentImage !== '') return true;
  checker.error(
    child(at, 'AgentImage', 'AgentImage'),
    'the job-agent image when Enabled = true',
    'nothing',
    'set AgentImage to the job-agent image built by @gitlab-fargate/images (images/job-agent), or set Enabled = false',
  );
  return false;
}

/** Two credentials for one registry pattern: the second could never apply. */
function checkRegistries(raw: Partial<JobImagesRaw>, failed: ReadonlySet<keyof JobImagesRaw>, at: At, checker: Checker): boolean {
  if (failed.has('registryCredentials')) return true;
  const seen = new Set<string>();
  let valid = true;
  (raw.registryCredentials ?? []).forEach((credential, index) => {
    if (seen.has(credential.registry)) {
      checker.error(child(element(child(at, 'RegistryCredentials', 'RegistryCredentials'), index), 'Registry', 'Registry'), 'each Registry once', `a second ${JSON.stringify(credential.registry)}`, 'the first entry for a registry wins: remove this one');
      valid = false;
    }
    seen.add(credential.registry);
  });
  return valid;
}

/** `[JobImages]`: `image:` and `services:` support. `FamilyPrefix` is "" here until {@link withFamilyPrefix}. */
export const jobImages: Schema<JobImageSettings> = refine(
  section<JobImagesRaw>(
    {
      enabled: { key: 'Enabled', schema: boolean(), default: false },
      allowedImages: { key: 'AllowedImages', schema: list(imagePattern, { unique: true }), default: [] },
      allowedServices: { key: 'AllowedServices', schema: list(imagePattern, { unique: true }), default: [] },
      agentImage: { key: 'AgentImage', schema: string({ pattern: IMAGE_REFERENCE, expected: 'an image reference like "123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-fargate/job-agent:1.0.0"' }), default: '' },
      arm64AgentImage: { key: 'Arm64AgentImage', schema: string({ pattern: IMAGE_REFERENCE, expected: 'the linux/arm64 job-agent image, like "123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-fargate/job-agent:1.0.0-arm64"' }), default: '' },
      registryCredentials: { key: 'RegistryCredentials', schema: list(registryCredential, { max: 50 }), default: [] },
      familyPrefix: {
        key: 'FamilyPrefix',
        schema: string({ pattern: FAMILY_PREFIX, expected: `a task definition family prefix: letters, digits, _ and -, 1 to ${FAMILY_PREFIX_MAX_LENGTH} characters` }),
        default: '',
      },
      unusedFamilyTtl: { key: 'UnusedFamilyTTL', schema: integer({ min: 3600, max: 366 * DAY, expected: 'seconds from 3600 (1 hour) to 31622400 (366 days)' }), default: 7 * DAY },
      serviceWaitTimeout: { key: 'ServiceWaitTimeout', schema: decimal({ min: 0, max: 3600, expected: 'seconds from 0 (do not wait) to 3600' }), default: 30 },
    },
    {
      expected: 'a [JobImages] table',
      check: (raw, failed, at, checker) =>
        [checkAgentImage(raw, failed, at, checker), checkRegistries(raw, failed, at, checker)].every(Boolean),
    },
  ),
  ({ agentImage, arm64AgentImage, ...rest }): JobImageSettings => ({
    ...rest,
    ...(agentImage === '' ? {} : { agentImage }),
    ...(arm64AgentImage === '' ? {} : { arm64AgentImage }),
  }),
);

/** The family of a task definition reference: `family`, `family:revision` or `arn:…:task-definition/family:revision`. */
export function familyOf(taskDefinition: string): string {
  const name = taskDefinition.includes('/') ? taskDefinition.slice(taskDefinition.lastIndexOf('/') + 1) : taskDefinition;
  return name.split(':')[0] as string;
}

/** Fills the default `FamilyPrefix`: the configured task definition's family plus `-job`, cut to fit. */
export function withFamilyPrefix(settings: JobImageSettings, taskDefinition: string): JobImageSettings {
  if (settings.familyPrefix !== '') return settings;
  const family = familyOf(taskDefinition).slice(0, FAMILY_PREFIX_MAX_LENGTH - '-job'.length);
  return { ...settings, familyPrefix: `${family}-job` };
}
