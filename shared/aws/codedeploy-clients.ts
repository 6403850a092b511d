import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CodeDeployDeployer } from './codedeploy-deployer';
import { EcsTaskDefinitions } from './ecs-task-definitions';
import { type AwsBase, once } from './ports';

/** The deployer: CodeDeploy, and ECS for the task definition revision an image push becomes. */
export function deployerPorts(base: AwsBase) {
  return {
    deployer: once(
      () =>
        new CodeDeployDeployer(base.client(CodeDeployClient), new EcsTaskDefinitions(base.client(ECSClient))),
    ),
  };
}
