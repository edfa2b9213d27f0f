import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, test } from 'vitest';
import { RunnerCacheOptions, RunnerEnvironment } from '../src';
import { iamStatements, logicalId, managerSettingsParameter, newStack, validProps } from './helpers';

/** The built config CLI the manager image renders with (see renderer-contract.test.ts). */
const CONFIG_CLI = path.resolve(__dirname, '../../config/dist/cli.js');

function synth(cache?: RunnerCacheOptions): { template: Template; environment: RunnerEnvironment } {
  const { stack, vpc } = newStack();
  const environment = new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), ...(cache ? { cache } : {}) });
  Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  return { template: Template.fromStack(stack), environment };
}

function managerCacheStatements(template: Template): unknown[] {
  const managerPolicy = logicalId(template, 'AWS::IAM::Policy', 'DevManagerTaskRoleDefaultPolicy');
  return iamStatements(template)
    .filter((s) => s.policy === managerPolicy)
    .map((s) => s.statement)
    .filter((statement) => JSON.stringify(statement).match(/"(s3|kms):/));
}

describe('the cache bucket RunnerEnvironment creates by default', () => {
  const { template } = synth();
  const bucketId = logicalId(template, 'AWS::S3::Bucket', 'DevCache');
  const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };

  test('is encrypted with S3-managed keys, blocks public access, is not versioned and expires objects after 14 days', () => {
    const bucket = template.toJSON().Resources[bucketId].Properties;
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration).toBeUndefined();
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Status: 'Enabled', ExpirationInDays: 14, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    ]);
  });

  test('refuses every request without TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
          }),
        ]),
      },
    });
  });

  test('the managers may get and put its objects and list its keys, and nothing else', () => {
    expect(managerCacheStatements(template)).toEqual([
      {
        Sid: 'ReadWriteCache', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Join': ['', [bucketArn, '/*']] },
      },
      { Sid: 'FindCacheKeys', Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
    ]);
    // The job tasks presign nothing: their role gets no S3 permission for the cache.
    const jobPolicies = iamStatements(template).filter((s) => s.policy.includes('DevJob'));
    expect(JSON.stringify(jobPolicies)).not.toContain('s3:');
  });

  test('the settings parameter names the bucket and its region', () => {
    const settings = managerSettingsParameter(template, 'DevManagerSettings');
    expect(settings.CACHE_S3_BUCKET).toEqual({ Ref: bucketId });
    expect(settings.CACHE_S3_REGION).toEqual({ Ref: 'AWS::Region' });
    expect(settings).not.toHaveProperty('CACHE_S3_PATH');
  });
});

describe('cache options', () => {
  test('a KMS key encrypts the bucket and the managers may use it for the cache', () => {
    const { stack, vpc } = newStack();
    const key = new kms.Key(stack, 'CacheKey', { enableKeyRotation: true });
    new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), cache: { encryptionKey: key, expiration: Duration.days(3) } });
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [logicalId(template, 'AWS::KMS::Key', 'CacheKey'), 'Arn'] };
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } },
        ],
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 3 })] },
    });
    expect(managerCacheStatements(template).at(-1)).toEqual({
      Sid: 'EncryptCache', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn,
    });
  });

  test('a given bucket is used instead of a new one, and a path limits the grants to its prefix', () => {
    const { stack, vpc } = newStack();
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'Shared', { bucketName: 'acme-ci-cache', region: 'eu-central-1' });
    new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), cache: { bucket, path: 'dev', shared: true } });
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-ci-cache']] };
    expect(managerCacheStatements(template)).toEqual([
      {
        Sid: 'ReadWriteCache', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-ci-cache/dev/*']] },
      },
      {
        Sid: 'FindCacheKeys', Effect: 'Allow', Action: 's3:ListBucket', Resource: arn,
        Condition: { StringLike: { 's3:prefix': ['dev/*'] } },
      },
    ]);
    expect(managerSettingsParameter(template, 'DevManagerSettings')).toMatchObject({
      CACHE_S3_BUCKET: 'acme-ci-cache', CACHE_S3_REGION: 'eu-central-1', CACHE_S3_PATH: 'dev', CACHE_SHARED: 'true',
    });
  });

  test('enabled: false makes no bucket, no grant and no cache setting', () => {
    const { template, environment } = synth({ enabled: false });
    expect(environment.cache).toBeUndefined();
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(managerCacheStatements(template)).toEqual([]);
    expect(Object.keys(managerSettingsParameter(template, 'DevManagerSettings')).filter((name) => name.startsWith('CACHE_'))).toEqual([]);
  });

  test('bad options are synth errors that say how to fix them', () => {
    const { stack, vpc } = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Given', 'acme-ci-cache');
    new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), cache: { bucket, expiration: Duration.hours(5), path: '/dev/' } });
    const errors = Annotations.fromStack(stack).findError('*', Match.anyValue()).map((e) => String(e.entry.data));
    expect(errors).toEqual(expect.arrayContaining([
      expect.stringContaining('set the lifecycle rule of the given cache bucket yourself'),
      expect.stringContaining('cache expiration 5 hours must be a whole number of days'),
      expect.stringContaining('cache path "/dev/"'),
    ]));
  });
});

describe('cdk-nag with the cache', () => {
  test.each<[string, (stack: Stack) => RunnerCacheOptions]>([
    ['a new bucket with a KMS key', (stack) => ({ encryptionKey: new kms.Key(stack, 'CacheKey', { enableKeyRotation: true }) })],
    ['a given bucket with a path', (stack) => ({ bucket: s3.Bucket.fromBucketName(stack, 'Given', 'acme-ci-cache'), path: 'dev' })],
  ])('%s has no unacknowledged AwsSolutions finding', (_, cache) => {
    const { app, stack, vpc } = newStack();
    new RunnerEnvironment(stack, 'Dev', { ...validProps(stack, vpc), cache: cache(stack) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('the cache settings render [runners.cache] with gitlab-fargate-config (packages/config built)', () => {
  test('Type = "s3", AuthenticationType = "iam", BucketName and BucketLocation', () => {
    if (!fs.existsSync(CONFIG_CLI)) throw new Error(`${CONFIG_CLI} is missing: build the config package first`);
    const { template, environment } = synth();
    const bucketId = logicalId(template, 'AWS::S3::Bucket', 'DevCache');
    // The deploy-time values of the references the construct's settings hold.
    const deployed: { [name: string]: string } = { [bucketId]: 'gitlab-fargate-dev-cache-1a2b3c', 'AWS::Region': 'eu-west-1' };
    const settings = Object.fromEntries(
      Object.entries(managerSettingsParameter(template, 'DevManagerSettings'))
        .filter(([name]) => name in environment.manager.settings && !name.startsWith('GITLAB_FARGATE_'))
        .map(([name, value]) => [name, typeof value === 'string' ? value : deployed[(value as { Ref: string }).Ref] ?? 'stand-in']),
    );
    expect(Object.keys(settings)).toEqual(expect.arrayContaining(['CACHE_S3_BUCKET', 'CACHE_S3_REGION']));
    const result = spawnSync(process.execPath, [CONFIG_CLI, 'render', 'runner'], {
      // GITLAB_URL is in the task definition, not the parameter (a start-only setting).
      env: { PATH: process.env.PATH ?? '', ...settings, GITLAB_URL: environment.manager.settings.GITLAB_URL, RUNNER_TOKEN: 'glrt-t3_0123456789abcdefghij' },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const cache = /\[runners\.cache\]\n([\s\S]*?)\n\s*\[runners\.cache\.s3\]\n([\s\S]*?)(\n\s*\[|$)/.exec(result.stdout);
    expect(cache, result.stdout).not.toBeNull();
    expect(cache![1]).toMatch(/Type = "s3"/);
    expect(cache![2]).toMatch(/AuthenticationType = "iam"/);
    expect(cache![2]).toMatch(/BucketName = "gitlab-fargate-dev-cache-1a2b3c"/);
    expect(cache![2]).toMatch(/BucketLocation = "eu-west-1"/);
  });
});
