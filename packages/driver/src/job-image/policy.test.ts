import type { JobImageSettings } from '@gitlab-fargate/config';
import { describe, expect, it } from 'vitest';
import type { JobImageRequest } from './payload.js';
import { ImageRefused, checkJobImagePolicy } from './policy.js';

const SETTINGS: JobImageSettings = {
  enabled: true,
  allowedImages: ['ruby:*', 'registry.example.com/**'],
  allowedServices: ['postgres:*'],
  registryCredentials: [],
  familyPrefix: 'ci-job',
  unusedFamilyTtl: 604_800,
  serviceWaitTimeout: 30,
};

const request = (image?: string, services: string[] = [], platform?: string): JobImageRequest => ({
  ...(image === undefined ? {} : { image: { name: image, ...(platform === undefined ? {} : { platform }) } }),
  services: services.map((name) => ({ name, alias: '', variables: [], ports: [] })),
  variables: [],
  source: 'payload',
});

const refusal = (run: () => void): ImageRefused => {
  try {
    run();
  } catch (error) {
    if (error instanceof ImageRefused) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('checkJobImagePolicy', () => {
  it('allows images and services their lists match', () => {
    expect(() => checkJobImagePolicy(request('ruby:3.3', ['postgres:16']), SETTINGS, 'X86_64')).not.toThrow();
    expect(() => checkJobImagePolicy(request('registry.example.com/team/app:1'), SETTINGS, 'X86_64')).not.toThrow();
  });

  it('refuses a name that merely contains an allowed pattern\'s text, naming the image and the patterns', () => {
    const error = refusal(() => checkJobImagePolicy(request('evil.io/ruby:3.3'), SETTINGS, 'X86_64'));
    expect(error.image).toBe('evil.io/ruby:3.3');
    expect(error.message).toMatch(/^the image "evil\.io\/ruby:3\.3" is not allowed by \[JobImages\] AllowedImages \("ruby:\*", "registry\.example\.com\/\*\*"\)/);
    expect(refusal(() => checkJobImagePolicy(request('registry.example.com.evil.io/app'), SETTINGS, 'X86_64')).image).toBe('registry.example.com.evil.io/app');
  });

  it('checks services against AllowedServices, not AllowedImages', () => {
    const error = refusal(() => checkJobImagePolicy(request('ruby:3.3', ['postgres:16', 'ruby:3.3']), SETTINGS, 'X86_64'));
    expect(error.message).toMatch(/^the service "ruby:3\.3" is not allowed by \[JobImages\] AllowedServices \("postgres:\*"\)/);
  });

  it('allows every image with empty lists, as gitlab-runner does', () => {
    const open = { ...SETTINGS, allowedImages: [], allowedServices: [] };
    expect(() => checkJobImagePolicy(request('anything/at:all', ['any:thing']), open, 'X86_64')).not.toThrow();
  });

  it.each(['docker:dind', 'docker:27-dind', 'docker:27.3.1-dind-rootless', 'registry.example.com/mirror/dind:1', 'moby/buildkit:latest'])(
    'refuses %s with the reason even when the list allows it: Fargate has no privileged mode',
    (name) => {
      const open = { ...SETTINGS, allowedImages: [], allowedServices: [] };
      const error = refusal(() => checkJobImagePolicy(request('ruby:3', [name]), open, 'X86_64'));
      expect(error.message).toContain(`the service "${name}" is refused:`);
      expect(error.message).toContain('Fargate tasks cannot run privileged containers');
      expect(error.message).toContain('e.g. kaniko, or hand the build to a build service such as AWS CodeBuild');
      expect(error.message).not.toMatch(/or buildah|BuildKit rootless/);
    },
  );

  it('lets through names that only look alike (no dind token, rootless BuildKit)', () => {
    const open = { ...SETTINGS, allowedImages: [], allowedServices: [] };
    expect(() => checkJobImagePolicy(request('dindon/app:1', ['moby/buildkit:v0.17.0-rootless']), open, 'X86_64')).not.toThrow();
  });

  it('refuses a name that is not an image reference, before the allow-list', () => {
    const open = { ...SETTINGS, allowedImages: [], allowedServices: [] };
    for (const bad of ['Ruby:3', 'ruby:3 && rm -rf /', 'ruby:', '']) {
      expect(refusal(() => checkJobImagePolicy(request('ruby:3', [bad]), open, 'X86_64')).message).toContain('is not an image reference');
    }
  });

  it("refuses an image: docker: platform: other than the task's architecture", () => {
    expect(() => checkJobImagePolicy(request('ruby:3', [], 'linux/arm64'), SETTINGS, 'ARM64')).not.toThrow();
    expect(refusal(() => checkJobImagePolicy(request('ruby:3', [], 'linux/arm64'), SETTINGS, 'X86_64')).message).toMatch(
      /platform: "linux\/arm64" does not match the task's architecture X86_64 \(linux\/amd64\)/,
    );
  });
});
