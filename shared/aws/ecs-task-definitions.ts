import {
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandOutput,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { DeploymentCreationFailed } from '../domain/errors';
import { awsDependencyError, isPermanentAwsError } from './errors';

/**
 * Turns a pushed image into a task definition revision: the current revision, with the target
 * container's image replaced. This is what lets an ECR push upgrade an ECS service through
 * CodeDeploy, whose AppSpec names a task definition, not an image.
 */
export class EcsTaskDefinitions {
  constructor(private readonly client: ECSClient) {}

  async registerWithImage(input: { from: string; containerName: string; imageUri: string }): Promise<string> {
    let current: DescribeTaskDefinitionCommandOutput;
    try {
      current = await this.client.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: input.from, include: ['TAGS'] }),
      );
    } catch (error) {
      throw awsDependencyError(`ECS DescribeTaskDefinition ${input.from}`, error);
    }
    const td = current.taskDefinition;
    if (!td?.family) throw new DeploymentCreationFailed(`task definition ${input.from} not found`);
    const containers = td.containerDefinitions ?? [];
    if (!containers.some((c) => c.name === input.containerName)) {
      throw new DeploymentCreationFailed(
        `task definition ${input.from} has no container "${input.containerName}"`,
      );
    }
    // Only the fields RegisterTaskDefinition accepts are copied; the read-only ones (revision,
    // status, ARNs, registeredAt...) are left behind.
    const request: RegisterTaskDefinitionCommandInput = {
      family: td.family,
      containerDefinitions: containers.map((c) =>
        c.name === input.containerName ? { ...c, image: input.imageUri } : c,
      ),
      ...(td.taskRoleArn ? { taskRoleArn: td.taskRoleArn } : {}),
      ...(td.executionRoleArn ? { executionRoleArn: td.executionRoleArn } : {}),
      ...(td.networkMode ? { networkMode: td.networkMode } : {}),
      ...(td.volumes ? { volumes: td.volumes } : {}),
      ...(td.placementConstraints ? { placementConstraints: td.placementConstraints } : {}),
      ...(td.requiresCompatibilities ? { requiresCompatibilities: td.requiresCompatibilities } : {}),
      ...(td.cpu ? { cpu: td.cpu } : {}),
      ...(td.memory ? { memory: td.memory } : {}),
      ...(td.pidMode ? { pidMode: td.pidMode } : {}),
      ...(td.ipcMode ? { ipcMode: td.ipcMode } : {}),
      ...(td.proxyConfiguration ? { proxyConfiguration: td.proxyConfiguration } : {}),
      ...(td.inferenceAccelerators ? { inferenceAccelerators: td.inferenceAccelerators } : {}),
      ...(td.ephemeralStorage ? { ephemeralStorage: td.ephemeralStorage } : {}),
      ...(td.runtimePlatform ? { runtimePlatform: td.runtimePlatform } : {}),
      ...(current.tags?.length ? { tags: current.tags } : {}),
    };
    try {
      const out = await this.client.send(new RegisterTaskDefinitionCommand(request));
      const arn = out.taskDefinition?.taskDefinitionArn;
      if (!arn) throw new DeploymentCreationFailed('RegisterTaskDefinition returned no ARN');
      return arn;
    } catch (error) {
      if (error instanceof DeploymentCreationFailed) throw error;
      // ECS refused the revision (a bad field, a missing permission): it cannot deploy as is.
      // Throttling, a server fault or a lost response may be retried (a second revision is harmless).
      if (isPermanentAwsError(error) || (error as { $fault?: string }).$fault === 'client') {
        throw new DeploymentCreationFailed(
          `RegisterTaskDefinition for ${td.family} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      throw awsDependencyError(`ECS RegisterTaskDefinition for ${td.family}`, error);
    }
  }
}
