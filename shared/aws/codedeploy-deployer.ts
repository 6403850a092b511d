import { createHash } from 'node:crypto';
import {
  BatchGetDeploymentsCommand,
  type CodeDeployClient,
  type DeploymentInfo as CodeDeployDeploymentInfo,
  type DeploymentStatus as CodeDeployStatus,
  CreateDeploymentCommand,
  type CreateDeploymentCommandInput,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { isPredefinedConfig } from '../domain/deploy-configs';
import { DeploymentCreationFailed, UnsupportedArtifact } from '../domain/errors';
import type { Artifact } from '../domain/events/artifact';
import { codeDeployApplication, codeDeployGroup } from '../domain/names';
import type {
  Deployer,
  DeploymentInfo,
  DeploymentRequest,
  DeploymentStatus,
  FindDeploymentInput,
} from '../ports';
import type { EcsTaskDefinitions } from './ecs-task-definitions';
import { awsDependencyError } from './errors';

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
  const description = `${descriptionPrefix(request.workflowId, request.revert === true)} ${
    request.component
  } ${request.version} to ${request.environment}`.slice(0, 512);
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

/**
 * How a deployment's description starts: its kind and the workflow id, then a colon. A retried
 * Deploy finds what an earlier attempt created by this prefix (workflow ids contain no colon or space).
 */
export function descriptionPrefix(workflowId: string, revert: boolean): string {
  return `upshift ${revert ? 'revert' : 'upgrade'} ${workflowId}:`;
}

/** Every deployment status: a retry looks for a deployment that may be running or may have ended. */
const allStatuses: CodeDeployStatus[] = [
  'Created',
  'Queued',
  'InProgress',
  'Baking',
  'Ready',
  'Succeeded',
  'Failed',
  'Stopped',
];

/** The intent's time is the function's clock, CodeDeploy's createTime its own: allow for skew. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** BatchGetDeployments takes at most 25 ids (BatchLimitExceededException beyond). */
const BATCH_GET_LIMIT = 25;

/** Errors with which CodeDeploy refuses a request it may accept later: worth retrying. */
const transientNames = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalFailure',
  'TimeoutError',
]);

/**
 * CreateDeployment's failure. A modeled CodeDeploy refusal (an `...Exception` name: no group, a
 * busy group, a bad revision) created nothing: DeploymentCreationFailed. Anything else (throttling,
 * a server fault, a network error or a lost response) leaves the outcome unknown, so it is
 * transient and the retry looks for the deployment first; access denied is permanent.
 */
function createDeploymentError(error: unknown): Error {
  const e = error as { name?: string; message?: string; $fault?: string };
  const name = e?.name ?? 'Error';
  const refused =
    name.endsWith('Exception') &&
    name !== 'AccessDeniedException' &&
    !transientNames.has(name) &&
    e.$fault !== 'server';
  if (refused) {
    return new DeploymentCreationFailed(`CreateDeployment failed: ${name}: ${e.message ?? ''}`, {
      cause: error,
    });
  }
  return awsDependencyError('CodeDeploy CreateDeployment', error);
}

/** The task definition an ECS deployment's AppSpec names: what a found deployment deployed. */
function deployedArtifact(info: CodeDeployDeploymentInfo): Artifact | undefined {
  const content = info.revision?.appSpecContent?.content;
  if (info.computePlatform !== 'ECS' || !content) return undefined;
  try {
    const spec = JSON.parse(content) as {
      Resources?: { [name: string]: { Properties?: { TaskDefinition?: unknown } } }[];
    };
    const taskDefinitionArn = Object.values(spec.Resources?.[0] ?? {})[0]?.Properties?.TaskDefinition;
    return typeof taskDefinitionArn === 'string' ? { type: 'ecs', taskDefinitionArn } : undefined;
  } catch {
    return undefined;
  }
}

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
      if (error instanceof DeploymentCreationFailed) throw error;
      throw createDeploymentError(error);
    }
  }

  /**
   * The deployment this workflow created in the target's group: ListDeployments of the group
   * (every status, created since `createdAfter` when given, all pages), then BatchGetDeployments
   * 25 ids at a time, matching the description's prefix (kind and workflow id) and a user creator.
   */
  async findDeployment(
    input: FindDeploymentInput,
  ): Promise<{ deploymentId: string; artifact?: Artifact } | undefined> {
    const prefix = descriptionPrefix(input.workflowId, input.revert === true);
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      try {
        const out = await this.client.send(
          new ListDeploymentsCommand({
            applicationName: codeDeployApplication(input.component),
            deploymentGroupName: codeDeployGroup(input.component, input.environment),
            includeOnlyStatuses: allStatuses,
            ...(input.createdAfter
              ? { createTimeRange: { start: new Date(Date.parse(input.createdAfter) - CLOCK_SKEW_MS) } }
              : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        ids.push(...(out.deployments ?? []));
        nextToken = out.nextToken;
      } catch (error) {
        throw awsDependencyError('CodeDeploy ListDeployments', error);
      }
    } while (nextToken);
    for (let i = 0; i < ids.length; i += BATCH_GET_LIMIT) {
      let infos: CodeDeployDeploymentInfo[];
      try {
        const out = await this.client.send(
          new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + BATCH_GET_LIMIT) }),
        );
        infos = out.deploymentsInfo ?? [];
      } catch (error) {
        throw awsDependencyError('CodeDeploy BatchGetDeployments', error);
      }
      const found = infos.find(
        (d) => d.deploymentId && d.creator !== 'codeDeployRollback' && d.description?.startsWith(prefix),
      );
      if (found?.deploymentId) {
        const artifact = deployedArtifact(found);
        return { deploymentId: found.deploymentId, ...(artifact ? { artifact } : {}) };
      }
    }
    return undefined;
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
      throw awsDependencyError(`CodeDeploy GetDeployment ${deploymentId}`, error);
    }
  }

  async stopDeployment(
    deploymentId: string,
    autoRollback: boolean,
  ): Promise<{ status: 'Pending' | 'Succeeded' }> {
    try {
      const out = await this.client.send(
        new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: autoRollback }),
      );
      return { status: out.status === 'Succeeded' ? 'Succeeded' : 'Pending' };
    } catch (error) {
      throw awsDependencyError(`CodeDeploy StopDeployment ${deploymentId}`, error);
    }
  }
}
