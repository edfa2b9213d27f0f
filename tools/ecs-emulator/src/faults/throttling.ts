import { AwsError } from '../wire/aws-error.js';
import { TokenBucket, type BucketFigures } from './token-bucket.js';

/** AWS's ECS API throttling categories (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html). */
export type ApiCategory =
  | 'clusterModify'
  | 'clusterRead'
  | 'taskDefinitionModify'
  | 'taskDefinitionRead'
  | 'taskDefinitionDelete'
  | 'tagModify'
  | 'tagRead'
  | 'clusterResourceModify'
  | 'clusterResourceRead';

/** The documented burst and sustained rate of each category, per account and Region. */
export const AWS_BUCKETS: Readonly<Record<ApiCategory, BucketFigures>> = {
  clusterModify: { burst: 20, refillPerSecond: 1 },
  clusterRead: { burst: 50, refillPerSecond: 20 },
  taskDefinitionModify: { burst: 20, refillPerSecond: 1 },
  taskDefinitionRead: { burst: 50, refillPerSecond: 20 },
  taskDefinitionDelete: { burst: 5, refillPerSecond: 1 },
  tagModify: { burst: 20, refillPerSecond: 10 },
  tagRead: { burst: 50, refillPerSecond: 20 },
  clusterResourceModify: { burst: 100, refillPerSecond: 40 },
  clusterResourceRead: { burst: 100, refillPerSecond: 20 },
};

/** Fargate's own RunTask call bucket, checked in addition to the ECS one (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/throttling.html). */
export const FARGATE_RUN_TASK_BUCKET: BucketFigures = { burst: 20, refillPerSecond: 20 };

const OPERATION_CATEGORY: Readonly<Record<string, ApiCategory>> = {
  CreateCluster: 'clusterModify',
  DeleteCluster: 'clusterModify',
  PutClusterCapacityProviders: 'clusterModify',
  DescribeClusters: 'clusterRead',
  RegisterTaskDefinition: 'taskDefinitionModify',
  DeregisterTaskDefinition: 'taskDefinitionModify',
  DescribeTaskDefinition: 'taskDefinitionRead',
  ListTaskDefinitions: 'taskDefinitionRead',
  ListTaskDefinitionFamilies: 'taskDefinitionRead',
  DeleteTaskDefinitions: 'taskDefinitionDelete',
  TagResource: 'tagModify',
  UntagResource: 'tagModify',
  ListTagsForResource: 'tagRead',
  RunTask: 'clusterResourceModify',
  StopTask: 'clusterResourceModify',
  DescribeTasks: 'clusterResourceRead',
  ListTasks: 'clusterResourceRead',
};

/** Throttling settings. */
export interface ThrottlingOptions {
  /** Whether calls are throttled at all. @default true */
  readonly enabled?: boolean;
  /** Per-category figures replacing AWS's. @default AWS_BUCKETS */
  readonly buckets?: Partial<Record<ApiCategory | 'fargateRunTask', BucketFigures>>;
}

export function categoryOf(operation: string): ApiCategory | undefined {
  return OPERATION_CATEGORY[operation];
}

/** One bucket per category, shared by all callers as on AWS (per account and Region). */
export class Throttler {
  private buckets = new Map<string, TokenBucket>();
  private enabled: boolean;

  constructor(
    private options: ThrottlingOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.enabled = options.enabled ?? true;
  }

  /** Replaces the settings; buckets start full again. */
  configure(options: ThrottlingOptions): void {
    this.options = options;
    this.enabled = options.enabled ?? true;
    this.buckets.clear();
  }

  describe(): { enabled: boolean; buckets: Record<string, BucketFigures & { available: number }> } {
    const buckets: Record<string, BucketFigures & { available: number }> = {};
    for (const name of [...Object.keys(AWS_BUCKETS), 'fargateRunTask']) {
      const bucket = this.bucket(name);
      buckets[name] = { ...bucket.figures, available: Math.floor(bucket.available()) };
    }
    return { enabled: this.enabled, buckets };
  }

  /** Throws AWS's `ThrottlingException` ("Rate exceeded") when the operation's bucket is empty. */
  check(operation: string, launchesOnFargate: boolean): void {
    if (!this.enabled) return;
    const category = categoryOf(operation);
    if (category && !this.bucket(category).tryTake()) throw rateExceeded();
    if (launchesOnFargate && !this.bucket('fargateRunTask').tryTake()) throw rateExceeded();
  }

  private bucket(name: string): TokenBucket {
    let bucket = this.buckets.get(name);
    if (!bucket) {
      const figures =
        this.options.buckets?.[name as ApiCategory] ??
        (name === 'fargateRunTask' ? FARGATE_RUN_TASK_BUCKET : AWS_BUCKETS[name as ApiCategory]);
      bucket = new TokenBucket(figures, this.now);
      this.buckets.set(name, bucket);
    }
    return bucket;
  }
}

function rateExceeded(): AwsError {
  return new AwsError('ThrottlingException', 'Rate exceeded');
}
