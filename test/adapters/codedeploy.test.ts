import { createHash } from 'node:crypto';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CodeDeployDeployer } from '../../shared/aws/codedeploy-deployer';
import { DeploymentCreationFailed, TransientDependencyError } from '../../shared/domain/errors';
import type { DeploymentRequest } from '../../shared/ports';

const cd = mockClient(CodeDeployClient);
const deployer = new CodeDeployDeployer(new CodeDeployClient({ region: 'eu-west-1' }));

const lambdaRequest: DeploymentRequest = {
  workflowId: 'wf-1',
  component: 'checkout',
  environment: 'staging',
  platform: 'lambda',
  target: { type: 'lambda', functionName: 'checkout', alias: 'live' },
  version: '1.1.0',
  artifact: { type: 'lambda', functionName: 'checkout', functionVersion: '7' },
  currentVersion: '1.0.0',
  currentArtifact: { type: 'lambda', functionName: 'checkout', functionVersion: '6' },
  deploymentConfig: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
  alarmNames: ['checkout-staging-error-rate'],
};

beforeEach(() => cd.reset());

describe('CodeDeploy deployer', () => {
  it('creates a Lambda deployment with an AppSpecContent revision and its sha256', async () => {
    // Prepare
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-ABCDEF123' });
    // Act
    const out = await deployer.createDeployment(lambdaRequest);
    // Assess
    expect(out.deploymentId).toBe('d-ABCDEF123');
    const input = cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input;
    const content = input?.revision?.appSpecContent?.content as string;
    expect(input).toMatchObject({
      applicationName: 'upshift-checkout',
      deploymentGroupName: 'checkout-staging',
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      revision: { revisionType: 'AppSpecContent' },
    });
    expect(input?.description).toContain('wf-1');
    expect(input?.revision?.appSpecContent?.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    expect(JSON.parse(content)).toEqual({
      version: 0,
      Resources: [
        {
          checkout: {
            Type: 'AWS::Lambda::Function',
            Properties: { Name: 'checkout', Alias: 'live', CurrentVersion: '6', TargetVersion: '7' },
          },
        },
      ],
    });
  });

  it('creates an ECS deployment with the task definition, container name and numeric port', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-ECS000001' });
    await deployer.createDeployment({
      ...lambdaRequest,
      platform: 'ecs',
      target: {
        type: 'ecs',
        cluster: 'main',
        service: 'checkout',
        containerName: 'app',
        containerPort: 8080,
      },
      artifact: {
        type: 'ecs',
        taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:42',
      },
      deploymentConfig: 'CodeDeployDefault.ECSCanary10Percent5Minutes',
    });
    const input = cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input;
    const content = input?.revision?.appSpecContent?.content as string;
    expect(JSON.parse(content).Resources[0].TargetService).toEqual({
      Type: 'AWS::ECS::Service',
      Properties: {
        TaskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:42',
        LoadBalancerInfo: { ContainerName: 'app', ContainerPort: 8080 },
      },
    });
    expect(input?.revision?.appSpecContent?.sha256).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('creates an EC2 deployment from an S3 revision', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-EC2000001' });
    await deployer.createDeployment({
      ...lambdaRequest,
      platform: 'ec2',
      target: { type: 'ec2', autoScalingGroups: ['web'] },
      artifact: { type: 'ec2', revision: { bucket: 'builds', key: 'checkout/1.1.0.zip', bundleType: 'zip' } },
      deploymentConfig: 'CodeDeployDefault.HalfAtATime',
    });
    expect(cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input.revision).toEqual({
      revisionType: 'S3',
      s3Location: { bucket: 'builds', key: 'checkout/1.1.0.zip', bundleType: 'zip' },
    });
  });

  it('disables alarm stops and auto-rollback for a fast revert', async () => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-REVERT001' });
    await deployer.createDeployment({
      ...lambdaRequest,
      revert: true,
      deploymentConfig: 'CodeDeployDefault.LambdaAllAtOnce',
    });
    expect(cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input).toMatchObject({
      deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
      overrideAlarmConfiguration: { enabled: false, alarms: [] },
      autoRollbackConfiguration: { enabled: false },
    });
  });

  it('refuses a config of another platform before calling AWS', async () => {
    await expect(
      deployer.createDeployment({ ...lambdaRequest, deploymentConfig: 'CodeDeployDefault.ECSAllAtOnce' }),
    ).rejects.toBeInstanceOf(DeploymentCreationFailed);
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  it('reads status, error and rollback information with GetDeployment', async () => {
    cd.on(GetDeploymentCommand, { deploymentId: 'd-1' }).resolves({
      deploymentInfo: {
        deploymentId: 'd-1',
        status: 'Stopped',
        creator: 'user',
        errorInformation: { code: 'ALARM_ACTIVE', message: 'alarm fired' },
        rollbackInfo: { rollbackDeploymentId: 'd-2', rollbackMessage: 'rolled back' },
      },
    });
    expect(await deployer.getDeployment('d-1')).toEqual({
      deploymentId: 'd-1',
      status: 'Stopped',
      creator: 'user',
      errorCode: 'ALARM_ACTIVE',
      errorMessage: 'alarm fired',
      rollbackDeploymentId: 'd-2',
      rollbackMessage: 'rolled back',
    });
    expect(cd.commandCalls(GetDeploymentCommand)[0]?.args[0].input).toEqual({ deploymentId: 'd-1' });
  });

  it('stops a deployment with automatic rollback', async () => {
    cd.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'stopping' });
    expect(await deployer.stopDeployment('d-9', true)).toEqual({ status: 'Pending' });
    expect(cd.commandCalls(StopDeploymentCommand)[0]?.args[0].input).toEqual({
      deploymentId: 'd-9',
      autoRollbackEnabled: true,
    });
  });

  it.each([
    ['lambda', lambdaRequest],
    [
      'ecs',
      {
        ...lambdaRequest,
        platform: 'ecs' as const,
        target: {
          type: 'ecs' as const,
          cluster: 'main',
          service: 'checkout',
          containerName: 'app',
          containerPort: 8080,
        },
        artifact: {
          type: 'ecs' as const,
          taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:42',
        },
        deploymentConfig: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
      },
    ],
    [
      'ec2',
      {
        ...lambdaRequest,
        platform: 'ec2' as const,
        target: { type: 'ec2' as const, autoScalingGroups: [] },
        artifact: {
          type: 'ec2' as const,
          revision: { bucket: 'b', key: 'k.zip', bundleType: 'zip' as const },
        },
        deploymentConfig: 'CodeDeployDefault.OneAtATime',
      },
    ],
  ])('%s: create, then GetDeployment and StopDeployment by the returned id', async (_platform, request) => {
    cd.on(CreateDeploymentCommand).resolves({ deploymentId: 'd-PLATFORM1' });
    cd.on(GetDeploymentCommand).resolves({
      deploymentInfo: { deploymentId: 'd-PLATFORM1', status: 'InProgress' },
    });
    cd.on(StopDeploymentCommand).resolves({ status: 'Succeeded' });
    const { deploymentId } = await deployer.createDeployment(request as DeploymentRequest);
    expect((await deployer.getDeployment(deploymentId)).status).toBe('InProgress');
    expect(await deployer.stopDeployment(deploymentId, true)).toEqual({ status: 'Succeeded' });
    expect(cd.commandCalls(CreateDeploymentCommand)[0]?.args[0].input).toMatchObject({
      applicationName: 'upshift-checkout',
      deploymentGroupName: 'checkout-staging',
      deploymentConfigName: (request as DeploymentRequest).deploymentConfig,
    });
    expect(cd.commandCalls(GetDeploymentCommand)[0]?.args[0].input).toEqual({ deploymentId: 'd-PLATFORM1' });
    expect(cd.commandCalls(StopDeploymentCommand)[0]?.args[0].input).toEqual({
      deploymentId: 'd-PLATFORM1',
      autoRollbackEnabled: true,
    });
  });

  it('classifies throttling as transient', async () => {
    const error = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    cd.on(CreateDeploymentCommand).rejects(error);
    await expect(deployer.createDeployment(lambdaRequest)).rejects.toBeInstanceOf(TransientDependencyError);
  });
});
