import { AwsError, clusterNotFound, invalidParameter } from '../wire/aws-error.js';
import { optKeyValueList, optObjectList, optString, optStringList, reqString, type Input } from '../wire/input.js';
import { checkProviders, checkStrategyAssociated, readStrategy } from './capacity.js';
import type { ServiceContext } from './context.js';
import { clusterArn, clusterNameOf } from './identifiers.js';
import type { Cluster } from './model.js';
import { checkClusterName, readTags } from './validation.js';

/** An ACTIVE cluster by name or ARN, or `ClusterNotFoundException`. */
export function activeCluster(ctx: ServiceContext, reference: string | undefined): Cluster {
  const cluster = ctx.store.clusters.get(clusterNameOf(reference));
  if (!cluster || cluster.status !== 'ACTIVE') throw clusterNotFound();
  return cluster;
}

/** The cluster as DescribeClusters shows it, with live task counts. */
function view(ctx: ServiceContext, cluster: Cluster, includeTags: boolean): Cluster {
  let running = 0;
  let pending = 0;
  for (const { task } of ctx.store.liveTasks(ctx.now())) {
    if (task.clusterArn !== cluster.clusterArn) continue;
    if (task.lastStatus === 'RUNNING') running++;
    else if (['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(task.lastStatus)) pending++;
  }
  return { ...cluster, runningTasksCount: running, pendingTasksCount: pending, tags: includeTags ? cluster.tags : [] };
}

export function createCluster(ctx: ServiceContext, input: Input): unknown {
  const name = optString(input, 'clusterName') ?? 'default';
  checkClusterName(name);
  const capacityProviders = optStringList(input, 'capacityProviders') ?? [];
  checkProviders(capacityProviders);
  const strategy = readStrategy(optObjectList(input, 'defaultCapacityProviderStrategy')) ?? [];
  checkStrategyAssociated(strategy, capacityProviders);
  const tags = readTags(optObjectList(input, 'tags'));
  const existing = ctx.store.clusters.get(name);
  // CreateCluster with an existing name returns that cluster (moto does; AWS is reported to, too).
  if (existing && existing.status === 'ACTIVE') return { cluster: view(ctx, existing, true) };
  const cluster: Cluster = {
    clusterArn: clusterArn(ctx.scope, name),
    clusterName: name,
    status: 'ACTIVE',
    registeredContainerInstancesCount: 0,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    activeServicesCount: 0,
    statistics: [],
    tags,
    settings: optKeyValueList(input, 'settings') ?? [{ name: 'containerInsights', value: 'disabled' }],
    capacityProviders,
    defaultCapacityProviderStrategy: strategy,
    attachments: [],
  };
  ctx.store.clusters.set(name, cluster);
  return { cluster: view(ctx, cluster, true) };
}

export function describeClusters(ctx: ServiceContext, input: Input): unknown {
  const references = optStringList(input, 'clusters') ?? ['default'];
  if (references.length > 100) throw invalidParameter('clusters can have at most 100 items.');
  const includeTags = (optStringList(input, 'include') ?? []).includes('TAGS');
  const clusters: Cluster[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const reference of references) {
    const cluster = ctx.store.clusters.get(clusterNameOf(reference));
    if (cluster) clusters.push(view(ctx, cluster, includeTags));
    else failures.push({ arn: clusterArn(ctx.scope, clusterNameOf(reference)), reason: 'MISSING' });
  }
  return { clusters, failures };
}

export function deleteCluster(ctx: ServiceContext, input: Input): unknown {
  const cluster = activeCluster(ctx, reqString(input, 'cluster'));
  const active = ctx.store
    .liveTasks(ctx.now())
    .some(({ task }) => task.clusterArn === cluster.clusterArn && task.lastStatus !== 'STOPPED');
  if (active) {
    throw new AwsError('ClusterContainsTasksException', 'The cluster cannot be deleted while tasks are active.');
  }
  cluster.status = 'INACTIVE';
  return { cluster: view(ctx, cluster, true) };
}

export function putClusterCapacityProviders(ctx: ServiceContext, input: Input): unknown {
  const cluster = activeCluster(ctx, reqString(input, 'cluster'));
  const providers = optStringList(input, 'capacityProviders');
  const strategy = readStrategy(optObjectList(input, 'defaultCapacityProviderStrategy'));
  if (providers === undefined) throw invalidParameter('capacityProviders can not be null.');
  if (strategy === undefined) throw invalidParameter('defaultCapacityProviderStrategy can not be null.');
  checkProviders(providers);
  checkStrategyAssociated(strategy, providers);
  cluster.capacityProviders = providers;
  cluster.defaultCapacityProviderStrategy = strategy;
  return { cluster: view(ctx, cluster, true) };
}
