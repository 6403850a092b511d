import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoWorkflowStore } from '../../shared/aws/dynamo-store';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const mock = mockClient(db);

afterEach(() => mock.reset());

const item = (id: string, startedAt: string) => ({
  pk: `WORKFLOW#${id}`,
  sk: 'RECORD',
  gsi1pk: 'WORKFLOWS',
  gsi1sk: `${startedAt}#${id}`,
  workflowId: id,
  status: 'ENDED',
  startedAt,
  reasons: [],
  history: [],
  evidence: {},
});

describe('DynamoWorkflowStore.listStarted (metrics and export)', () => {
  it('reads the index range [from, to) oldest first, every page', async () => {
    // Prepare: two pages
    const lastKey = {
      pk: 'WORKFLOW#a',
      sk: 'RECORD',
      gsi1pk: 'WORKFLOWS',
      gsi1sk: '2026-11-01T10:00:00.000Z#a',
    };
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [item('a', '2026-11-01T10:00:00.000Z')], LastEvaluatedKey: lastKey })
      .resolvesOnce({ Items: [item('b', '2026-11-02T10:00:00.000Z')] });
    const store = new DynamoWorkflowStore(db, 'upshift-table');
    // Act
    const records = await store.listStarted({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-08T00:00:00.000Z',
    });
    // Assess: AWS's request shapes, the key condition on the sort key, the second page asked for
    const calls = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      {
        TableName: 'upshift-table',
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': 'WORKFLOWS',
          ':from': '2026-11-01T00:00:00.000Z',
          ':to': '2026-11-08T00:00:00.000Z#',
        },
        ScanIndexForward: true,
      },
      {
        TableName: 'upshift-table',
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': 'WORKFLOWS',
          ':from': '2026-11-01T00:00:00.000Z',
          ':to': '2026-11-08T00:00:00.000Z#',
        },
        ScanIndexForward: true,
        ExclusiveStartKey: lastKey,
      },
    ]);
    // The table's keys are not part of the record.
    expect(records.map((r) => r.workflowId)).toEqual(['a', 'b']);
    expect(records[0]).not.toHaveProperty('gsi1sk');
  });

  it('without a start, every workflow before `to`', async () => {
    // Prepare
    mock.on(QueryCommand).resolves({ Items: [] });
    // Act
    await new DynamoWorkflowStore(db, 't').listStarted({ to: '2026-11-08T00:00:00.000Z' });
    // Assess
    expect(mock.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :to',
      ExpressionAttributeValues: { ':pk': 'WORKFLOWS', ':to': '2026-11-08T00:00:00.000Z#' },
    });
  });
});
