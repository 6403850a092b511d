import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsEnvSchema, parseEnv } from '../runtime/config';
import { systemClock, timeOrderedIds } from '../runtime/system';
import { CloudWatchAlarmReader } from './cloudwatch-alarms';
import { CodeDeployDeployer } from './codedeploy-deployer';
import { dynamoStores } from './dynamo-store';
import { EcsTaskDefinitions } from './ecs-task-definitions';
import { EventBridgePublisher } from './eventbridge-publisher';
import { LambdaProber } from './lambda-prober';
import { StepFunctionsCallbacks } from './sfn-callbacks';

/**
 * The AWS side of every port. One SDK client per service per execution environment, created on
 * first use so a handler only builds the clients it needs.
 */
export function awsPorts(env: NodeJS.ProcessEnv = process.env) {
  const config = parseEnv(awsEnvSchema, env);
  const once = <T>(make: () => T) => {
    let value: T | undefined;
    return () => {
      value ??= make();
      return value;
    };
  };
  const document = once(() =>
    DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
  );
  const stores = once(() => dynamoStores(document(), config.UPSHIFT_TABLE_NAME));
  return {
    config,
    clock: systemClock,
    ids: timeOrderedIds(systemClock),
    stores,
    deployer: once(
      () => new CodeDeployDeployer(new CodeDeployClient({}), new EcsTaskDefinitions(new ECSClient({}))),
    ),
    alarms: once(() => new CloudWatchAlarmReader(new CloudWatchClient({}))),
    prober: once(() => new LambdaProber(new LambdaClient({}))),
    events: once(() => new EventBridgePublisher(new EventBridgeClient({}), config.UPSHIFT_EVENT_BUS_NAME)),
    callbacks: once(() => new StepFunctionsCallbacks(new SFNClient({}))),
  };
}

/** The ports that resume an execution waiting for a deployment (several handlers need them). */
export function finishDeploymentPorts(aws: ReturnType<typeof awsPorts>) {
  return {
    waits: aws.stores().deploymentWaits,
    callbacks: aws.callbacks(),
    workflows: aws.stores().workflows,
    catalog: aws.stores().catalog,
    deployer: aws.deployer(),
    alarms: aws.alarms(),
    clock: aws.clock,
  };
}

/** The ports that end a bake and resume its execution. */
export function finishBakePorts(aws: ReturnType<typeof awsPorts>) {
  return {
    watches: aws.stores().bakeWatches,
    alarms: aws.alarms(),
    callbacks: aws.callbacks(),
    workflows: aws.stores().workflows,
    clock: aws.clock,
    pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
  };
}
