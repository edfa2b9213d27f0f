/**
 * What AWS documents for each compared call, and what moto_server 5.2.1 does. The comparison test checks the
 * emulator against the first and moto against the second; README.md ("Emulator vs moto") shows both.
 */
export type ProbeName =
  | 'runTaskInitialStatus'
  | 'runTaskEniAttachment'
  | 'taskIdFormat'
  | 'taskSize'
  | 'platformVersion'
  | 'capacityProviderStrategyRun'
  | 'neitherLaunchTypeNorStrategy'
  | 'bothLaunchTypeAndStrategy'
  | 'describeUnknownTask'
  | 'stopUnknownTask'
  | 'stopTaskImmediateStatus'
  | 'lifecycleDriver'
  | 'containerNetworkInterfaces'
  | 'publicIpAssociation'
  | 'clientTokenReuse'
  | 'unknownTaskDefinition'
  | 'unknownCluster'
  | 'clusterNotFound'
  | 'missingNetworkConfiguration'
  | 'throttlingBurst'
  | 'tooManyContainers'
  | 'inactiveRunTask'
  | 'deleteTaskDefinitions'
  | 'familiesDefaultStatus'
  | 'sameFamilyOverlap';

export const AWS_BEHAVIOUR: Record<ProbeName, unknown> = {
  runTaskInitialStatus: 'PROVISIONING',
  runTaskEniAttachment: 'PRECREATED: subnetId',
  taskIdFormat: '32 hex',
  taskSize: 'cpu=256 memory=512',
  platformVersion: '1.4.0',
  capacityProviderStrategyRun: 'FARGATE_SPOT',
  neitherLaunchTypeNorStrategy: 'error 400 InvalidParameterException',
  bothLaunchTypeAndStrategy: 'error 400 InvalidParameterException',
  describeUnknownTask: 'tasks=0 failures=MISSING',
  stopUnknownTask: 'error 400 InvalidParameterException',
  stopTaskImmediateStatus: 'last=not yet STOPPED desired=STOPPED stopCode=UserInitiated reason=cmp',
  lifecycleDriver: 'time (unchanged across 3 quick describes)',
  containerNetworkInterfaces: 'filled once RUNNING',
  publicIpAssociation: 'Association.PublicIp present',
  clientTokenReuse: 'same params: same task; other params: error 400 ConflictException',
  unknownTaskDefinition: 'error 400 ClientException',
  unknownCluster: 'clusters=0 failures=MISSING',
  clusterNotFound: 'error 400 ClusterNotFoundException',
  missingNetworkConfiguration: 'error 400 InvalidParameterException',
  throttlingBurst: 'ThrottlingException after the burst',
  tooManyContainers: 'error 400 ClientException',
  inactiveRunTask: 'error 400 InvalidParameterException',
  deleteTaskDefinitions: 'DELETE_IN_PROGRESS',
  familiesDefaultStatus: 'cmp-fam-active,cmp-fam-inactive',
  sameFamilyOverlap: 'ClientException: Too many concurrent attempts to create a new revision of the specified family.,registered',
};

/** Observed with moto_server 5.2.1 and @aws-sdk/client-ecs 3.1164 (`SyntaxError` = moto answered an HTML 500). */
export const MOTO_BEHAVIOUR: Record<ProbeName, unknown> = {
  runTaskInitialStatus: 'RUNNING',
  runTaskEniAttachment: 'ATTACHED: subnetId,networkInterfaceId,macAddress,privateDnsName,privateIPv4Address',
  taskIdFormat: 'other (UUID)',
  taskSize: 'cpu=undefined memory=undefined',
  platformVersion: undefined,
  capacityProviderStrategyRun: 'error 500 SyntaxError',
  neitherLaunchTypeNorStrategy: 'error 500 SyntaxError',
  bothLaunchTypeAndStrategy: 'RUNNING',
  describeUnknownTask: 'tasks=0 failures=none',
  stopUnknownTask: 'error 500 SyntaxError',
  stopTaskImmediateStatus: 'last=STOPPED desired=STOPPED stopCode=none reason=cmp',
  lifecycleDriver: 'describe count (DEACTIVATING→STOPPING→DEPROVISIONING)',
  containerNetworkInterfaces: 'always empty',
  publicIpAssociation: 'no Association',
  clientTokenReuse: 'same params: new task; other params: accepted',
  unknownTaskDefinition: 'error 400 ClientException',
  unknownCluster: 'clusters=0 failures=MISSING',
  clusterNotFound: 'error 400 ClusterNotFoundException',
  missingNetworkConfiguration: 'error 400 InvalidParameterException',
  throttlingBurst: 'never throttles',
  tooManyContainers: 'registered',
  inactiveRunTask: 'RUNNING',
  deleteTaskDefinitions: 'DELETE_IN_PROGRESS',
  familiesDefaultStatus: 'cmp-fam-active,cmp-fam-inactive',
  sameFamilyOverlap: 'registered,registered',
};
