import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ECSClient } from '@aws-sdk/client-ecs';
import { CodeDeployDeployer } from './codedeploy-deployer';
import { EcsTaskDefinitions } from './ecs-task-definitions';
import { type AwsBase, once } from './ports';
import { RoutedDeployer, TargetClients } from './target-clients';

/**
 * The deployer: CodeDeploy, and ECS for the task definition revision an image push becomes. A
 * target in another account is deployed with that account's clients, as its role (decision 0028).
 */
export function deployerPorts(base: AwsBase) {
  const targets = once(() => new TargetClients(base));
  return {
    deployer: once(
      () =>
        new RoutedDeployer(
          new CodeDeployDeployer(
            base.client(CodeDeployClient),
            new EcsTaskDefinitions(base.client(ECSClient)),
          ),
          async (location, purpose) =>
            new CodeDeployDeployer(
              await targets().client(CodeDeployClient, location, purpose),
              new EcsTaskDefinitions(await targets().client(ECSClient, location, purpose)),
            ),
        ),
    ),
  };
}
