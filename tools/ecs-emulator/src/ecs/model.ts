/**
 * The ECS resources the emulator keeps, in their wire shape (member names and types of the ECS model), so a
 * response is the stored object itself. Timestamps are epoch seconds (numbers), as awsJson1_1 sends them.
 */

export interface Tag {
  key: string;
  value: string;
}

export interface KeyValuePair {
  name: string;
  value: string;
}

export interface CapacityProviderStrategyItem {
  capacityProvider: string;
  weight: number;
  base: number;
}

export interface Cluster {
  clusterArn: string;
  clusterName: string;
  status: 'ACTIVE' | 'INACTIVE';
  registeredContainerInstancesCount: number;
  runningTasksCount: number;
  pendingTasksCount: number;
  activeServicesCount: number;
  statistics: KeyValuePair[];
  tags: Tag[];
  settings: KeyValuePair[];
  capacityProviders: string[];
  defaultCapacityProviderStrategy: CapacityProviderStrategyItem[];
  attachments: unknown[];
}

export interface PortMapping {
  containerPort?: number;
  hostPort?: number;
  protocol?: string;
  name?: string;
}

/** `dependsOn[]` of a container definition. */
export interface ContainerDependency {
  containerName: string;
  condition: 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY';
}

/** A container's `healthCheck`, with ECS's defaults filled in (seconds). */
export interface HealthCheck {
  command: string[];
  interval: number;
  timeout: number;
  retries: number;
  startPeriod?: number;
}

/** `mountPoints[]` of a container definition. */
export interface MountPoint {
  sourceVolume: string;
  containerPath: string;
  readOnly?: boolean;
}

/** `volumes[]` of a task definition (only task-scoped bind mounts run here: `name`, optional empty `host`). */
export interface Volume {
  name: string;
  host?: { sourcePath?: string };
  [member: string]: unknown;
}

export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

/** A container definition as registered; unknown members are kept and echoed as AWS does. */
export interface ContainerDefinition {
  name: string;
  image: string;
  essential?: boolean;
  command?: string[];
  entryPoint?: string[];
  environment?: KeyValuePair[];
  portMappings?: PortMapping[];
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  stopTimeout?: number;
  workingDirectory?: string;
  user?: string;
  dependsOn?: ContainerDependency[];
  startTimeout?: number;
  healthCheck?: HealthCheck;
  mountPoints?: MountPoint[];
  [member: string]: unknown;
}

export interface TaskDefinition {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  containerDefinitions: ContainerDefinition[];
  networkMode?: string;
  requiresCompatibilities?: string[];
  compatibilities: string[];
  cpu?: string;
  memory?: string;
  taskRoleArn?: string;
  executionRoleArn?: string;
  ephemeralStorage?: { sizeInGiB: number };
  runtimePlatform?: { operatingSystemFamily?: string; cpuArchitecture?: string };
  volumes: Volume[];
  placementConstraints: unknown[];
  requiresAttributes: { name: string }[];
  registeredAt: number;
  registeredBy: string;
  deregisteredAt?: number;
  [member: string]: unknown;
}

export interface NetworkInterface {
  attachmentId: string;
  privateIpv4Address: string;
}

export interface Container {
  containerArn: string;
  taskArn: string;
  name: string;
  image: string;
  runtimeId?: string;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  exitCode?: number;
  reason?: string;
  networkBindings: unknown[];
  networkInterfaces: NetworkInterface[];
  healthStatus: HealthStatus;
  cpu: string;
  memory?: string;
  memoryReservation?: string;
}

export interface Attachment {
  id: string;
  type: 'ElasticNetworkInterface';
  status: 'PRECREATED' | 'ATTACHED' | 'DETACHING' | 'DELETED';
  details: KeyValuePair[];
}

export type TaskStatus =
  | 'PROVISIONING'
  | 'PENDING'
  | 'ACTIVATING'
  | 'RUNNING'
  | 'DEACTIVATING'
  | 'STOPPING'
  | 'DEPROVISIONING'
  | 'STOPPED';

export type StopCode =
  | 'TaskFailedToStart'
  | 'EssentialContainerExited'
  | 'UserInitiated'
  | 'SpotInterruption'
  | 'TerminationNotice';

export interface ContainerOverride {
  name: string;
  command?: string[];
  environment?: KeyValuePair[];
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  [member: string]: unknown;
}

export interface TaskOverride {
  containerOverrides: ContainerOverride[];
  cpu?: string;
  memory?: string;
  ephemeralStorage?: { sizeInGiB: number };
  taskRoleArn?: string;
  executionRoleArn?: string;
  inferenceAcceleratorOverrides: unknown[];
}

export interface Task {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  launchType: 'FARGATE';
  capacityProviderName?: string;
  platformVersion: string;
  platformFamily: string;
  cpu: string;
  memory: string;
  availabilityZone: string;
  group: string;
  startedBy?: string;
  version: number;
  createdAt: number;
  connectivity?: 'CONNECTED' | 'DISCONNECTED';
  connectivityAt?: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  stopCode?: StopCode;
  stoppedReason?: string;
  attachments: Attachment[];
  attributes: { name: string; value: string }[];
  containers: Container[];
  overrides: TaskOverride;
  healthStatus: HealthStatus;
  enableExecuteCommand: boolean;
  ephemeralStorage: { sizeInGiB: number };
  fargateEphemeralStorage: { sizeInGiB: number };
  tags: Tag[];
}
