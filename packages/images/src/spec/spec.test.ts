import { describe, expect, it } from 'vitest';
import { CI_COORDINATOR_DEFAULTS, resolveCiCoordinatorSpec } from './ci-coordinator.js';
import { resolveImagesSpec } from './images-spec.js';
import { SpecValidationError } from './issues.js';
import { RUNNER_MANAGER_DEFAULTS, resolveRunnerManagerSpec } from './runner-manager.js';

function issuesOf(run: () => unknown): { path: string; message: string; fix: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SpecValidationError);
    return [...(error as SpecValidationError).issues];
  }
  throw new Error('expected a SpecValidationError');
}

describe('spec defaults', () => {
  it('fills every field of an empty spec with the documented defaults', () => {
    expect(resolveCiCoordinatorSpec()).toEqual(CI_COORDINATOR_DEFAULTS);
    expect(resolveRunnerManagerSpec({})).toEqual(RUNNER_MANAGER_DEFAULTS);
    expect(CI_COORDINATOR_DEFAULTS).toMatchObject({ baseImage: 'debian:bookworm-slim', sshUser: 'root', sshPort: 22 });
    expect(RUNNER_MANAGER_DEFAULTS).toMatchObject({ baseImage: 'node:22-bookworm-slim', runAs: 'gitlab-runner' });
  });

  it('keeps given values', () => {
    const spec = resolveCiCoordinatorSpec({
      sshUser: 'ci',
      sshPort: 2222,
      hostKeyTypes: ['ed25519', 'ecdsa'],
      extraPackages: ['jq', 'make=4.3-4.1'],
      nodejs: true,
      baseImage: 'registry.example.com:5000/base/ubuntu:24.04@sha256:' + 'a'.repeat(64),
    });
    expect(spec).toMatchObject({ sshUser: 'ci', sshPort: 2222, hostKeyTypes: ['ed25519', 'ecdsa'], nodejs: true });
  });
});

describe('spec validation', () => {
  it('reports every problem at once, each with its path and a fix', () => {
    const issues = issuesOf(() =>
      resolveCiCoordinatorSpec({
        sshUser: 'Root User',
        sshPort: 70000,
        hostKeyTypes: ['dsa'],
        extraPackages: ['jq; rm -rf /'],
      } as never),
    );
    expect(issues.map((issue) => issue.path)).toEqual([
      'ciCoordinator.sshUser',
      'ciCoordinator.sshPort',
      'ciCoordinator.hostKeyTypes[0]',
      'ciCoordinator.extraPackages[0]',
    ]);
    expect(issues[1]).toEqual({
      path: 'ciCoordinator.sshPort',
      message: 'expected a whole number from 1 to 65535, got number 70000',
      fix: 'use a whole number from 1 to 65535',
    });
    expect(issues[2]?.fix).toBe('list one or more of "ed25519", "ecdsa", "rsa"');
  });

  it('formats the issues into the error message', () => {
    expect(() => resolveCiCoordinatorSpec({ sshPort: 0 })).toThrow(
      'invalid image spec (1 problem):\n  - ciCoordinator.sshPort: expected a whole number from 1 to 65535, got number 0; fix: use a whole number from 1 to 65535',
    );
  });

  it('rejects unknown fields instead of ignoring a typo', () => {
    const issues = issuesOf(() => resolveImagesSpec({ ciCoordinator: { sshPorts: 22 }, runnerManger: {} }));
    expect(issues).toEqual([
      { path: 'runnerManger', message: 'unknown field', fix: 'remove it or use one of: ciCoordinator, runnerManager, jobAgent, ciTools' },
      expect.objectContaining({ path: 'ciCoordinator.sshPorts', message: 'unknown field' }),
    ]);
  });

  it('rejects wrong types with what was found', () => {
    const issues = issuesOf(() =>
      resolveImagesSpec({ ciCoordinator: { nodejs: 'yes', hostKeyTypes: 'ed25519' }, runnerManager: [] }),
    );
    expect(issues.map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      'ciCoordinator.hostKeyTypes: expected a list of strings, got "ed25519"',
      'ciCoordinator.nodejs: expected true or false, got "yes"',
      'runnerManager: expected an object, got a list',
    ]);
  });

  it('rejects an empty or repeated host key list', () => {
    expect(issuesOf(() => resolveCiCoordinatorSpec({ hostKeyTypes: [] }))[0]?.message).toBe('the list is empty');
    expect(issuesOf(() => resolveCiCoordinatorSpec({ hostKeyTypes: ['rsa', 'rsa'] }))[0]).toMatchObject({
      path: 'ciCoordinator.hostKeyTypes[1]',
      message: '"rsa" is listed twice',
    });
  });

  it('rejects base images with spaces or build-time variables, and bad versions', () => {
    const issues = issuesOf(() =>
      resolveImagesSpec({
        ciCoordinator: { baseImage: 'debian bookworm', gitlabRunnerVersion: 'latest' },
        runnerManager: { baseImage: '${BASE}' },
      }),
    );
    expect(issues.map((issue) => issue.path)).toEqual([
      'ciCoordinator.baseImage',
      'ciCoordinator.gitlabRunnerVersion',
      'runnerManager.baseImage',
    ]);
    expect(issues[1]?.fix).toBe('give a version such as "18.6.2", or "" for the newest');
  });

  it('accepts base images pinned by digest, with or without a tag or registry port', () => {
    const digest = `sha256:${'9f86d081884c7d65'.repeat(4)}`;
    for (const baseImage of [
      `debian@${digest}`,
      `debian:bookworm-slim@${digest}`,
      `registry.example.com:5000/base/ubuntu:24.04@${digest}`,
      `localhost:5000/node@${digest}`,
      'public.ecr.aws/docker/library/node:22-bookworm-slim',
    ]) {
      expect(resolveImagesSpec({ ciCoordinator: { baseImage }, runnerManager: { baseImage } })).toMatchObject({
        ciCoordinator: { baseImage },
        runnerManager: { baseImage },
      });
    }
  });

  it('refuses a malformed digest pin, saying what is wrong and how to get the digest', () => {
    const hex = '9f86d081884c7d65'.repeat(4);
    const problems = (baseImage: string): string[] =>
      issuesOf(() => resolveCiCoordinatorSpec({ baseImage })).map((issue) => `${issue.path}: ${issue.message}`);
    expect(problems('debian@sha256:abc')).toEqual([
      'ciCoordinator.baseImage: "debian@sha256:abc": the sha256 digest has 3 hex digits instead of 64',
    ]);
    expect(problems(`debian:12@sha256:${hex}0`)[0]).toContain('has 65 hex digits instead of 64');
    expect(problems(`debian@sha256:${hex.toUpperCase()}`)[0]).toContain('holds characters other than the lower-case hex digits');
    expect(problems(`debian@sha256:${hex.slice(1)}g`)[0]).toContain('holds characters other than the lower-case hex digits');
    expect(problems(`debian@sha512:${hex}${hex}`)[0]).toContain(`"sha512:${hex}${hex}" is not a sha256 digest`);
    expect(problems(`debian@${hex}`)[0]).toContain('is not a sha256 digest');
    expect(problems(`debian@sha256:${hex}@sha256:${hex}`)[0]).toContain('has more than one "@"');
    expect(problems(`debian:@sha256:${hex}`)[0]).toContain('has an invalid tag ""');
    expect(problems(`Debian:12@sha256:${hex}`)[0]).toContain('does not start with a valid image name');
    const [issue] = issuesOf(() => resolveRunnerManagerSpec({ baseImage: 'node:22@sha256:' }));
    expect(issue).toMatchObject({ path: 'runnerManager.baseImage' });
    expect(issue?.fix).toContain('pin as NAME[:TAG]@sha256:<64 lower-case hex digits>');
    expect(issue?.fix).toContain('docker buildx imagetools inspect NAME:TAG');
  });

  it('keeps runner-manager paths inside the build context and absolute where required', () => {
    const issues = issuesOf(() =>
      resolveRunnerManagerSpec({
        driverBundle: '../driver/dist/cli.mjs',
        configCli: 'cli.ts',
        configDir: 'etc/gitlab-runner',
        runAs: 'Runner',
      }),
    );
    expect(issues.map((issue) => issue.path)).toEqual([
      'runnerManager.runAs',
      'runnerManager.configDir',
      'runnerManager.driverBundle',
      'runnerManager.configCli',
    ]);
  });

  it('refuses a metadata folder that is the config folder', () => {
    expect(issuesOf(() => resolveRunnerManagerSpec({ configDir: '/etc/x', metadataDir: '/etc/x' }))[0]).toMatchObject({
      path: 'runnerManager.metadataDir',
      message: 'is the same folder as configDir',
    });
  });
});
