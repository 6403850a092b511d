import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { tableKeys } from '../../shared/aws/table-definition';
import { DynamoWaveStore } from '../../shared/aws/wave-store';
import { promotionPolicySchema, startWave, WAVE_RETENTION_DAYS } from '../../shared/domain/waves';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoWaveStore(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  'upshift',
);
const START = '2026-12-02T10:00:00.000Z';
const END = '2026-12-02T12:00:00.000Z';
const wave = startWave({
  waveId: 'wave-1',
  component: 'checkout',
  version: '1.1.0',
  release: 'abc1234',
  environment: 'development',
  order: ['development', 'staging', 'production'],
  policy: promotionPolicySchema.parse({}),
  workflowId: 'wf-1',
  at: START,
});
const retention = WAVE_RETENTION_DAYS * 86_400;

afterEach(() => ddb.reset());

describe('DynamoWaveStore: expiry (the table TTL attribute)', () => {
  it('is the attribute the table expires items by', () => {
    expect(tableKeys.ttlAttribute).toBe('expiresAt');
  });

  it('save: an ended wave carries expiresAt, a running one none', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    // Act
    await store.save(wave);
    await store.save({ ...wave, status: 'HALTED', endedAt: END });
    // Assess
    const [running, ended] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(Object.values(running?.ExpressionAttributeNames ?? {})).not.toContain('expiresAt');
    const names = ended?.ExpressionAttributeNames ?? {};
    const key = Object.keys(names).find((k) => names[k] === 'expiresAt') as string;
    expect(ended?.ExpressionAttributeValues?.[key.replace('#', ':')]).toBe(
      Date.parse(END) / 1000 + retention,
    );
  });

  it('closeSoak: the closed soak expires after the retention', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    // Act
    await store.closeSoak('wave-1', 'development', END);
    // Assess
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'WAVE#wave-1', sk: 'SOAK#development' },
      UpdateExpression: 'SET #status = :done, closedAt = :at, expiresAt = :x REMOVE gsi1pk, gsi1sk',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':done': 'DONE', ':at': END, ':x': Date.parse(END) / 1000 + retention },
    });
  });

  it('expireLinks: each link the wave reached and its release link, only while they name the wave', async () => {
    // Prepare: a newer wave took staging's link over
    ddb
      .on(UpdateCommand)
      .resolves({})
      .on(UpdateCommand, { Key: { pk: 'WAVESTAGE#checkout#staging#1.1.0', sk: 'LINK' } })
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    const statuses = ['COMPLETED', 'FAILED', 'STOPPED'] as const;
    const reached = {
      ...wave,
      stages: wave.stages.map((s, i) => ({ ...s, status: statuses[i] ?? s.status })),
    };
    // Act
    await store.expireLinks(reached, 42);
    // Assess
    expect(ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        Key: { pk: 'WAVESTAGE#checkout#development#1.1.0', sk: 'LINK' },
        UpdateExpression: 'SET expiresAt = :x',
        ConditionExpression: 'waveId = :id',
        ExpressionAttributeValues: { ':x': 42, ':id': 'wave-1' },
      }),
      expect.objectContaining({ Key: { pk: 'WAVESTAGE#checkout#staging#1.1.0', sk: 'LINK' } }),
      expect.objectContaining({ Key: { pk: 'RELEASE#abc1234', sk: 'COMPONENT#checkout' } }),
    ]);
  });

  it('linkStage: a link a wave takes over no longer expires', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});
    // Act
    await store.linkStage('checkout', 'staging', '1.1.0', 'wave-2');
    // Assess
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      UpdateExpression: 'SET waveId = :id REMOVE expiresAt',
      ExpressionAttributeValues: { ':id': 'wave-2' },
    });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBeUndefined();
  });

  it('linkStage from an ended wave: conditional on the link still naming it (or already the new wave)', async () => {
    // Prepare: the first takeover wins; the second finds the link named by a third wave
    ddb
      .on(UpdateCommand)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));
    // Act
    const taken = await store.linkStage('checkout', 'development', '1.1.0', 'wave-2', 'wave-1');
    const lost = await store.linkStage('checkout', 'development', '1.1.0', 'wave-3', 'wave-1');
    // Assess
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toEqual({
      TableName: 'upshift',
      Key: { pk: 'WAVESTAGE#checkout#development#1.1.0', sk: 'LINK' },
      UpdateExpression: 'SET waveId = :id REMOVE expiresAt',
      ConditionExpression: 'waveId IN (:seen, :id)',
      ExpressionAttributeValues: { ':id': 'wave-2', ':seen': 'wave-1' },
    });
    expect([taken, lost]).toEqual([true, false]);
  });
});
