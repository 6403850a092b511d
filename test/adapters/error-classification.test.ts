import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalDynamo, startDynalite } from '../../local/dynalite';
import { CloudWatchAlarmReader } from '../../shared/aws/cloudwatch-alarms';
import { dynamoStores } from '../../shared/aws/dynamo-store';
import { EcsTaskDefinitions } from '../../shared/aws/ecs-task-definitions';
import { EventBridgePublisher } from '../../shared/aws/eventbridge-publisher';
import {
  DependencyRejected,
  DeploymentCreationFailed,
  TransientDependencyError,
} from '../../shared/domain/errors';

/** An SDK service error as the clients throw it. */
function awsError(name: string, fault: 'client' | 'server' = 'client'): Error {
  return Object.assign(new Error(`${name} from AWS`), { name, $fault: fault, $metadata: {} });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

const at = new Date('2026-12-02T10:00:00Z');

describe('DynamoDB repositories classify AWS errors', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.close();
  });

  it("a key beyond DynamoDB's 2,048-byte partition key is permanent (DependencyRejected)", async () => {
    // Prepare
    const stores = dynamoStores(dynamo.document, dynamo.tableName);

    // Act
    const error = await failure(stores.locks.acquire('x'.repeat(3000), 'wf-1', at, 60));

    // Assess
    expect(error).toBeInstanceOf(DependencyRejected);
    expect(error.message).toMatch(/^DynamoDB UpdateItem \(lock x+\) failed: ValidationException/);
  });

  it('throttling on a write is transient (TransientDependencyError)', async () => {
    // Prepare
    const document = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
    const db = mockClient(document);
    db.on(PutCommand).rejects(awsError('ProvisionedThroughputExceededException'));
    const stores = dynamoStores(document, 'upshift');

    // Act
    const lock = await failure(stores.locks.acquire('checkout#staging', 'wf-1', at, 60));
    const dedupe = await failure(stores.dedupe.claim('k', 'wf-1', at.toISOString()));

    // Assess
    expect(lock).toBeInstanceOf(TransientDependencyError);
    expect(dedupe).toBeInstanceOf(TransientDependencyError);
    db.restore();
  });
});

describe('CodeDeploy-side adapters classify AWS errors', () => {
  const ecs = mockClient(ECSClient);
  const cw = mockClient(CloudWatchClient);
  const eb = mockClient(EventBridgeClient);
  beforeEach(() => {
    ecs.reset();
    cw.reset();
    eb.reset();
  });
  const taskDefinitions = new EcsTaskDefinitions(new ECSClient({ region: 'eu-west-1' }));
  const register = () =>
    taskDefinitions.registerWithImage({ from: 'arn:td:1', containerName: 'app', imageUri: 'repo@sha256:1' });

  it('ECS: access denied is permanent, throttling transient; a refused revision fails creation, a server fault is retried', async () => {
    // Prepare
    ecs
      .on(DescribeTaskDefinitionCommand)
      .rejectsOnce(awsError('AccessDeniedException'))
      .rejectsOnce(awsError('ThrottlingException'));

    // Act
    const denied = await failure(register());
    const throttled = await failure(register());
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { family: 'web', containerDefinitions: [{ name: 'app', image: 'old' }] },
    });
    ecs.on(RegisterTaskDefinitionCommand).rejectsOnce(awsError('ClientException'));
    const refused = await failure(register());
    ecs.on(RegisterTaskDefinitionCommand).rejectsOnce(awsError('ServerException', 'server'));
    const serverFault = await failure(register());

    // Assess
    expect(denied).toBeInstanceOf(DependencyRejected);
    expect(denied.message).toContain('ECS DescribeTaskDefinition arn:td:1 failed: AccessDeniedException');
    expect(throttled).toBeInstanceOf(TransientDependencyError);
    expect(refused).toBeInstanceOf(DeploymentCreationFailed);
    expect(serverFault).toBeInstanceOf(TransientDependencyError);
  });

  it('CloudWatch: a validation error is permanent, throttling transient', async () => {
    // Prepare
    const reader = new CloudWatchAlarmReader(new CloudWatchClient({ region: 'eu-west-1' }));
    cw.on(DescribeAlarmsCommand)
      .rejectsOnce(awsError('InvalidParameterValue'))
      .rejectsOnce(awsError('Throttling'));

    // Act
    const invalid = await failure(reader.describe(['a']));
    const throttled = await failure(reader.describe(['a']));

    // Assess
    expect(invalid).toBeInstanceOf(DependencyRejected);
    expect(invalid.message).toContain('CloudWatch DescribeAlarms failed: InvalidParameterValue');
    expect(throttled).toBeInstanceOf(TransientDependencyError);
  });

  it('EventBridge: each failed entry is classified by its ErrorCode; a failed call by its error', async () => {
    // Prepare
    const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'upshift');
    const event = { source: 'upshift', detailType: 'Upgrade Completed', detail: {} };
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed' }],
      })
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
      })
      .rejectsOnce(awsError('InternalException', 'server'));

    // Act
    const malformed = await failure(publisher.publish([event]));
    const throttled = await failure(publisher.publish([event]));
    const serverFault = await failure(publisher.publish([event]));

    // Assess
    expect(malformed).toBeInstanceOf(DependencyRejected);
    expect(malformed.message).toContain('MalformedDetail: Detail is malformed');
    expect(throttled).toBeInstanceOf(TransientDependencyError);
    expect(serverFault).toBeInstanceOf(TransientDependencyError);
  });
});
