import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { describe, expect, test } from 'vitest';
import { TaskImage } from '../src';
import { JOB_IMAGE_DIR } from './helpers';

/** Binds `image` to a one-container task definition; returns the template and the Docker assets' build sources. */
function bind(image: TaskImage, architecture: ecs.CpuArchitecture) {
  const app = new App();
  const stack = new Stack(app, 'Images');
  const definition = new ecs.FargateTaskDefinition(stack, 'Definition');
  definition.addContainer('Container', { image: image.bind(architecture) });
  const assembly = app.synth();
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Images.assets.json'), 'utf8'));
  const dockerImages = Object.values(manifest.dockerImages ?? {}).map((image: any) => image.source);
  return { template: Template.fromStack(stack), dockerImages };
}

describe('TaskImage', () => {
  test.each([
    [ecs.CpuArchitecture.X86_64, 'linux/amd64'],
    [ecs.CpuArchitecture.ARM64, 'linux/arm64'],
  ])('fromAsset builds for the task architecture (%s → %s)', (architecture, platform) => {
    const { dockerImages } = bind(TaskImage.fromAsset(JOB_IMAGE_DIR, { buildArgs: { FLAVOUR: 'test' } }), architecture);
    expect(dockerImages).toHaveLength(1);
    expect(dockerImages[0]).toMatchObject({ platform, dockerBuildArgs: { FLAVOUR: 'test' } });
  });

  test('fromEcrRepository uses the repository and tag, with pull rights for the execution role', () => {
    const app = new App();
    const stack = new Stack(app, 'Images');
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'gitlab-fargate/ci-coordinator');
    const definition = new ecs.FargateTaskDefinition(stack, 'Definition');
    definition.addContainer('Container', {
      image: TaskImage.fromEcrRepository(repository, '1.2.3').bind(ecs.CpuArchitecture.ARM64),
    });
    const template = Template.fromStack(stack);
    const [container] = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0]?.Properties
      .ContainerDefinitions;
    expect(JSON.stringify(container.Image)).toContain('/gitlab-fargate/ci-coordinator:1.2.3');
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('ecr:BatchGetImage');
  });

  test('fromRegistry passes the name through', () => {
    const { template } = bind(TaskImage.fromRegistry('registry.example.com/ci/coordinator:1'), ecs.CpuArchitecture.X86_64);
    const [container] = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0]?.Properties
      .ContainerDefinitions;
    expect(container.Image).toBe('registry.example.com/ci/coordinator:1');
  });
});
