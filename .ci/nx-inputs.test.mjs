// The pipeline keeps Nx's cache (.nx/cache): a test target whose inputs miss a file its tests read replays an old
// green result after that file changed. These checks read the manifests `npx projen` writes (node:test, no
// dependencies; .ci/run runs them before npm ci).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The package whose stack builds the ci-coordinator job image from the repository's images/ at test time. */
const IMAGE_BUILDER = '@gitlab-fargate/local-stack';
const IMAGES_INPUT = '{workspaceRoot}/images/**/*';

/** Every workspace package: name → its manifest. */
function workspacePackages() {
  const manifests = ['packages', 'tools'].flatMap((parent) =>
    readdirSync(join(ROOT, parent))
      .map((name) => join(ROOT, parent, name, 'package.json'))
      .filter((path) => existsSync(path))
      .map((path) => JSON.parse(readFileSync(path, 'utf8'))),
  );
  return new Map(manifests.map((manifest) => [manifest.name, manifest]));
}

/** Whether `name` is `target` or depends on it through workspace packages. */
function reaches(packages, name, target, seen = new Set()) {
  if (name === target) return true;
  if (seen.has(name) || !packages.has(name)) return false;
  seen.add(name);
  const manifest = packages.get(name);
  const deps = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
  return deps.some((dep) => reaches(packages, dep, target, seen));
}

describe('Nx test inputs', () => {
  const packages = workspacePackages();
  const imageUsers = [...packages.keys()].filter((name) => reaches(packages, name, IMAGE_BUILDER)).sort();

  it('finds the packages whose tests build the job image', () => {
    // Guards the derivation below: if it found nothing, the next check would pass vacuously.
    for (const name of ['@gitlab-fargate/bench', '@gitlab-fargate/demo', '@gitlab-fargate/e2e', IMAGE_BUILDER]) {
      assert.ok(imageUsers.includes(name), `${name} should reach ${IMAGE_BUILDER}; found ${imageUsers.join(', ')}`);
    }
  });

  it('lists images/ in the test inputs of every package whose tests build the job image', () => {
    const missing = imageUsers.filter((name) => !(packages.get(name).nx?.targets?.test?.inputs ?? []).includes(IMAGES_INPUT));
    assert.deepEqual(missing, [], `their test targets do not list ${IMAGES_INPUT} (add it in .projenrc.ts, then npx projen)`);
  });

  it('keeps the default inputs where a package lists its own', () => {
    for (const [name, manifest] of packages) {
      const inputs = manifest.nx?.targets?.test?.inputs;
      if (inputs === undefined) continue;
      // Own inputs replace nx.json's target defaults: without these a change in the package itself would not count.
      assert.ok(inputs.includes('default') && inputs.includes('^production'), `${name}: ${JSON.stringify(inputs)}`);
    }
  });
});
