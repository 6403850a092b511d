import { createHash } from 'node:crypto';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CodeDeployDeployer } from '../../shared/aws/codedeploy-deployer';
import {
  DependencyRejected,
  DeploymentCreationFailed,
  TransientDependencyError,
} from '../../shared/domain/errors';
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

  it('a lost CreateDeployment response (a network error) is transient: the deployment may exist', async () => {
    // Prepare
    cd.on(CreateDeploymentCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'Error' }));
    // Act
    const error = await deployer.createDeployment(lambdaRequest).catch((e: Error) => e);
    // Assess
    expect(error).toBeInstanceOf(TransientDependencyError);
    expect((error as Error).message).toContain('CodeDeploy CreateDeployment failed');
  });

  it('access denied on CreateDeployment is permanent (DependencyRejected), not a refusal to retry', async () => {
    cd.on(CreateDeploymentCommand).rejects(
      Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $fault: 'client' }),
    );
    await expect(deployer.createDeployment(lambdaRequest)).rejects.toBeInstanceOf(DependencyRejected);
  });

  it('GetDeployment and StopDeployment: a validation error is permanent, throttling transient', async () => {
    // Prepare
    cd.on(GetDeploymentCommand).rejects(Object.assign(new Error('bad'), { name: 'ValidationException' }));
    cd.on(StopDeploymentCommand).rejects(
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
    );
    // Act
    const get = await deployer.getDeployment('d-ABCDEF123').catch((e: Error) => e);
    const stop = await deployer.stopDeployment('d-ABCDEF123', true).catch((e: Error) => e);
    // Assess
    expect(get).toBeInstanceOf(DependencyRejected);
    expect(stop).toBeInstanceOf(TransientDependencyError);
  });
});

describe('CodeDeploy deployer: findDeployment', () => {
  const where = { workflowId: 'wf-1', component: 'checkout', environment: 'staging' };
  const description = (kind: string, wf: string) => `upshift ${kind} ${wf}: checkout 1.1.0 to staging`;

  it('lists the group in every status since the intent (with clock skew), then reads 25 ids at a time', async () => {
    // Prepare: 30 ids on two pages; the match is in the second batch
    const ids = Array.from({ length: 30 }, (_, i) => `d-${String(i).padStart(9, '0')}`);
    cd.on(ListDeploymentsCommand)
      .resolvesOnce({ deployments: ids.slice(0, 20), nextToken: 'next-1' })
      .resolvesOnce({ deployments: ids.slice(20) });
    cd.on(BatchGetDeploymentsCommand)
      .resolvesOnce({
        deploymentsInfo: ids.slice(0, 25).map((deploymentId) => ({
          deploymentId,
          creator: 'user',
          description: description('upgrade', 'wf-10'),
        })),
      })
      .resolvesOnce({
        deploymentsInfo: [
          { deploymentId: ids[26], creator: 'user', description: description('revert', 'wf-1') },
          { deploymentId: ids[27], creator: 'user', description: description('upgrade', 'wf-1') },
        ],
      });

    // Act
    const found = await deployer.findDeployment({ ...where, createdAfter: '2026-12-02T10:05:00.000Z' });

    // Assess
    expect(found).toEqual({ deploymentId: ids[27] });
    const lists = cd.commandCalls(ListDeploymentsCommand).map((c) => c.args[0].input);
    expect(lists).toEqual([
      {
        applicationName: 'upshift-checkout',
        deploymentGroupName: 'checkout-staging',
        includeOnlyStatuses: [
          'Created',
          'Queued',
          'InProgress',
          'Baking',
          'Ready',
          'Succeeded',
          'Failed',
          'Stopped',
        ],
        createTimeRange: { start: new Date('2026-12-02T10:00:00.000Z') },
      },
      expect.objectContaining({ nextToken: 'next-1' }),
    ]);
    expect(cd.commandCalls(BatchGetDeploymentsCommand).map((c) => c.args[0].input)).toEqual([
      { deploymentIds: ids.slice(0, 25) },
      { deploymentIds: ids.slice(25) },
    ]);
  });

  it('finds a revert by its kind, skips CodeDeploy rollbacks, and reads the task definition of an ECS one', async () => {
    // Prepare
    const content = JSON.stringify({
      version: 0,
      Resources: [
        { TargetService: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: 'arn:td:4' } } },
      ],
    });
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-ROLLBACK1', 'd-REVERT001'] });
    cd.on(BatchGetDeploymentsCommand).resolves({
      deploymentsInfo: [
        {
          deploymentId: 'd-ROLLBACK1',
          creator: 'codeDeployRollback',
          description: description('revert', 'wf-1'),
        },
        {
          deploymentId: 'd-REVERT001',
          creator: 'user',
          computePlatform: 'ECS',
          description: description('revert', 'wf-1'),
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
        },
      ],
    });

    // Act
    const found = await deployer.findDeployment({ ...where, revert: true });

    // Assess
    expect(found).toEqual({
      deploymentId: 'd-REVERT001',
      artifact: { type: 'ecs', taskDefinitionArn: 'arn:td:4' },
    });
    expect(cd.commandCalls(ListDeploymentsCommand)[0]?.args[0].input.createTimeRange).toBeUndefined();
  });

  it('answers undefined when nothing matches, and classifies ListDeployments failures', async () => {
    // Prepare
    cd.on(ListDeploymentsCommand).resolvesOnce({ deployments: [] });
    // Act
    const none = await deployer.findDeployment(where);
    cd.on(ListDeploymentsCommand).rejects(
      Object.assign(new Error('denied'), { name: 'AccessDeniedException' }),
    );
    const denied = await deployer.findDeployment(where).catch((e: Error) => e);
    cd.on(ListDeploymentsCommand).rejects(Object.assign(new Error('slow'), { name: 'ThrottlingException' }));
    const throttled = await deployer.findDeployment(where).catch((e: Error) => e);
    // Assess
    expect(none).toBeUndefined();
    expect(cd.commandCalls(BatchGetDeploymentsCommand)).toEqual([]);
    expect(denied).toBeInstanceOf(DependencyRejected);
    expect(throttled).toBeInstanceOf(TransientDependencyError);
  });
});
