import { CodeDeployClient, CreateDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CodeDeployDeployer } from '../../shared/aws/codedeploy-deployer';
import { EcsTaskDefinitions } from '../../shared/aws/ecs-task-definitions';
import { UnsupportedArtifact } from '../../shared/domain/errors';
import type { DeploymentRequest } from '../../shared/ports';

const ecs = mockClient(ECSClient);
const cd = mockClient(CodeDeployClient);
beforeEach(() => {
  ecs.reset();
  cd.reset();
});

const current = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/storefront:30';
const imageUri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/storefront@sha256:abc';

function describeCurrent() {
  ecs.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: {
      taskDefinitionArn: current,
      family: 'storefront',
      revision: 30,
      status: 'ACTIVE',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
      containerDefinitions: [
        {
          name: 'app',
          image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/storefront:3.0.0',
          portMappings: [{ containerPort: 8080 }],
        },
        { name: 'sidecar', image: 'public.ecr.aws/envoy:v1' },
      ],
    },
    tags: [{ key: 'team', value: 'web' }],
  });
}

describe('ECS task definitions from ECR images', () => {
  it('registers the current revision with only the target container image replaced', async () => {
    describeCurrent();
    ecs.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/storefront:31',
      },
    });
    const arn = await new EcsTaskDefinitions(new ECSClient({ region: 'eu-west-1' })).registerWithImage({
      from: current,
      containerName: 'app',
      imageUri,
    });
    expect(arn).toMatch(/storefront:31$/);
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0]?.args[0].input).toEqual({
      taskDefinition: current,
      include: ['TAGS'],
    });
    const input = ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(input).toEqual({
      family: 'storefront',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
      containerDefinitions: [
        { name: 'app', image: imageUri, portMappings: [{ containerPort: 8080 }] },
        { name: 'sidecar', image: 'public.ecr.aws/envoy:v1' },
      ],
      tags: [{ key: 'team', value: 'web' }],
    });
  });

  it('deploys an ECR image to ECS as the new revision, and reports the artifact it deployed', async () => {
    describeCurrent();
    ecs.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/storefront:31',
      },
    });
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-IMAGE0001' });
    const deployer = new CodeDeployDeployer(
      new CodeDeployClient({ region: 'eu-west-1' }),
      new EcsTaskDefinitions(new ECSClient({ region: 'eu-west-1' })),
    );
    const request: DeploymentRequest = {
      workflowId: 'wf-1',
      component: 'storefront',
      environment: 'staging',
      platform: 'ecs',
      target: {
        type: 'ecs',
        cluster: 'web',
        service: 'storefront',
        containerName: 'app',
        containerPort: 8080,
      },
      version: '3.1.0',
      artifact: { type: 'image', repository: 'storefront', tag: '3.1.0', digest: 'sha256:abc', imageUri },
      currentVersion: '3.0.0',
      currentArtifact: { type: 'ecs', taskDefinitionArn: current },
      deploymentConfig: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      alarmNames: [],
    };
    const out = await deployer.createDeployment(request);
    expect(out).toEqual({
      deploymentId: 'd-IMAGE0001',
      artifact: {
        type: 'ecs',
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/storefront:31',
      },
    });
    const content = cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input.revision?.appSpecContent
      ?.content as string;
    expect(JSON.parse(content).Resources[0].TargetService.Properties.TaskDefinition).toMatch(
      /storefront:31$/,
    );
    const noEcs = new CodeDeployDeployer(new CodeDeployClient({ region: 'eu-west-1' }));
    await expect(noEcs.createDeployment(request)).rejects.toBeInstanceOf(UnsupportedArtifact);
  });
});
