import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { cacheStatements } from '../manager/manager-permissions';
import { acknowledgeNag, NAG_ARN_PREFIX, nagRef } from '../validation/nag';

/**
 * gitlab-runner's distributed cache for one environment (`[runners.cache]`, `Type = "s3"`,
 * `AuthenticationType = "iam"`). Every job runs in a fresh task, so `cache:` in `.gitlab-ci.yml` only carries over
 * between jobs through this bucket.
 */
export interface RunnerCacheOptions {
  /**
   * Give the environment a distributed cache. `false`: no bucket, no grant, no `[runners.cache]`.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * An existing bucket to use instead of creating one. Its encryption, public-access block and expiry are then the
   * bucket owner's business; the managers get the same grants (scoped to {@link path} when set).
   * @default - a new bucket: encrypted, public access blocked, TLS only, objects expiring after `expiration`
   */
  readonly bucket?: s3.IBucket;

  /**
   * The KMS key that encrypts the bucket's objects: the managers get `kms:GenerateDataKey` and `kms:Decrypt` on it
   * (S3 asks for them on the presigned PUT and GET, which carry the manager's credentials). With a given `bucket`
   * encrypted with a KMS key, pass that key here.
   * @default - S3-managed keys (SSE-S3) on a new bucket; the given bucket's own `encryptionKey`, if any
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long a cache object is kept after it was last written (an S3 lifecycle expiry on the new bucket). A cache
   * key a pipeline still uses is written again by its jobs; one it does not is gone after this. Whole days, at least 1.
   * Not allowed with a given `bucket`.
   * @default Duration.days(14)
   */
  readonly expiration?: Duration;

  /**
   * A key prefix for this runner's cache objects (`[runners.cache] Path`); the managers' grants are limited to it.
   * Letters, digits and `!-_.*'()/`, without a leading or trailing `/`.
   * @default - no prefix: the whole bucket
   */
  readonly path?: string;

  /**
   * Share the cache between the managers' runners (`[runners.cache] Shared`). All managers of an environment share
   * one runner token and so one cache path anyway; this matters only for several runners on one bucket.
   * @default false
   */
  readonly shared?: boolean;
}

/** Properties of {@link RunnerCache}; {@link RunnerEnvironment} fills them in from {@link RunnerCacheOptions}. */
export interface RunnerCacheProps extends RunnerCacheOptions {
  /** The region `[runners.cache.s3] BucketLocation` names. */
  readonly region: string;
}

const S3_KEY_PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;

/**
 * The S3 bucket behind gitlab-runner's distributed cache, and the settings the runner managers render
 * `[runners.cache]` from. gitlab-runner presigns each job's GET and PUT with the manager's credentials, so the
 * managers need the grants ({@link grantManager}) and the job tasks none, only a route to S3.
 */
export class RunnerCache extends Construct {
  /** The cache bucket, created or given. */
  public readonly bucket: s3.IBucket;
  /** The key that encrypts the bucket's objects, when it is a KMS key. */
  public readonly encryptionKey?: kms.IKey;
  /** The key prefix, when there is one. */
  public readonly path?: string;
  /**
   * The settings `gitlab-fargate-config render runner` turns into `[runners.cache]`: `CACHE_S3_BUCKET`,
   * `CACHE_S3_REGION`, and `CACHE_S3_PATH`/`CACHE_SHARED` when set.
   */
  public readonly settings: { [name: string]: string };

  constructor(scope: Construct, id: string, props: RunnerCacheProps) {
    super(scope, id);
    for (const problem of cacheProblems(props)) Annotations.of(this).addError(problem);
    this.path = props.path;
    this.encryptionKey = props.encryptionKey ?? props.bucket?.encryptionKey;
    this.bucket = props.bucket ?? this.createBucket(props);
    this.settings = {
      CACHE_S3_BUCKET: this.bucket.bucketName,
      // A given bucket may live in another region (Bucket.fromBucketAttributes({ region })).
      CACHE_S3_REGION: props.bucket?.env.region ?? props.region,
      ...(props.path === undefined ? {} : { CACHE_S3_PATH: props.path }),
      ...(props.shared === undefined ? {} : { CACHE_SHARED: String(props.shared) }),
    };
  }

  /** Lets `role` (a runner manager's) presign the cache's GETs and PUTs, and nothing else on the bucket. */
  public grantManager(role: iam.Role): void {
    const statements = cacheStatements({ bucketArn: this.bucket.bucketArn, path: this.path, encryptionKey: this.encryptionKey });
    for (const statement of statements) role.addToPrincipalPolicy(statement);
    const bucketArn = this.nagBucketArn();
    if (bucketArn === undefined) return;
    acknowledgeNag(
      role,
      `AwsSolutions-IAM5[Resource::${bucketArn}/${this.path === undefined ? '' : `${this.path}/`}*]`,
      'Cache object keys are made per job (runner, project and cache key): GetObject and PutObject on the cache ' +
        'bucket\'s objects (under its path, when one is set) are what gitlab-runner\'s presigned URLs need.',
    );
  }

  /** How cdk-nag writes the bucket's ARN in a finding id, when it can be known at synth. */
  private nagBucketArn(): string | undefined {
    if (this.bucket instanceof s3.Bucket) return `<${nagRef(this.bucket).slice(1, -1)}.Arn>`;
    if (!Token.isUnresolved(this.bucket.bucketName)) return `${NAG_ARN_PREFIX}s3:::${this.bucket.bucketName}`;
    return undefined;
  }

  private createBucket(props: RunnerCacheProps): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
      encryptionKey: props.encryptionKey,
      // S3 Bucket Keys cut the KMS requests of many small cache objects; irrelevant for SSE-S3.
      ...(props.encryptionKey ? { bucketKeyEnabled: true } : {}),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-cache',
          expiration: props.expiration ?? DEFAULT_CACHE_EXPIRATION,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    acknowledgeNag(
      bucket,
      'AwsSolutions-S1',
      'A build cache of disposable objects, reached only through URLs the runner managers presign: server access ' +
        'logs would cost more than the cache is worth. Turn on CloudTrail S3 data events if you need an access trail.',
    );
    return bucket;
  }
}

/** How long cache objects are kept by default. */
export const DEFAULT_CACHE_EXPIRATION = Duration.days(14);

function cacheProblems(props: RunnerCacheProps): string[] {
  const problems: string[] = [];
  if (props.bucket !== undefined && props.expiration !== undefined) {
    problems.push(
      'cache expiration applies to the bucket the construct creates: set the lifecycle rule of the given cache ' +
        'bucket yourself, or leave out cache.bucket.',
    );
  }
  const expiration = props.expiration;
  if (expiration !== undefined && !expiration.isUnresolved()) {
    const days = expiration.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      problems.push(
        `cache expiration ${expiration.toHumanString()} must be a whole number of days, at least 1 (S3 lifecycle ` +
          'rules count in days).',
      );
    }
  }
  const path = props.path;
  if (path !== undefined && !Token.isUnresolved(path) && !S3_KEY_PREFIX.test(path)) {
    problems.push(`cache path "${path}" must be letters, digits and !-_.*'() separated by single "/", without a leading or trailing "/".`);
  }
  return problems;
}
