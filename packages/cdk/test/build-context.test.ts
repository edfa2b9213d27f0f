import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANAGER_CONTEXT_FILES, requireManagerBuildContext } from '../examples/three-environments/build-context';

function contextWith(files: string[]): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'manager-context-'));
  fs.writeFileSync(path.join(directory, 'Dockerfile'), 'FROM scratch\n');
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(directory, file)), { recursive: true });
    fs.writeFileSync(path.join(directory, file), '');
  }
  return directory;
}

describe('the example app on a checkout without build outputs', () => {
  it('fails synth naming the missing files and the commands that make them', () => {
    const directory = contextWith([]);
    expect(() => requireManagerBuildContext(directory)).toThrow(
      /lacks dist\/gitlab-fargate-driver\.mjs and dist\/gitlab-fargate-config\/dist\/cli\.js[\s\S]*npx gitlab-fargate-images context --out images\/runner-manager/,
    );
  });

  it('names only what is missing', () => {
    const directory = contextWith([MANAGER_CONTEXT_FILES[0]!]);
    expect(() => requireManagerBuildContext(directory)).toThrow(/lacks dist\/gitlab-fargate-config\/dist\/cli\.js: /);
  });

  it('passes once the context is filled', () => {
    expect(() => requireManagerBuildContext(contextWith(MANAGER_CONTEXT_FILES))).not.toThrow();
  });

  it('asks for the files the generated Dockerfile copies by default', () => {
    // The example's check and the image's defaults are two homes of one fact: prove they agree.
    const dockerfile = fs.readFileSync(path.join(__dirname, '../../../images/runner-manager/Dockerfile'), 'utf8');
    const bundle = /^ARG DRIVER_BUNDLE=(\S+)$/m.exec(dockerfile)?.[1];
    const configCli = /^ARG CONFIG_CLI=(\S+)$/m.exec(dockerfile)?.[1];
    expect(MANAGER_CONTEXT_FILES).toEqual([`dist/${bundle}`, `dist/${configCli}`]);
  });
});
