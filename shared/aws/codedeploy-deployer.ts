import { createHash } from 'node:crypto';
import {
  type CodeDeployClient,
  CreateDeploymentCommand,
  type CreateDeploymentCommandInput,
  GetDeploymentCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { isPredefinedConfig } from '../domain/deploy-configs';
import { DeploymentCreationFailed, TransientDependencyError, UnsupportedArtifact } from '../domain/errors';
import type { Artifact } from '../domain/events/artifact';
import { codeDeployApplication, codeDeployGroup } from '../domain/names';
import type { Deployer, DeploymentInfo, DeploymentRequest, DeploymentStatus } from '../ports';
import type { EcsTaskDefinitions } from './ecs-task-definitions';

/** Builds the AppSpec for Lambda and ECS as CodeDeploy documents it (PascalCase keys). */
export function buildAppSpec(request: DeploymentRequest): Record<string, unknown> {
  const { target, artifact } = request;
  if (target.type === 'lambda') {
    if (artifact.type !== 'lambda')
      throw new UnsupportedArtifact(`a Lambda target needs a lambda artifact, got ${artifact.type}`);
    const current = request.currentArtifact;
    if (current?.type !== 'lambda') {
      throw new UnsupportedArtifact('a Lambda deployment needs the current version number (CurrentVersion)');
    }
    return {
      version: 0.0,
      Resources: [
        {
          [target.functionName]: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Name: target.functionName,
              Alias: target.alias,
              CurrentVersion: current.functionVersion,
              TargetVersion: artifact.functionVersion,
            },
          },
        },
      ],
    };
  }
  if (target.type === 'ecs') {
    if (artifact.type !== 'ecs') {
      throw new UnsupportedArtifact(
        `an ECS deployment needs a task definition ARN (artifact type "ecs"), got "${artifact.type}"; register the task definition in CI and publish its ARN`,
      );
    }
    return {
      version: 0.0,
      Resources: [
        {
          TargetService: {
            Type: 'AWS::ECS::Service',
            Properties: {
              TaskDefinition: artifact.taskDefinitionArn,
              LoadBalancerInfo: { ContainerName: target.containerName, ContainerPort: target.containerPort },
            },
          },
        },
      ],
    };
  }
  throw new UnsupportedArtifact('EC2 deployments use an S3 revision, not an AppSpec string');
}

/** The CreateDeployment request for one upgrade, exactly as the CodeDeploy API takes it. */
export function buildCreateDeploymentInput(request: DeploymentRequest): CreateDeploymentCommandInput {
  if (!isPredefinedConfig(request.platform, request.deploymentConfig)) {
    throw new DeploymentCreationFailed(
      `${request.deploymentConfig} is not a ${request.platform} deployment config`,
    );
  }
  const description =
    `upshift ${request.revert ? 'revert' : 'upgrade'} ${request.workflowId}: ${request.component} ${
      request.version
    } to ${request.environment}`.slice(0, 512);
  const base: CreateDeploymentCommandInput = {
    applicationName: codeDeployApplication(request.component),
    deploymentGroupName: codeDeployGroup(request.component, request.environment),
    deploymentConfigName: request.deploymentConfig,
    description,
    // A revert runs while the group's alarms are still firing from the bad version: with the
    // group's alarm configuration it would be stopped at once and rolled back to the bad version.
    ...(request.revert
      ? {
          overrideAlarmConfiguration: { enabled: false, alarms: [] },
          autoRollbackConfiguration: { enabled: false },
        }
      : {}),
  };
  if (request.platform === 'ec2') {
    if (request.artifact.type !== 'ec2')
      throw new UnsupportedArtifact(`an EC2 target needs an ec2 artifact, got ${request.artifact.type}`);
    const r = request.artifact.revision;
    return {
      ...base,
      revision: {
        revisionType: 'S3',
        s3Location: {
          bucket: r.bucket,
          key: r.key,
          bundleType: r.bundleType,
          ...(r.version ? { version: r.version } : {}),
          ...(r.eTag ? { eTag: r.eTag } : {}),
        },
      },
    };
  }
  const content = JSON.stringify(buildAppSpec(request));
  return {
    ...base,
    revision: {
      revisionType: 'AppSpecContent',
      appSpecContent: { content, sha256: createHash('sha256').update(content).digest('hex') },
    },
  };
}

const transientNames = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalFailure',
  'TimeoutError',
]);

export class CodeDeployDeployer implements Deployer {
  constructor(
    private readonly client: CodeDeployClient,
    /** Registers task definition revisions for ECR images; without it, images cannot deploy. */
    private readonly taskDefinitions?: EcsTaskDefinitions,
  ) {}

  /** An ECR image becomes a revision of the current task definition, with the new image. */
  private async resolveArtifact(request: DeploymentRequest): Promise<DeploymentRequest> {
    const { artifact, target } = request;
    if (artifact.type !== 'image' || target.type !== 'ecs') return request;
    const current = request.currentArtifact;
    if (!this.taskDefinitions || current?.type !== 'ecs' || !artifact.imageUri) {
      throw new UnsupportedArtifact(
        'an image can deploy to ECS only from a current task definition revision and an image URI',
      );
    }
    const taskDefinitionArn = await this.taskDefinitions.registerWithImage({
      from: current.taskDefinitionArn,
      containerName: target.containerName,
      imageUri: artifact.imageUri,
    });
    return { ...request, artifact: { type: 'ecs', taskDefinitionArn } };
  }

  async createDeployment(request: DeploymentRequest): Promise<{ deploymentId: string; artifact?: Artifact }> {
    const resolved = await this.resolveArtifact(request);
    const input = buildCreateDeploymentInput(resolved);
    try {
      const out = await this.client.send(new CreateDeploymentCommand(input));
      if (!out.deploymentId) throw new DeploymentCreationFailed('CreateDeployment returned no deploymentId');
      return {
        deploymentId: out.deploymentId,
        ...(resolved !== request ? { artifact: resolved.artifact } : {}),
      };
    } catch (error) {
      const name = (error as Error).name;
      if (transientNames.has(name))
        throw new TransientDependencyError(`CreateDeployment: ${name}`, { cause: error });
      if (error instanceof DeploymentCreationFailed) throw error;
      throw new DeploymentCreationFailed(`CreateDeployment failed: ${name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async getDeployment(deploymentId: string): Promise<DeploymentInfo> {
    try {
      const out = await this.client.send(new GetDeploymentCommand({ deploymentId }));
      const info = out.deploymentInfo;
      return {
        deploymentId,
        status: (info?.status ?? 'Created') as DeploymentStatus,
        ...(info?.errorInformation?.code ? { errorCode: info.errorInformation.code } : {}),
        ...(info?.errorInformation?.message ? { errorMessage: info.errorInformation.message } : {}),
        ...(info?.rollbackInfo?.rollbackDeploymentId
          ? { rollbackDeploymentId: info.rollbackInfo.rollbackDeploymentId }
          : {}),
        ...(info?.rollbackInfo?.rollbackMessage
          ? { rollbackMessage: info.rollbackInfo.rollbackMessage }
          : {}),
        ...(info?.creator ? { creator: info.creator } : {}),
      };
    } catch (error) {
      throw new TransientDependencyError(
        `GetDeployment ${deploymentId} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async stopDeployment(
    deploymentId: string,
    autoRollback: boolean,
  ): Promise<{ status: 'Pending' | 'Succeeded' }> {
    const out = await this.client.send(
      new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: autoRollback }),
    );
    return { status: out.status === 'Succeeded' ? 'Succeeded' : 'Pending' };
  }
}
