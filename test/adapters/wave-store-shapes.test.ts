import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoWaveStore } from '../../shared/aws/wave-store';
import { promotionPolicySchema, startWave } from '../../shared/domain/waves';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoWaveStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  'upshift',
);
const wave = startWave({
  waveId: 'wave-1',
  component: 'checkout',
  version: '1.1.0',
  environment: 'development',
  order: ['development', 'staging'],
  policy: promotionPolicySchema.parse({}),
  workflowId: 'wf-1',
  at: '2026-12-02T10:00:00.000Z',
});

afterEach(() => ddb.reset());

describe('DynamoWaveStore: the requests DynamoDB receives', () => {
  it('save: one UpdateItem on the wave, conditional on the revision read, writing the next', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    // Act
    const saved = await store.save({ ...wave, rev: 4 });
    // Assess
    expect(saved).toBe(true);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TableName: 'upshift',
      Key: { pk: 'WAVE#wave-1', sk: 'WAVE' },
      ConditionExpression: 'rev = :seen',
    });
    expect(input?.ExpressionAttributeValues?.[':seen']).toBe(4);
    const names = input?.ExpressionAttributeNames ?? {};
    const revKey = Object.keys(names).find((k) => names[k] === 'rev') as string;
    expect(input?.ExpressionAttributeValues?.[revKey.replace('#', ':')]).toBe(5);
    expect(input?.UpdateExpression).toMatch(/^SET waveId = :waveId, #a0 = :a0/);
  });

  it('save: a lost race (ConditionalCheckFailedException) is false, not an error', async () => {
    // Prepare
    ddb
      .on(UpdateCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    // Act / Assess
    expect(await store.save(wave)).toBe(false);
  });

  it('create: conditional on no item; the listing keys put it in the WAVES partition by start time', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    // Act
    await store.create(wave);
    // Assess
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(Object.values(input?.ExpressionAttributeValues ?? {})).toEqual(
      expect.arrayContaining(['WAVES', '2026-12-02T10:00:00.000Z#wave-1']),
    );
  });

  it('get reads consistently; due soaks are one Query on gsi1 up to now, soonest first', async () => {
    // Prepare
    ddb
      .on(GetCommand)
      .resolves({ Item: { pk: 'WAVE#wave-1', sk: 'WAVE', gsi1pk: 'WAVES', gsi1sk: 'x', ...wave } });
    ddb.on(QueryCommand).resolves({ Items: [] });
    // Act
    const read = await store.get('wave-1');
    await store.listDueSoaks('2026-12-02T10:10:00.000Z', 100);
    // Assess
    expect(read).toEqual(wave);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'upshift',
      Key: { pk: 'WAVE#wave-1', sk: 'WAVE' },
      ConsistentRead: true,
    });
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: 'upshift',
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :due',
      ExpressionAttributeValues: { ':pk': 'SOAKS#PENDING', ':due': '2026-12-02T10:10:00.000Z~' },
      ScanIndexForward: true,
      Limit: 100,
    });
  });
});
