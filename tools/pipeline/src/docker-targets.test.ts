import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerTargetsOf, ENGINE_SCRIPT, loadWorkspaceTasks, nxTargetsOf, projenTaskOf } from './docker-targets.js';
import { workspaceRoot } from './workspace.js';

describe('nxTargetsOf', () => {
  it('reads the targets of run-many, affected and run', () => {
    expect(nxTargetsOf('npx nx run-many -t build test --output-style=static')).toEqual(['build', 'test']);
    expect(nxTargetsOf('npx nx affected -t build typecheck test:unit --base="$SHA" --head=HEAD')).toEqual(['build', 'typecheck', 'test:unit']);
    expect(nxTargetsOf('nx run-many --output-style=static --targets=build,test')).toEqual(['build', 'test']);
    expect(nxTargetsOf('nx run-many --output-style=static -t test --projects=a,b')).toEqual(['test']);
    expect(nxTargetsOf('npx nx run @gitlab-fargate/driver:bundle --output-style=static')).toEqual(['bundle']);
    expect(nxTargetsOf('npx nx show projects')).toEqual([]);
    expect(nxTargetsOf('npm ci --ignore-scripts')).toEqual([]);
  });

  it('names the projen task of a projen script', () => {
    expect(projenTaskOf('projen test:unit')).toBe('test:unit');
    expect(projenTaskOf('npx projen compile')).toBe('compile');
    expect(projenTaskOf('vitest run')).toBeUndefined();
  });
});

describe('loadWorkspaceTasks', () => {
  let root: string | undefined;
  afterEach(() => root && rmSync(root, { recursive: true, force: true }));

  /** A workspace of one projen-managed package, `packages/a`. */
  function workspace(pkg: object, tasks: object, targetDefaults: object = {}): string {
    root = mkdtempSync(join(tmpdir(), 'docker-targets-'));
    mkdirSync(join(root, 'packages/a/.projen'), { recursive: true });
    mkdirSync(join(root, '.projen'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ workspaces: ['packages/*'] }));
    writeFileSync(join(root, '.projen/tasks.json'), JSON.stringify({ tasks: { test: { steps: [{ exec: 'nx run-many -t test' }] } } }));
    writeFileSync(join(root, 'nx.json'), JSON.stringify({ targetDefaults }));
    writeFileSync(join(root, 'packages/a/package.json'), JSON.stringify(pkg));
    writeFileSync(join(root, 'packages/a/.projen/tasks.json'), JSON.stringify({ tasks }));
    return root;
  }

  it('finds the engine through spawned tasks and dependsOn, and not in the targets that never reach it', () => {
    const dir = workspace(
      {
        scripts: { test: 'projen test', 'test:unit': 'projen test:unit', lint: 'projen lint' },
        nx: { includedScripts: ['test', 'test:unit', 'lint'], targets: { build: { command: 'projen compile' }, e2e: { command: 'vitest', dependsOn: ['test'] } } },
      },
      {
        test: { steps: [{ spawn: 'engine' }, { exec: 'vitest run' }] },
        engine: { steps: [{ exec: `bash ../../${ENGINE_SCRIPT}` }] },
        'test:unit': { steps: [{ exec: "vitest run --exclude '**/*.int.test.ts'" }] },
        compile: { steps: [{ exec: 'tsc --build' }] },
        lint: { steps: [{ exec: 'eslint .' }] },
      },
      { lint: { dependsOn: ['^test'] } },
    );
    const tasks = loadWorkspaceTasks(dir);
    expect([...tasks.dockerTargets].sort()).toEqual(['e2e', 'lint', 'test']);
    expect(dockerTargetsOf('npx nx run-many -t build test:unit', tasks)).toEqual([]);
    expect(dockerTargetsOf('npx nx run-many -t build e2e', tasks)).toEqual(['e2e']);
    expect(dockerTargetsOf('npm test', tasks)).toEqual(['test']);
    expect(dockerTargetsOf(`bash ${ENGINE_SCRIPT}`, tasks)).toEqual([ENGINE_SCRIPT]);
  });

  it("sees this workspace's Docker targets: test needs the engine, test:unit, build and typecheck do not", () => {
    const tasks = loadWorkspaceTasks(workspaceRoot());
    expect(tasks.dockerTargets.has('test')).toBe(true);
    for (const target of ['test:unit', 'build', 'typecheck', 'bundle']) expect(tasks.dockerTargets.has(target), target).toBe(false);
    expect(dockerTargetsOf('npx nx run-many -t build test --output-style=static', tasks)).toEqual(['test']);
    expect(dockerTargetsOf('npx nx affected -t build typecheck test:unit --base=x', tasks)).toEqual([]);
    // The root's `npm test` and `npm run build` run every package's `test`; `npm run mutation` builds only.
    expect(dockerTargetsOf('npm test', tasks)).toEqual(['test']);
    expect(dockerTargetsOf('npm run build', tasks)).toEqual(['test']);
    expect(dockerTargetsOf('npm run mutation', tasks)).toEqual([]);
  });
});
