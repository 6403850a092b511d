/**
 * The table's key schema, shared by the CDK stack and the local runtime's dynalite table, so
 * both always agree (an infra test checks the synthesized template against this).
 */
export const tableKeys = {
  partitionKey: 'pk',
  sortKey: 'sk',
  gsi1: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  ttlAttribute: 'expiresAt',
} as const;

export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: tableKeys.partitionKey, AttributeType: 'S' as const },
      { AttributeName: tableKeys.sortKey, AttributeType: 'S' as const },
      { AttributeName: tableKeys.gsi1.partitionKey, AttributeType: 'S' as const },
      { AttributeName: tableKeys.gsi1.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: tableKeys.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: tableKeys.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: tableKeys.gsi1.name,
        KeySchema: [
          { AttributeName: tableKeys.gsi1.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: tableKeys.gsi1.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      },
    ],
  };
}
