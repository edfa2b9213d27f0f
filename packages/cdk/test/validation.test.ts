import { SecretValue } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { describe, expect, test } from 'vitest';
import { JobCapacity, RunnerEnvironment, RunnerEnvironmentProps, RunnerToken, TaskImage } from '../src';
import { fargateSizeProblem } from '../src/validation/fargate-sizes';
import { newStack, validProps } from './helpers';

/** The synth-time error messages of one environment built from `props`. */
function errorsFor(change: (props: RunnerEnvironmentProps, stack: import('aws-cdk-lib').Stack, vpc: ec2.Vpc) => RunnerEnvironmentProps): string[] {
  const { stack, vpc } = newStack();
  new RunnerEnvironment(stack, 'Env', change(validProps(stack, vpc), stack, vpc));
  return Annotations.fromStack(stack)
    .findError('*', Match.anyValue())
    .map((message) => String(message.entry.data));
}

describe('synth-time validation', () => {
  test('valid props produce no error and no warning', () => {
    const { stack, vpc } = newStack();
    new RunnerEnvironment(stack, 'Env', validProps(stack, vpc));
    const annotations = Annotations.fromStack(stack);
    annotations.hasNoError('*', Match.anyValue());
    annotations.hasNoWarning('*', Match.anyValue());
  });

  test('an impossible job cpu/memory pair is an error that lists the valid sizes', () => {
    const errors = errorsFor((props) => ({ ...props, job: { ...props.job, cpu: 1024, memoryMiB: 512 } }));
    expect(errors).toEqual([
      'job task: memory 512 MiB does not fit cpu 1024. With 1024 CPU units Fargate accepts 2048 to 8192 in steps of 1024 MiB.',
    ]);
  });

  test('an unknown cpu value, a bad manager size and bad storage are each reported', () => {
    const errors = errorsFor((props) => ({
      ...props,
      job: { ...props.job, cpu: 3000, ephemeralStorageGiB: 10 },
      manager: { ...props.manager, cpu: 256, memoryMiB: 4096 },
    }));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^job task: cpu 3000 is not a Fargate size/),
        expect.stringMatching(/^job ephemeralStorageGiB must be an integer from 21 to 200 \(got 10\)/),
        expect.stringMatching(/^manager task: memory 4096 MiB does not fit cpu 256/),
      ]),
    );
    expect(errors).toHaveLength(3);
  });

  test('public IPs for jobs in private subnets are an error', () => {
    const errors = errorsFor((props) => ({
      ...props,
      assignPublicIpToJobs: true,
      jobSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    }));
    expect(errors).toEqual([expect.stringMatching(/^jobSubnets: public IPs are requested, but the selected subnets are not all public/)]);
  });

  test('public IPs for jobs in a VPC without public subnets are an error, not an exception', () => {
    const { stack } = newStack();
    const isolated = new ec2.Vpc(stack, 'Isolated', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    new RunnerEnvironment(stack, 'Env', { ...validProps(stack, isolated), assignPublicIpToJobs: true });
    const errors = Annotations.fromStack(stack).findError('*', Match.anyValue()).map((m) => String(m.entry.data));
    expect(errors).toEqual([expect.stringMatching(/^jobSubnets: .*Public/)]);
  });

  test('public subnets without public IPs are a warning', () => {
    const { stack, vpc } = newStack();
    new RunnerEnvironment(stack, 'Env', { ...validProps(stack, vpc), jobSubnets: { subnetType: ec2.SubnetType.PUBLIC } });
    const annotations = Annotations.fromStack(stack);
    annotations.hasNoError('*', Match.anyValue());
    annotations.hasWarning('/Test/Env', Match.stringLikeRegexp('^The job tasks run in public subnets without a public IP'));
  });

  test('a GitLab URL with credentials in it is an error that does not repeat the URL', () => {
    const errors = errorsFor((props) => ({ ...props, gitlabUrl: 'https://oauth2:glpat-abcdefghijklmnop@gitlab.com' }));
    expect(errors).toEqual([expect.stringMatching(/^gitlabUrl must not carry credentials/)]);
    expect(errors.join()).not.toContain('glpat-');
  });

  test('connecting via a public IP without assigning one is an error', () => {
    const errors = errorsFor((props) => ({ ...props, connectViaPublicIp: true }));
    expect(errors).toEqual([
      'connectViaPublicIp needs assignPublicIpToJobs: a job task only has a public IP when ECS assigns one.',
    ]);
  });

  test('a token written into the template through a plain-text secret is an error', () => {
    const errors = errorsFor((props, stack) => ({
      ...props,
      runnerToken: RunnerToken.fromSecretsManager(
        new secretsmanager.Secret(stack, 'Literal', {
          secretStringValue: SecretValue.unsafePlainText('glrt-abcdefghijklmnopqrst'),
        }),
      ),
    }));
    expect(errors).toEqual([expect.stringMatching(/secret .*Literal is created from a plain-text value/)]);
  });

  test('a token value pasted where a secret or parameter name belongs is an error', () => {
    const secretErrors = errorsFor((props, stack) => ({
      ...props,
      runnerToken: RunnerToken.fromSecretsManager(
        secretsmanager.Secret.fromSecretNameV2(stack, 'Pasted', 'glrt-abcdefghijklmnopqrst'),
      ),
    }));
    expect(secretErrors).toEqual([expect.stringMatching(/the secret name looks like a runner token value/)]);
    const parameterErrors = errorsFor((props) => ({
      ...props,
      runnerToken: RunnerToken.fromSsmSecureString('glrt-abcdefghijklmnopqrst'),
    }));
    expect(parameterErrors).toEqual([expect.stringMatching(/the parameter name looks like a runner token value/)]);
  });

  const WHERE_SHORT_TOKEN_IS =
    'Set it to the 9 characters GitLab shows after the runner\'s name on its page in Settings > CI/CD > Runners and in ' +
    'each job log\'s "Running with gitlab-runner ... on NAME SHORT" line (the token without its glrt- and t3_ prefixes, ' +
    'cut to 9 characters).';
  const shortTokenErrors = (runnerShortToken: string): string[] =>
    errorsFor((props) => ({ ...props, orphanReaper: { runnerShortToken } }));

  test('the full runner token where the reaper wants the short token is an error that does not echo it', () => {
    expect(shortTokenErrors('glrt-t3_abcdefghijklmnopqrstuvwxyz')).toEqual([
      'orphanReaper.runnerShortToken looks like a GitLab token (it starts with glrt-), which would be written in plain ' +
        `text into the task definitions and logs: never pass a token there. ${WHERE_SHORT_TOKEN_IS}`,
    ]);
  });

  test('a legacy runner token (20 characters, no prefix) is refused as longer than a short token, without echoing it', () => {
    // It used to pass (up to 20 characters were allowed) and landed in plain text in the task definitions.
    expect(shortTokenErrors('xY3kLm9PqR2sT7uVwZ1a')).toEqual([
      "orphanReaper.runnerShortToken (20 characters) is not a runner short token: gitlab-runner's is 1 to 9 letters, " +
        `digits, _ or -. ${WHERE_SHORT_TOKEN_IS}`,
    ]);
    expect(shortTokenErrors('AbCd1234xy')).toHaveLength(1);
  });

  test('prefixes gitlab-runner strips from a token, which no short token starts with, are refused', () => {
    for (const [value, prefix] of [['t3_devXy9', 't3_'], ['glrt-abcd', 'glrt-'], ['GR1348941', 'GR1348941'], ['glcbt-abc', 'glcbt-']]) {
      expect(shortTokenErrors(value as string)).toEqual([expect.stringContaining(`looks like a GitLab token (it starts with ${prefix})`)]);
    }
  });

  test('a short token of 9 characters or fewer, as gitlab-runner makes them, is accepted', () => {
    expect(shortTokenErrors('AbCd1234x')).toEqual([]);
    expect(shortTokenErrors('a-b_c')).toEqual([]);
    expect(shortTokenErrors('bad token')).toEqual([expect.stringMatching(/^orphanReaper.runnerShortToken "bad token" is not a runner short token/)]);
  });

  test('a token as a plain environment variable is an error', () => {
    const errors = errorsFor((props) => ({
      ...props,
      manager: { ...props.manager, extraEnvironment: { RUNNER_TOKEN: 'x', HTTPS_PROXY: 'glrt-abcdefghijklmnop', NO_PROXY: '169.254.169.254' } },
    }));
    expect(errors).toEqual([
      expect.stringMatching(/^manager extraEnvironment RUNNER_TOKEN: credentials must not be plain environment variables/),
      expect.stringMatching(/^manager extraEnvironment HTTPS_PROXY: credentials must not be plain environment variables/),
    ]);
  });

  test("the runner identity in extraEnvironment is an error that points to orphanReaper's runnerShortToken", () => {
    const errors = errorsFor((props) => ({
      ...props,
      manager: { ...props.manager, extraEnvironment: { GITLAB_FARGATE_RUNNER_SHORT_TOKEN: 'other1234' } },
    }));
    expect(errors).toEqual([
      'manager extraEnvironment GITLAB_FARGATE_RUNNER_SHORT_TOKEN: the runner\'s short token is set with orphanReaper: ' +
        '{ runnerShortToken }, which gives the manager and the orphan reaper the same identity; without it the image ' +
        'derives it from the token.',
    ]);
  });

  test('a token in a plain SSM String parameter (whose value is in the template) cannot be passed at all', () => {
    // RunnerToken takes a parameter *name*: a StringParameter created in the app is not even accepted by the type.
    // What remains is naming a SecureString, which ECS decrypts at task start.
    const { stack, vpc } = newStack();
    const parameter = new ssm.StringParameter(stack, 'Plain', { stringValue: 'not-a-token' });
    expect(parameter.parameterName).toBeDefined();
    new RunnerEnvironment(stack, 'Env', {
      ...validProps(stack, vpc),
      runnerToken: RunnerToken.fromSsmSecureString('/gitlab/dev/runner-token'),
    });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });

  test('every mistake is reported at once, none by an exception', () => {
    const errors = errorsFor((props) => ({
      ...props,
      environmentName: 'Dev Env',
      gitlabUrl: 'gitlab.example.com',
      concurrent: 0,
      capacity: JobCapacity.spotWithOnDemandFallback({ spotWeight: 0, onDemandWeight: 0 }),
      job: { ...props.job, cpu: 512, memoryMiB: 8192, sshPort: 70000, ephemeralStorageGiB: 500 },
      runnerToken: RunnerToken.fromSsmSecureString('glrt-abcdefghijklmnopqrst'),
      connectViaPublicIp: true,
      assignPublicIpToManager: true,
      managerSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      tags: { 'bad,key': 'x' },
    }));
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^environmentName "Dev Env"/),
        expect.stringMatching(/^gitlabUrl "gitlab.example.com" must be an http\(s\) URL/),
        expect.stringMatching(/^concurrent must be an integer from 1 to 1000 \(got 0\)/),
        expect.stringMatching(/^JobCapacity: at least one capacity provider needs a weight above 0/),
        expect.stringMatching(/^job task: memory 8192 MiB does not fit cpu 512/),
        expect.stringMatching(/^job sshPort must be an integer from 1 to 65535/),
        expect.stringMatching(/^job ephemeralStorageGiB must be an integer from 21 to 200/),
        expect.stringMatching(/^RunnerToken.fromSsmSecureString: the parameter name looks like a runner token/),
        expect.stringMatching(/^connectViaPublicIp needs assignPublicIpToJobs/),
        expect.stringMatching(/^managerSubnets: public IPs are requested/),
        expect.stringMatching(/^task tag key "bad,key"/),
      ]),
    );
    expect(errors).toHaveLength(11);
  });

  test("tags may not use the gitlab-fargate: prefix, which holds the driver's deadline tag the reaper trusts", () => {
    const errors = errorsFor((props) => ({
      ...props,
      tags: { team: 'platform', 'gitlab-fargate:deadline': '2099-01-01T00:00:00Z', 'GitLab-Fargate:Job-Id': '1' },
    }));
    expect(errors).toEqual([
      'tags key "gitlab-fargate:deadline" is reserved: keys starting with gitlab-fargate: are set by the constructs ' +
        'and the driver (gitlab-fargate:deadline tells the orphan reaper when a job task may be stopped). Use another prefix.',
      expect.stringMatching(/^tags key "GitLab-Fargate:Job-Id" is reserved/),
    ]);
  });

  test('a missing Dockerfile fails at once with the directory and the fix', () => {
    expect(() => TaskImage.fromAsset('/nonexistent/ci-coordinator')).toThrow(
      /no Dockerfile at \/nonexistent\/ci-coordinator\/Dockerfile.*images\/ci-coordinator/,
    );
  });
});

describe('Fargate size table', () => {
  test.each([
    [256, 512],
    [256, 2048],
    [512, 4096],
    [1024, 8192],
    [2048, 16384],
    [4096, 30720],
    [8192, 61440],
    [16384, 122880],
  ])('%i CPU units with %i MiB is valid', (cpu, memory) => {
    expect(fargateSizeProblem('task', cpu, memory)).toBeUndefined();
  });

  test.each([
    [256, 3072],
    [512, 512],
    [1024, 9216],
    [4096, 31744],
    [8192, 18432],
    [16384, 36864],
  ])('%i CPU units with %i MiB is rejected', (cpu, memory) => {
    expect(fargateSizeProblem('task', cpu, memory)).toMatch(/does not fit/);
  });
});
