import { describe, expect, it } from 'vitest';
import { programsOf } from './pipeline.js';

describe('programsOf', () => {
  it('finds the first word of each simple command, in lists, pipes, groups and substitutions', () => {
    expect(programsOf('test -d node_modules || npm ci --ignore-scripts')).toEqual(['test', 'npm']);
    expect(programsOf('export F="$(mktemp)"')).toEqual(['export', 'mktemp']);
    expect(programsOf("printf '%s' \"$X\" | buildah login --password-stdin \"$R\"")).toEqual(['printf', 'buildah']);
    expect(programsOf('for i in a b; do\n  docker build "images/$i"\ndone')).toEqual(['for', 'do', 'docker', 'done']);
    expect(programsOf('cd packages/cdk && CDK_DOCKER=x npx cdk deploy')).toEqual(['cd', 'npx']);
  });

  it('ignores what quotes and redirections hold', () => {
    const command = `git diff --exit-code || { echo "files differ: run 'npx projen'; then kubectl apply" >&2; exit 1; }`;
    expect(programsOf(command)).toEqual(['git', 'echo', 'exit']);
    expect(programsOf("echo 'a && rm -rf /' > out")).toEqual(['echo']);
  });
});
