import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/paths.js';
import { generateImages } from '../generate.js';
import { CI_COORDINATOR_DEFAULTS } from './ci-coordinator.js';
import { CI_TOOLS_DEFAULTS, CI_TOOLS_NODE_VERSION, resolveCiToolsSpec } from './ci-tools.js';
import { resolveImagesSpec } from './images-spec.js';
import { SpecValidationError } from './issues.js';

const fileOf = (files: ReturnType<typeof generateImages>, path: string): string => {
  const found = files.find((file) => file.path === path);
  if (found === undefined) throw new Error(`no generated file ${path}`);
  return found.content;
};

describe('ci-tools spec', () => {
  it("bases the image on Node.js at the workspace's floor version (root package.json engines)", () => {
    const { engines } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const floor = engines.node.split('||')[0]?.trim().replace(/^\^/, '');
    expect(CI_TOOLS_NODE_VERSION).toBe(floor);
    expect(CI_TOOLS_DEFAULTS.baseImage).toBe(`node:${floor}-bookworm-slim`);
  });

  it("is the ci-coordinator's spec with its own defaults, overridable field by field", () => {
    expect(resolveImagesSpec({}).ciTools).toEqual(CI_TOOLS_DEFAULTS);
    expect(resolveCiToolsSpec({ sshUser: 'ci' })).toEqual({ ...CI_TOOLS_DEFAULTS, sshUser: 'ci' });
    // Only the base image and the extra packages differ from the job image's defaults.
    expect({ ...CI_TOOLS_DEFAULTS, baseImage: CI_COORDINATOR_DEFAULTS.baseImage, extraPackages: [] }).toEqual(CI_COORDINATOR_DEFAULTS);
  });

  it('reports problems under ciTools', () => {
    try {
      resolveImagesSpec({ ciTools: { sshPort: 0, nodejs: 'yes' } });
      expect.unreachable('an invalid ciTools spec was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(SpecValidationError);
      expect((error as SpecValidationError).issues.map((issue) => issue.path)).toEqual(['ciTools.sshPort', 'ciTools.nodejs']);
    }
  });

  it("generates ci-tools/ with the job image's entrypoint and contract, on the Node.js base with the extra tools", () => {
    const files = generateImages();
    const dockerfile = fileOf(files, 'ci-tools/Dockerfile');
    expect(dockerfile).toMatch(/^# ci-tools: /);
    expect(dockerfile).toContain(`ARG BASE_IMAGE=node:${CI_TOOLS_NODE_VERSION}-bookworm-slim\nFROM \${BASE_IMAGE}\n`);
    expect(dockerfile).toContain(`tini ${CI_TOOLS_DEFAULTS.extraPackages.join(' ')};`);
    expect(fileOf(files, 'ci-tools/docker-entrypoint.sh')).toBe(fileOf(files, 'ci-coordinator/docker-entrypoint.sh'));
    // The same Dockerfile as the job image's but for its first line, the base image and the packages.
    const rest = (text: string) => text.split('\n').slice(1).filter((line) => !/BASE_IMAGE|apt-get install -y --no-install-recommends bash/.test(line));
    expect(rest(dockerfile)).toEqual(rest(fileOf(files, 'ci-coordinator/Dockerfile')));
  });
});
