import type { TaskDefinition } from '@aws-sdk/client-ecs';

/** A task definition as DescribeTaskDefinition returns the CDK's job task definition (read-only fields included). */
export const TEMPLATE: TaskDefinition = {
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/ci-coordinator:7',
  family: 'ci-coordinator',
  revision: 7,
  status: 'ACTIVE',
  taskRoleArn: 'arn:aws:iam::123456789012:role/job-task',
  executionRoleArn: 'arn:aws:iam::123456789012:role/job-execution',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  compatibilities: ['EC2', 'FARGATE'],
  cpu: '1024',
  memory: '2048',
  runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
  requiresAttributes: [{ name: 'ecs.capability.task-eni' }],
  volumes: [],
  containerDefinitions: [
    {
      name: 'ci-coordinator',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ci-coordinator:1',
      essential: true,
      cpu: 0,
      portMappings: [{ containerPort: 22, hostPort: 22, protocol: 'tcp' }],
      environment: [],
      mountPoints: [],
      volumesFrom: [],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ci/jobs', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'job' } },
    },
  ],
};
