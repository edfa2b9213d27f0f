import * as fs from 'node:fs';
import * as path from 'node:path';
import { SecretValue } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, test } from 'vitest';
import { RunnerEnvironment, RunnerToken } from '../src';
import { newStack, validProps } from './helpers';

/** A made-up token: the value a Secrets Manager secret or SSM parameter would hold. */
const TOKEN = 'glrt-t3_VeryS3cretRunnerTokenValue42';

/** Every file of a synthesized cloud assembly (templates, manifests, asset manifests, tree), as text. */
function assemblyText(directory: string): string {
  return fs
    .readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.json$/.test(entry.name))
    .map((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

describe('the runner token never reaches the cloud assembly', () => {
  test.each([
    ['a Secrets Manager secret', 'secretsmanager'],
    ['a Secrets Manager secret JSON field', 'field'],
    ['an SSM SecureString', 'ssm'],
  ])('with the token in %s, no template, manifest or tree holds it', (_label, kind) => {
    const { app, stack, vpc } = newStack();
    const runnerToken =
      kind === 'ssm'
        ? RunnerToken.fromSsmSecureString('/gitlab/dev/runner-token')
        : RunnerToken.fromSecretsManager(
            secretsmanager.Secret.fromSecretNameV2(stack, 'Token', 'gitlab/dev/runner'),
            kind === 'field' ? 'token' : undefined,
          );
    new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), runnerToken });
    const assembly = app.synth();
    const text = assemblyText(assembly.directory);
    expect(text.length).toBeGreaterThan(10_000);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toMatch(/glrt-/);
    // The manager receives it as an ECS secret reference, never as a plain variable.
    const template = JSON.stringify(assembly.getStackByName(stack.stackName).template);
    expect(template).toMatch(/"Secrets":\[\{"Name":"RUNNER_TOKEN","ValueFrom":/);
    expect(template).not.toMatch(/"Name":"RUNNER_TOKEN","Value":/);
    if (kind === 'ssm') expect(template).toContain(':parameter/gitlab/dev/runner-token');
    if (kind === 'field') expect(template).toContain(':secret:gitlab/dev/runner:token::');
  });

  test('the scan does find a token that a plain-text secret leaks, and synth reports it as an error', () => {
    const { app, stack, vpc } = newStack();
    const leaky = new secretsmanager.Secret(stack, 'Leaky', { secretStringValue: SecretValue.unsafePlainText(TOKEN) });
    new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), runnerToken: RunnerToken.fromSecretsManager(leaky) });
    const assembly = app.synth();
    expect(assemblyText(assembly.directory)).toContain(TOKEN);
    const errors = assembly.getStackByName(stack.stackName).messages.filter((m) => m.level === 'error');
    expect(errors.map((e) => String(e.entry.data))).toEqual([
      expect.stringMatching(/secret Test\/Leaky is created from a plain-text value/),
    ]);
  });
});
