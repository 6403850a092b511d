import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock, EvidenceStore } from '../ports';
import { awsEnvSchema, parseEnv } from '../runtime/config';
import { systemClock, timeOrderedIds } from '../runtime/system';
import { CloudWatchAlarmReader } from './cloudwatch-alarms';
import { CodeDeployDeployer } from './codedeploy-deployer';
import { dynamoStores } from './dynamo-store';
import { EcsTaskDefinitions } from './ecs-task-definitions';
import { EventBridgePublisher } from './eventbridge-publisher';
import { HttpProber, type HttpProberOptions } from './http-prober';
import { LambdaProber } from './lambda-prober';
import { S3EvidenceStore } from './s3-evidence';
import { StepFunctionsCallbacks } from './sfn-callbacks';

/**
 * How the SDK clients are made. On AWS every client takes the Lambda environment's defaults; the
 * local twin passes its own options so the same adapters reach its emulators (the transport) on
 * its virtual clock. Nothing else differs.
 */
export interface AwsPortOptions {
  /** Extra configuration for every client (region, credentials, endpoint). */
  clientConfig?: Record<string, unknown>;
  /** Called with each client once it is made (the twin adds its transport middleware here). */
  decorate?: <C extends { middlewareStack: unknown }>(client: C) => C;
  clock?: Clock;
  /** The HTTP prober's transport and listener addresses (the twin routes them to its services). */
  http?: Pick<HttpProberOptions, 'fetch' | 'listenerUrl'>;
  /** Where raw verification evidence goes when no bucket is configured (the twin's state folder). */
  evidence?: EvidenceStore;
}

/**
 * The AWS side of every port. One SDK client per service per execution environment, created on
 * first use so a handler only builds the clients it needs.
 */
export function awsPorts(env: NodeJS.ProcessEnv = process.env, options: AwsPortOptions = {}) {
  const config = parseEnv(awsEnvSchema, env);
  const clock = options.clock ?? systemClock;
  const once = <T>(make: () => T) => {
    let value: T | undefined;
    return () => {
      value ??= make();
      return value;
    };
  };
  const client = <C extends { middlewareStack: unknown }>(Make: new (config: Record<string, unknown>) => C) =>
    (options.decorate ?? ((c: C) => c))(new Make({ ...options.clientConfig }));
  const document = once(() =>
    DynamoDBDocumentClient.from(client(DynamoDBClient), { marshallOptions: { removeUndefinedValues: true } }),
  );
  const stores = once(() => dynamoStores(document(), config.UPSHIFT_TABLE_NAME));
  return {
    config,
    clock,
    ids: timeOrderedIds(clock),
    stores,
    deployer: once(
      () => new CodeDeployDeployer(client(CodeDeployClient), new EcsTaskDefinitions(client(ECSClient))),
    ),
    alarms: once(() => new CloudWatchAlarmReader(client(CloudWatchClient))),
    prober: once(() => new LambdaProber(client(LambdaClient))),
    httpProber: once(() => new HttpProber(options.http ?? {})),
    /** S3 when UPSHIFT_EVIDENCE_BUCKET names a bucket; else what the options give, if anything. */
    evidence: once(() =>
      env.UPSHIFT_EVIDENCE_BUCKET
        ? new S3EvidenceStore(
            client(S3Client),
            env.UPSHIFT_EVIDENCE_BUCKET,
            env.UPSHIFT_EVIDENCE_KMS_KEY_ID || undefined,
          )
        : options.evidence,
    ),
    events: once(() => new EventBridgePublisher(client(EventBridgeClient), config.UPSHIFT_EVENT_BUS_NAME)),
    callbacks: once(() => new StepFunctionsCallbacks(client(SFNClient))),
  };
}

export type AwsPorts = ReturnType<typeof awsPorts>;

/** The ports that resume an execution waiting for a deployment (several handlers need them). */
export function finishDeploymentPorts(aws: AwsPorts) {
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
export function finishBakePorts(aws: AwsPorts) {
  return {
    watches: aws.stores().bakeWatches,
    alarms: aws.alarms(),
    callbacks: aws.callbacks(),
    workflows: aws.stores().workflows,
    clock: aws.clock,
    pollSeconds: aws.config.UPSHIFT_POLL_SECONDS,
  };
}
